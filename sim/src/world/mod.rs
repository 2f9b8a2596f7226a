//! The simulated world: users, guilds, channels, roles, members, messages, interactions and
//! application commands. One file per entity; each entity renders its own Discord JSON.
//!
//! The world is plain data behind one lock in [`crate::Simulator`]; writers (scripting calls and
//! REST routes) mutate it and then hand the resulting gateway dispatches to the gateway hub.

pub mod channel;
pub mod command;
pub mod guild;
pub mod interaction;
pub mod member;
pub mod message;
pub mod permissions;
pub mod role;
pub mod user;

use std::collections::{BTreeMap, HashMap};

pub use channel::Channel;
pub use command::Command;
pub use guild::Guild;
pub use interaction::Interaction;
pub use member::Member;
pub use message::Message;
pub use role::Role;
pub use user::User;

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
    /// Global application commands.
    pub global_commands: Vec<Command>,
    /// Guild application commands.
    pub guild_commands: HashMap<u64, Vec<Command>>,
    /// DM channel id per user.
    pub dm_channels: HashMap<u64, u64>,
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
            global_commands: Vec::new(),
            guild_commands: HashMap::new(),
            dm_channels: HashMap::new(),
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
        world.create_role(guild, "Moderator", permissions::MANAGE_MESSAGES);
        let admin = world.create_role(guild, "Admin", permissions::ADMINISTRATOR);
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
        self.create_channel(id, "general");
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

    /// Creates a role in a guild; returns its id (0 if the guild is unknown).
    pub fn create_role(&mut self, guild: u64, name: &str, permissions: u64) -> u64 {
        let id = self.ids.next();
        let Some(g) = self.guilds.get_mut(&guild) else {
            return 0;
        };
        let position = g.roles.len() as u32;
        g.roles
            .insert(id, Role::new(id, name, permissions, position));
        id
    }

    /// Adds a user to a guild (no-op if already a member); returns whether it was added.
    pub fn add_member(&mut self, guild: u64, user: u64) -> bool {
        let Some(g) = self.guilds.get_mut(&guild) else {
            return false;
        };
        if g.members.contains_key(&user) {
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
        Some(g.to_create_json(channels, members))
    }
}
