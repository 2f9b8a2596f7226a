//! The simulated world: users, guilds, channels, roles, members, messages, interactions and
//! application commands. One file per entity; each entity renders its own Discord JSON.
//!
//! The world is plain data behind one lock in [`crate::Simulator`]; writers (scripting calls and
//! REST routes) mutate it and then hand the resulting gateway dispatches to the gateway hub.

pub mod cdn;
pub mod channel;
pub mod command;
pub mod guild;
pub mod interaction;
pub mod member;
pub mod message;
pub mod permissions;
pub mod role;
pub mod user;
pub mod voice;
pub mod webhook;

use std::collections::{BTreeMap, HashMap};

pub use cdn::Cdn;
pub use channel::{Channel, Overwrite};
pub use command::Command;
pub use guild::{Emoji, Guild, GuildSettings};
pub use interaction::Interaction;
pub use member::Member;
pub use message::{Attachment, Message, Reaction, ReactionEmoji};
pub use role::Role;
pub use user::User;
pub use voice::VoiceState;
pub use webhook::Webhook;

use crate::snowflake::Snowflakes;

/// All world state.
#[derive(Debug)]
pub struct World {
    /// Id generator.
    pub ids: Snowflakes,
    /// Users by id.
    pub users: BTreeMap<u64, User>,
    /// Guilds by id.
    pub guilds: BTreeMap<u64, Guild>,
    /// Channels (guild text channels and DMs) by id.
    pub channels: BTreeMap<u64, Channel>,
    /// Messages by id.
    pub messages: HashMap<u64, Message>,
    /// Interactions by id.
    pub interactions: HashMap<u64, Interaction>,
    /// Interaction id by token.
    pub interaction_tokens: HashMap<String, u64>,
    /// Files uploaded for slash commands' attachment options, by attachment id: name and
    /// size (their contents, when given, are in [`World::cdn`]).
    pub uploads: HashMap<u64, (String, u64)>,
    /// What the simulated CDN serves: attachments' contents and emoji images.
    pub cdn: Cdn,
    /// Global application commands.
    pub global_commands: Vec<Command>,
    /// Guild application commands.
    pub guild_commands: HashMap<u64, Vec<Command>>,
    /// DM channel id per user.
    pub dm_channels: HashMap<u64, u64>,
    /// Channel webhooks by id.
    pub webhooks: BTreeMap<u64, Webhook>,
    /// The bot user (also the application id, as for new Discord applications).
    pub bot_id: u64,
    /// The application id.
    pub application_id: u64,
    /// The human owner.
    pub owner_id: u64,
    /// A plain member.
    pub guest_id: u64,
    /// The default guild.
    pub default_guild: u64,
    /// Its #general channel.
    pub default_channel: u64,
}

impl World {
    /// The default world: guild "Zoryx Sandbox" with #general and #bot-commands, roles
    /// @everyone, the bot's managed role (ADMINISTRATOR), Moderator and Admin, and the users
    /// bot, operator (owner, Admin) and guest.
    ///
    /// Its ids depend only on `seed` (see [`crate::snowflake::DEFAULT_WORLD_MS`]).
    pub fn new(seed: u64) -> Self {
        let ids = Snowflakes::new(seed);
        ids.pin(crate::snowflake::DEFAULT_WORLD_MS);
        let bot_id = ids.next();
        let owner_id = ids.next();
        let guest_id = ids.next();
        let mut world = Self {
            ids,
            users: BTreeMap::new(),
            guilds: BTreeMap::new(),
            channels: BTreeMap::new(),
            messages: HashMap::new(),
            interactions: HashMap::new(),
            interaction_tokens: HashMap::new(),
            uploads: HashMap::new(),
            cdn: Cdn::default(),
            global_commands: Vec::new(),
            guild_commands: HashMap::new(),
            dm_channels: HashMap::new(),
            webhooks: BTreeMap::new(),
            bot_id,
            application_id: bot_id,
            owner_id,
            guest_id,
            default_guild: 0,
            default_channel: 0,
        };
        world.users.insert(bot_id, User::new(bot_id, "Zoryx", true));
        world
            .users
            .insert(owner_id, User::new(owner_id, "operator", false));
        world
            .users
            .insert(guest_id, User::new(guest_id, "guest", false));
        let guild = world.create_guild("Zoryx Sandbox", owner_id);
        let general = world.guilds[&guild].channels[0];
        world.create_channel(guild, "bot-commands");
        let moderator = world.create_role(guild, "Moderator", permissions::MANAGE_MESSAGES);
        let admin = world.create_role(guild, "Admin", permissions::ADMINISTRATOR);
        // Bottom to top: Moderator, Admin, then the bot's role, dragged to the top as a server
        // that lets its bot moderate everyone does.
        world.set_role_position(guild, moderator, 1);
        world.set_role_position(guild, admin, 2);
        world.add_member(guild, guest_id);
        world.add_member(guild, owner_id);
        if let Some(member) = world
            .guilds
            .get_mut(&guild)
            .and_then(|g| g.members.get_mut(&owner_id))
        {
            member.roles.push(admin);
        }
        world.default_guild = guild;
        world.default_channel = general;
        world.ids.unpin();
        world
    }

    /// Adds a user.
    pub fn create_user(&mut self, name: &str, bot: bool) -> u64 {
        let id = self.ids.next();
        self.users.insert(id, User::new(id, name, bot));
        id
    }

    /// Creates a guild owned by `owner` with the @everyone role, a #general channel, and the bot
    /// and the owner as members.
    pub fn create_guild(&mut self, name: &str, owner: u64) -> u64 {
        let id = self.ids.next();
        let mut guild = Guild::new(id, name, owner);
        guild.roles.insert(id, Role::everyone(id));
        self.guilds.insert(id, guild);
        let general = self.create_channel(id, "general");
        if let Some(g) = self.guilds.get_mut(&id) {
            g.settings.system_channel_id = Some(general);
        }
        self.add_member(id, self.bot_id);
        self.add_member(id, owner);
        // The bot's managed role, as Discord creates it when a bot is invited with permissions.
        let bot_name = self
            .users
            .get(&self.bot_id)
            .map_or("bot".to_owned(), |u| u.name.clone());
        let role = self.create_role(id, &bot_name, permissions::ADMINISTRATOR);
        let bot_id = self.bot_id;
        if let Some(g) = self.guilds.get_mut(&id) {
            if let Some(r) = g.roles.get_mut(&role) {
                r.bot_id = Some(bot_id);
            }
            if let Some(m) = g.members.get_mut(&bot_id) {
                m.roles.push(role);
            }
        }
        id
    }

    /// Creates a text channel in a guild; returns its id (0 if the guild is unknown).
    pub fn create_channel(&mut self, guild: u64, name: &str) -> u64 {
        let id = self.ids.next();
        let Some(g) = self.guilds.get_mut(&guild) else {
            return 0;
        };
        let position = g.channels.len() as u32;
        g.channels.push(id);
        self.channels
            .insert(id, Channel::guild_text(id, guild, name, position));
        id
    }

    /// Creates a guild voice channel; returns its id (0 if the guild is unknown).
    pub fn create_voice_channel(&mut self, guild: u64, name: &str) -> u64 {
        let id = self.create_channel(guild, name);
        if let Some(c) = self.channels.get_mut(&id) {
            *c = Channel::voice(id, guild, name, c.position);
        }
        id
    }

    /// Creates a guild category; returns its id (0 if the guild is unknown).
    pub fn create_category(&mut self, guild: u64, name: &str) -> u64 {
        let id = self.create_channel(guild, name);
        if let Some(c) = self.channels.get_mut(&id) {
            *c = Channel::category(id, guild, name, c.position);
        }
        id
    }

    /// Creates a role in a guild at position 1, just above @everyone, as Discord places new
    /// roles (the others move up); returns its id (0 if the guild is unknown).
    pub fn create_role(&mut self, guild: u64, name: &str, permissions: u64) -> u64 {
        let id = self.ids.next();
        let Some(g) = self.guilds.get_mut(&guild) else {
            return 0;
        };
        g.roles.insert(id, Role::new(id, name, permissions, 0));
        self.set_role_position(guild, id, 1);
        id
    }

    /// Moves a role to `position` (clamped to 1..=number of roles below @everyone) and
    /// renumbers the others 1, 2, ... in their order, as Discord does. @everyone stays at 0.
    pub fn set_role_position(&mut self, guild: u64, role: u64, position: u32) {
        let Some(g) = self.guilds.get_mut(&guild) else {
            return;
        };
        if role == guild || !g.roles.contains_key(&role) {
            return;
        }
        let mut order: Vec<(u32, u64)> = g
            .roles
            .values()
            .filter(|r| r.id != guild && r.id != role)
            .map(|r| (r.position, r.id))
            .collect();
        order.sort_unstable();
        let index = (position.max(1) as usize - 1).min(order.len());
        order.insert(index, (0, role));
        for (i, (_, id)) in order.iter().enumerate() {
            if let Some(r) = g.roles.get_mut(id) {
                r.position = i as u32 + 1;
            }
        }
    }

    /// Adds a custom emoji to a guild, with a placeholder image on the CDN
    /// ([`cdn::placeholder_png`]); returns its id (0 if the guild is unknown).
    pub fn create_emoji(&mut self, guild: u64, name: &str) -> u64 {
        let id = self.ids.next();
        let Some(g) = self.guilds.get_mut(&guild) else {
            return 0;
        };
        g.emojis.insert(
            id,
            Emoji {
                id,
                name: name.to_owned(),
                animated: false,
                roles: Vec::new(),
                user_id: None,
            },
        );
        self.cdn.emojis.insert(
            id,
            cdn::EmojiImage {
                content_type: "image/png",
                data: cdn::placeholder_png(id).into(),
            },
        );
        id
    }

    /// Deletes a role of a guild as Discord does: it is taken from every member, every
    /// channel overwrite naming it and every emoji restricted to it. Returns the channels
    /// whose overwrites changed (`None` if the guild or the role is unknown, or for
    /// @everyone).
    pub fn delete_role(&mut self, guild: u64, role: u64) -> Option<Vec<u64>> {
        let g = self.guilds.get_mut(&guild)?;
        if role == guild {
            return None;
        }
        g.roles.remove(&role)?;
        for member in g.members.values_mut() {
            member.roles.retain(|r| *r != role);
        }
        for emoji in g.emojis.values_mut() {
            emoji.roles.retain(|r| *r != role);
        }
        let mut changed = Vec::new();
        for cid in &g.channels {
            if let Some(c) = self.channels.get_mut(cid) {
                let before = c.overwrites.len();
                c.overwrites.retain(|o| !(o.kind == 0 && o.id == role));
                if c.overwrites.len() != before {
                    changed.push(*cid);
                }
            }
        }
        Some(changed)
    }

    /// A custom emoji of any guild the bot is in.
    pub fn find_emoji(&self, id: u64) -> Option<&Emoji> {
        self.guilds.values().find_map(|g| g.emojis.get(&id))
    }

    /// Adds a user to a guild (no-op if already a member or banned); returns whether it was
    /// added.
    pub fn add_member(&mut self, guild: u64, user: u64) -> bool {
        let Some(g) = self.guilds.get_mut(&guild) else {
            return false;
        };
        if g.members.contains_key(&user) || g.bans.contains_key(&user) {
            return false;
        }
        g.members.insert(user, Member::new(user));
        true
    }

    /// The DM channel with `user`, created on first use.
    pub fn dm_channel(&mut self, user: u64) -> u64 {
        if let Some(id) = self.dm_channels.get(&user) {
            return *id;
        }
        let id = self.ids.next();
        self.channels.insert(id, Channel::dm(id, user));
        self.dm_channels.insert(user, id);
        id
    }

    /// The user's JSON object, or a placeholder for an unknown id.
    pub fn user_json(&self, id: u64) -> serde_json::Value {
        match self.users.get(&id) {
            Some(user) => user.to_json(),
            None => User::new(id, "unknown-user", false).to_json(),
        }
    }

    /// The author object of a message: its user, or the webhook's author for webhook messages.
    pub fn author_json(&self, message: &Message) -> serde_json::Value {
        match &message.webhook_author {
            Some(author) => author.clone(),
            None => self.user_json(message.author_id),
        }
    }

    /// The member's JSON object (with its user) in a guild.
    pub fn member_json(&self, guild: u64, user: u64) -> Option<serde_json::Value> {
        let member = self.guilds.get(&guild)?.members.get(&user)?;
        Some(member.to_json(self.user_json(user)))
    }

    /// Computed guild-level permissions of a member (ADMINISTRATOR and the owner get all).
    pub fn member_permissions(&self, guild: u64, user: u64) -> u64 {
        let Some(g) = self.guilds.get(&guild) else {
            return 0;
        };
        if g.owner_id == user {
            return permissions::ALL;
        }
        let mut perms = g.roles.get(&guild).map_or(0, |r| r.permissions);
        if let Some(member) = g.members.get(&user) {
            for role in &member.roles {
                if let Some(r) = g.roles.get(role) {
                    perms |= r.permissions;
                }
            }
        }
        if perms & permissions::ADMINISTRATOR != 0 {
            permissions::ALL
        } else {
            perms
        }
    }

    /// Computed permissions of a user in a channel, with Discord's algorithm: the guild-level
    /// permissions (all for the owner and ADMINISTRATOR), then the @everyone overwrite, the
    /// member's role overwrites combined, then the member's own overwrite; without
    /// VIEW_CHANNEL nothing is left. In a DM: [`permissions::DM`].
    pub fn channel_permissions(&self, channel: u64, user: u64) -> u64 {
        let Some(c) = self.channels.get(&channel) else {
            return 0;
        };
        let Some(guild) = c.guild_id else {
            return permissions::DM;
        };
        let Some(g) = self.guilds.get(&guild) else {
            return 0;
        };
        let mut perms = self.member_permissions(guild, user);
        if perms == permissions::ALL {
            return perms;
        }
        let apply = |perms: u64, allow: u64, deny: u64| (perms & !deny) | allow;
        if let Some(o) = c.overwrites.iter().find(|o| o.kind == 0 && o.id == guild) {
            perms = apply(perms, o.allow, o.deny);
        }
        let roles = g
            .members
            .get(&user)
            .map(|m| m.roles.as_slice())
            .unwrap_or_default();
        let (allow, deny) = c
            .overwrites
            .iter()
            .filter(|o| o.kind == 0 && o.id != guild && roles.contains(&o.id))
            .fold((0, 0), |(a, d), o| (a | o.allow, d | o.deny));
        perms = apply(perms, allow, deny);
        if let Some(o) = c.overwrites.iter().find(|o| o.kind == 1 && o.id == user) {
            perms = apply(perms, o.allow, o.deny);
        }
        if perms & permissions::VIEW_CHANNEL == 0 {
            return 0;
        }
        perms
    }

    /// Whether `actor` may moderate `target` in a guild by Discord's role hierarchy: nobody
    /// acts on the owner, the owner acts on everyone else, and anyone else only on members
    /// whose highest role is strictly below their own.
    pub fn outranks(&self, guild: u64, actor: u64, target: u64) -> bool {
        let Some(g) = self.guilds.get(&guild) else {
            return false;
        };
        if target == g.owner_id {
            return false;
        }
        if actor == g.owner_id {
            return true;
        }
        g.highest_position(actor) > g.highest_position(target)
    }

    /// Whether `actor` may assign, edit or delete `role` by the role hierarchy: the owner
    /// may; anyone else only below their own highest role.
    pub fn role_below(&self, guild: u64, actor: u64, role: u64) -> bool {
        let Some(g) = self.guilds.get(&guild) else {
            return false;
        };
        if actor == g.owner_id {
            return true;
        }
        g.roles
            .get(&role)
            .is_some_and(|r| r.position < g.highest_position(actor))
    }

    /// The full GUILD_CREATE payload of a guild.
    pub fn guild_create_json(&self, guild: u64) -> Option<serde_json::Value> {
        let g = self.guilds.get(&guild)?;
        let channels: Vec<_> = g
            .channels
            .iter()
            .filter_map(|c| self.channels.get(c))
            .map(|c| c.to_json_in_guild_create())
            .collect();
        let members: Vec<_> = g
            .members
            .keys()
            .filter_map(|u| self.member_json(guild, *u))
            .collect();
        let voice_states: Vec<_> = g.voice_states.values().map(|v| v.to_json(None)).collect();
        Some(g.to_create_json(channels, members, voice_states))
    }

    /// The VOICE_STATE_UPDATE payload of a user in a guild: their voice state, or (after they
    /// left) one with `channel_id` null.
    pub fn voice_state_json(&self, guild: u64, user: u64) -> serde_json::Value {
        let member = self.member_json(guild, user);
        let state = self
            .guilds
            .get(&guild)
            .and_then(|g| g.voice_states.get(&user))
            .cloned()
            .unwrap_or_else(|| VoiceState::left(user));
        let mut json = state.to_json(member);
        json["guild_id"] = serde_json::json!(guild.to_string());
        json
    }
}
