//! The [`Simulator`] handle: starting the server and scripting the world.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::config::SimConfig;
use crate::error::SimError;
use crate::events::{MessageRecord, RecordedRequest, SimEvent, UserInfo};
use crate::gateway::hub::Outgoing;
use crate::gateway::{Dispatch, Hub, Target, opcodes};
use crate::rest::ratelimit::ScriptedLimits;
use crate::world::{Attachment, GuildSettings, Interaction, Message, VoiceState, World};

/// Shared state of a running simulator.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: SimConfig,
    pub(crate) addr: SocketAddr,
    pub(crate) world: Mutex<World>,
    pub(crate) hub: Hub,
    pub(crate) events: broadcast::Sender<SimEvent>,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    pub(crate) limits: ScriptedLimits,
    pub(crate) shutdown: CancellationToken,
    /// While set, new gateway connections are refused (see [`Simulator::refuse_gateway`]).
    pub(crate) gateway_refused: AtomicBool,
    session_counter: AtomicU64,
    /// The presence each shard last set (IDENTIFY's `presence`, op 3), by shard id.
    pub(crate) presences: Mutex<std::collections::BTreeMap<u32, Value>>,
    /// Discord's identify limits: buckets, session starts, and what was refused.
    pub(crate) identify: Mutex<IdentifyLimits>,
    /// OAuth2: redirect URIs, codes and access tokens ([`crate::oauth`]).
    pub(crate) oauth: Mutex<crate::oauth::OAuthState>,
}

/// The identify limits' state.
#[derive(Debug, Default)]
pub(crate) struct IdentifyLimits {
    /// Bucket (`shard_id % max_concurrency`) → when it last identified.
    last: std::collections::HashMap<u32, std::time::Instant>,
    /// IDENTIFYs accepted.
    pub(crate) accepted: u64,
    /// IDENTIFYs refused for coming too soon or past the daily limit.
    pub(crate) refused: u64,
}

impl IdentifyLimits {
    /// Takes the bucket's turn for `shard` now, or says why not.
    pub(crate) fn take(&mut self, config: &SimConfig, shard: u32) -> Result<(), &'static str> {
        if self.accepted >= u64::from(config.session_start_limit) {
            self.refused += 1;
            return Err("session start limit reached");
        }
        let bucket = shard % u32::from(config.max_concurrency.max(1));
        let now = std::time::Instant::now();
        // A twentieth of the interval (250 ms of Discord's 5 s) is let through early: the
        // jitter between a queue's release and the IDENTIFY reaching the gateway, which Discord
        // does not punish either.
        let early = config.identify_interval / 20;
        if let Some(last) = self.last.get(&bucket)
            && now.duration_since(*last) + early < config.identify_interval
        {
            self.refused += 1;
            return Err("identified too soon after another shard of the same bucket");
        }
        self.last.insert(bucket, now);
        self.accepted += 1;
        Ok(())
    }

    /// Session starts left today.
    pub(crate) fn remaining(&self, config: &SimConfig) -> u64 {
        u64::from(config.session_start_limit).saturating_sub(self.accepted)
    }
}

impl Inner {
    /// Locks the world.
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks the OAuth2 state.
    pub(crate) fn oauth(&self) -> MutexGuard<'_, crate::oauth::OAuthState> {
        self.oauth.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks the identify limits.
    pub(crate) fn identify_limits(&self) -> MutexGuard<'_, IdentifyLimits> {
        self.identify.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new, unique session id.
    pub(crate) fn new_session_id(&self) -> String {
        let n = self.session_counter.fetch_add(1, Ordering::Relaxed);
        format!(
            "{:016x}{:016x}",
            self.config.seed,
            n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n
        )
    }

    /// The `ws://` gateway URL.
    pub(crate) fn gateway_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// READY's data and the GUILD_CREATE payloads of the guilds on `shard`.
    pub(crate) fn ready_payload(&self, session_id: &str, shard: [u32; 2]) -> (Value, Vec<Value>) {
        let world = self.world();
        let on_shard: Vec<u64> = world
            .guilds
            .keys()
            .copied()
            .filter(|g| (g >> 22) % u64::from(shard[1].max(1)) == u64::from(shard[0]))
            .collect();
        let ready = json!({
            "v": 10,
            "user": world.users.get(&world.bot_id).map(|u| {
                let mut me = u.to_me_json();
                if let Some(obj) = me.as_object_mut() { obj.remove("email"); }
                me
            }),
            "guilds": on_shard.iter().map(|g| json!({"id": g.to_string(), "unavailable": true})).collect::<Vec<_>>(),
            "session_id": session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url(),
            "shard": shard,
            "application": {"id": world.application_id.to_string(), "flags": 0},
            "private_channels": [],
            "presences": [],
            "relationships": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
            "_trace": ["zoryx-sim"],
        });
        let guilds = on_shard
            .iter()
            .filter_map(|g| world.guild_create_json(*g))
            .collect();
        (ready, guilds)
    }

    /// Broadcasts an event to subscribers (nobody listening is fine).
    ///
    /// While a REST request is being answered (see [`Inner::deferring_events`]) events wait
    /// until the request is recorded, so a subscriber that sees an event also finds its
    /// request in [`Simulator::requests`].
    pub(crate) fn emit(&self, event: SimEvent) {
        let event = DEFERRED.with(|d| match d.borrow_mut().as_mut() {
            Some(queue) => {
                queue.push(event);
                None
            }
            None => Some(event),
        });
        if let Some(event) = event {
            let _ = self.events.send(event);
        }
    }

    /// Runs `f` (synchronous: no await inside) with events held back; returns its result
    /// and the held events, to be sent with [`Inner::release_events`].
    pub(crate) fn deferring_events<R>(&self, f: impl FnOnce() -> R) -> (R, Vec<SimEvent>) {
        DEFERRED.with(|d| *d.borrow_mut() = Some(Vec::new()));
        let result = f();
        let held = DEFERRED.with(|d| d.borrow_mut().take()).unwrap_or_default();
        (result, held)
    }

    /// Sends events held back by [`Inner::deferring_events`].
    pub(crate) fn release_events(&self, events: Vec<SimEvent>) {
        for event in events {
            let _ = self.events.send(event);
        }
    }

    /// Records a REST request, dropping the oldest half when the log is full.
    pub(crate) fn record(&self, request: RecordedRequest) {
        let mut log = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        if log.len() >= self.config.request_log_capacity.max(2) {
            let half = log.len() / 2;
            log.drain(..half);
        }
        log.push(request);
    }

    /// Takes the bot out of guild `id` (kicked, or it left with `DELETE
    /// /users/@me/guilds/{id}`): the guild, its channels and messages, commands and webhooks
    /// go, and GUILD_DELETE is sent. `false`: the bot is not in it.
    pub(crate) fn remove_guild(&self, world: &mut World, id: u64) -> bool {
        let Some(guild) = world.guilds.remove(&id) else {
            return false;
        };
        for channel in guild.channels {
            if let Some(c) = world.channels.remove(&channel) {
                for m in c.messages {
                    world.messages.remove(&m);
                }
            }
        }
        world.guild_commands.remove(&id);
        world.webhooks.retain(|_, w| w.guild_id != id);
        self.dispatch(
            "GUILD_DELETE",
            json!({"id": id.to_string(), "unavailable": false}),
            Target::Guild(id),
            opcodes::INTENT_GUILDS,
        );
        true
    }

    /// Sends a dispatch to the sessions it concerns.
    pub(crate) fn dispatch(&self, event: &'static str, data: Value, target: Target, intent: u64) {
        self.hub.dispatch(&Dispatch {
            event,
            data,
            target,
            intent,
            data_without_content: None,
        });
    }

    /// Puts `user` in the voice channel `channel` of `guild` (`None`: out of voice) and
    /// dispatches VOICE_STATE_UPDATE (GUILD_VOICE_STATES); returns whether anything changed.
    /// Call it while the member is still in the guild, so the event carries the member.
    pub(crate) fn set_voice(
        &self,
        world: &mut World,
        guild: u64,
        user: u64,
        channel: Option<u64>,
    ) -> bool {
        let session = format!("{:032x}", world.ids.next());
        let Some(g) = world.guilds.get_mut(&guild) else {
            return false;
        };
        let before = g.voice_states.get(&user).cloned();
        if before.as_ref().and_then(|v| v.channel_id) == channel {
            return false;
        }
        match channel {
            // A move keeps the voice session; a join starts one.
            Some(c) => {
                let session = before.map_or(session, |v| v.session_id);
                g.voice_states
                    .insert(user, VoiceState::joined(user, c, session));
            }
            None => {
                g.voice_states.remove(&user);
            }
        }
        let payload = world.voice_state_json(guild, user);
        self.dispatch(
            "VOICE_STATE_UPDATE",
            payload,
            Target::Guild(guild),
            opcodes::INTENT_GUILD_VOICE_STATES,
        );
        true
    }

    /// Dispatches MESSAGE_CREATE for a stored message.
    pub(crate) fn dispatch_message_create(&self, world: &World, message: &Message) {
        let author = world.author_json(message);
        let member = message
            .guild_id
            .filter(|_| message.webhook_author.is_none())
            .and_then(|g| {
                let mut m = world.member_json(g, message.author_id)?;
                m.as_object_mut()?.remove("user");
                Some(m)
            });
        let mentions_bot = message.content.contains(&format!("<@{}>", world.bot_id))
            || message.content.contains(&format!("<@!{}>", world.bot_id));
        let mut data = message.to_json(author.clone(), member.clone(), true);
        let mut blank = message.to_json(author, member, false);
        if mentions_bot {
            let mention = json!([world.user_json(world.bot_id)]);
            data["mentions"] = mention.clone();
            blank["mentions"] = mention;
        }
        let (target, intent) = match message.guild_id {
            Some(g) => (Target::Guild(g), opcodes::INTENT_GUILD_MESSAGES),
            None => (Target::Direct, opcodes::INTENT_DIRECT_MESSAGES),
        };
        // Discord sends content without MESSAGE_CONTENT in DMs and when the bot is mentioned.
        let without = (message.guild_id.is_some() && !mentions_bot).then_some(blank);
        self.hub.dispatch(&Dispatch {
            event: "MESSAGE_CREATE",
            data,
            target,
            intent,
            data_without_content: without,
        });
    }
}

/// A user's file: name, size, and its contents when they are stored.
type UserFile<'a> = (&'a str, u64, Option<&'a [u8]>);

thread_local! {
    /// Events held back while a REST request is answered on this thread.
    static DEFERRED: std::cell::RefCell<Option<Vec<SimEvent>>> = const { std::cell::RefCell::new(None) };
}

/// A running Discord simulator. Cheap to clone; every clone drives the same server.
#[derive(Debug, Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

impl Simulator {
    /// Binds the server, builds the default world and starts serving REST and the gateway.
    pub async fn start(config: SimConfig) -> Result<Simulator, SimError> {
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|source| SimError::Bind {
                addr: config.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: config.bind,
            source,
        })?;
        let (events, _) = broadcast::channel(config.event_capacity.max(16));
        let inner = Arc::new(Inner {
            world: Mutex::new(World::new(config.seed)),
            config,
            addr,
            hub: Hub::new(),
            events,
            requests: Mutex::new(Vec::new()),
            limits: ScriptedLimits::default(),
            shutdown: CancellationToken::new(),
            gateway_refused: AtomicBool::new(false),
            session_counter: AtomicU64::new(1),
            presences: Mutex::default(),
            identify: Mutex::default(),
            oauth: Mutex::default(),
        });
        let app = crate::rest::router(inner.clone());
        let token = inner.shutdown.clone();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(token.cancelled_owned());
            if let Err(error) = serve.await {
                tracing::warn!(%error, "simulator server stopped");
            }
        });
        tracing::debug!(%addr, "discord simulator listening");
        Ok(Simulator { inner })
    }

    /// The REST base to give serenity's `HttpBuilder::proxy` (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// The simulated CDN's origin (`http://127.0.0.1:PORT`, no trailing slash): what a host's
    /// CDN base should be set to, so that `https://cdn.discordapp.com/...` and
    /// `https://media.discordapp.net/...` URLs, rewritten to it with their path and query,
    /// lead to the files and emoji images the simulator holds (the same listener as the API:
    /// `/attachments/...`, `/ephemeral-attachments/...`, `/emojis/...`).
    pub fn cdn_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// The gateway URL (`ws://127.0.0.1:PORT/ws`) that `/gateway` reports.
    pub fn gateway_url(&self) -> String {
        self.inner.gateway_url()
    }

    /// Forgets every session no connection carries, as Discord does once a closed session's
    /// resume window has passed: a RESUME of one gets op 9 `false`. Returns how many.
    pub fn expire_sessions(&self) -> usize {
        self.inner.hub.expire_detached()
    }

    /// IDENTIFYs accepted so far (each a session start, as Discord counts them).
    pub fn identify_count(&self) -> u64 {
        self.inner.identify_limits().accepted
    }

    /// IDENTIFYs refused with op 9 because they broke Discord's limits: sooner than
    /// [`SimConfig::identify_interval`] after another of the same `max_concurrency` bucket, or
    /// past the daily session starts.
    pub fn identify_refusals(&self) -> u64 {
        self.inner.identify_limits().refused
    }

    /// The bot token the simulator accepts.
    pub fn token(&self) -> &str {
        &self.inner.config.token
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.inner.world()
    }

    fn user_info(world: &World, id: u64) -> UserInfo {
        world.users.get(&id).map_or(
            UserInfo {
                id,
                name: String::new(),
                bot: false,
            },
            |u| UserInfo {
                id,
                name: u.name.clone(),
                bot: u.bot,
            },
        )
    }

    /// The bot's user.
    pub fn bot_user(&self) -> UserInfo {
        let world = self.world();
        Self::user_info(&world, world.bot_id)
    }

    /// Registers an OAuth2 redirect URI for the application, as the Developer Portal's
    /// OAuth2 page does; `/oauth2/authorize` refuses any other.
    pub fn add_oauth_redirect(&self, uri: &str) {
        let mut oauth = self.inner.oauth();
        if !oauth.redirects.iter().any(|r| r == uri) {
            oauth.redirects.push(uri.to_owned());
        }
    }

    /// Logs the browser in to the simulated Discord as `user` (`None`: logged out): its
    /// `/oauth2/authorize` then skips the consent page and sends `user` straight back with a
    /// code, as Discord does for an account that authorized the application before.
    pub fn sign_in_oauth_as(&self, user: Option<u64>) {
        self.inner.oauth().signed_in = user;
    }

    /// The application's OAuth2 client secret.
    pub fn oauth_client_secret(&self) -> &str {
        &self.inner.config.oauth_client_secret
    }

    /// The application id (equal to the bot user id, as for current Discord applications).
    pub fn application_id(&self) -> u64 {
        self.world().application_id
    }

    /// The default guild "Zoryx Sandbox".
    pub fn default_guild(&self) -> u64 {
        self.world().default_guild
    }

    /// Its #general channel.
    pub fn default_channel(&self) -> u64 {
        self.world().default_channel
    }

    /// The default guild's #bot-commands channel.
    pub fn commands_channel(&self) -> u64 {
        let world = self.world();
        world
            .guilds
            .get(&world.default_guild)
            .and_then(|g| g.channels.get(1).copied())
            .unwrap_or(world.default_channel)
    }

    /// "operator": the human meant as the bot owner (owner of the default guild, role Admin).
    pub fn owner(&self) -> UserInfo {
        let world = self.world();
        Self::user_info(&world, world.owner_id)
    }

    /// "guest": a plain member with no special roles.
    pub fn guest(&self) -> UserInfo {
        let world = self.world();
        Self::user_info(&world, world.guest_id)
    }

    /// A user by id.
    pub fn user(&self, id: u64) -> Option<UserInfo> {
        let world = self.world();
        world
            .users
            .contains_key(&id)
            .then(|| Self::user_info(&world, id))
    }

    /// Creates a human user (not a member of any guild; see [`Simulator::add_member`]).
    pub fn add_user(&self, name: &str) -> UserInfo {
        let mut world = self.world();
        let id = world.create_user(name, false);
        Self::user_info(&world, id)
    }

    /// Creates `guilds` guilds of `members` members each (the bot, the operator and
    /// `members - 2` new users), spread evenly over the shards (each guild's id is made on its
    /// own millisecond, and a guild's shard is `(id >> 22) % shards`). Nothing is dispatched:
    /// call it before the bot connects (a big bot's world, for scale benchmarks). Returns the
    /// guild ids in order.
    pub fn populate(&self, guilds: u32, members: u32) -> Vec<u64> {
        let mut world = self.world();
        let owner = world.owner_id;
        let base = crate::snowflake::now_ms() + 1;
        let mut ids = Vec::with_capacity(guilds as usize);
        for g in 0..guilds {
            world.ids.pin(base + u64::from(g));
            let guild = world.create_guild(&format!("Guild {g}"), owner);
            for m in 2..members {
                let user = world.create_user(&format!("member{g}-{m}"), false);
                world.add_member(guild, user);
            }
            ids.push(guild);
        }
        world.ids.unpin();
        ids
    }

    /// Creates a bot user other than ours (its messages carry `bot: true`).
    pub fn add_bot_user(&self, name: &str) -> UserInfo {
        let mut world = self.world();
        let id = world.create_user(name, true);
        Self::user_info(&world, id)
    }

    /// Creates a guild owned by the operator, with @everyone and #general, the bot joined;
    /// sends GUILD_CREATE.
    pub fn add_guild(&self, name: &str) -> u64 {
        let mut world = self.world();
        let owner = world.owner_id;
        let id = world.create_guild(name, owner);
        if let Some(payload) = world.guild_create_json(id) {
            self.inner.dispatch(
                "GUILD_CREATE",
                payload,
                Target::Guild(id),
                opcodes::INTENT_GUILDS,
            );
        }
        id
    }

    /// Removes a guild (the bot was removed from it); sends GUILD_DELETE.
    pub fn remove_guild(&self, id: u64) -> Result<(), SimError> {
        let mut world = self.world();
        if self.inner.remove_guild(&mut world, id) {
            Ok(())
        } else {
            Err(SimError::Unknown { kind: "guild", id })
        }
    }

    /// Ids of the guilds the bot is in.
    pub fn guilds(&self) -> Vec<u64> {
        self.world().guilds.keys().copied().collect()
    }

    /// A guild's name.
    pub fn guild_name(&self, id: u64) -> Option<String> {
        self.world().guilds.get(&id).map(|g| g.name.clone())
    }

    /// A guild as Discord's guild object (`GET /guilds/{id}`), with its settings.
    pub fn guild(&self, id: u64) -> Option<Value> {
        self.world().guilds.get(&id).map(|g| g.to_json())
    }

    /// A guild's settings (what `PATCH /guilds/{id}` changes besides the name).
    pub fn guild_settings(&self, id: u64) -> Option<GuildSettings> {
        self.world().guilds.get(&id).map(|g| g.settings.clone())
    }

    /// A guild's custom emojis as Discord's emoji objects (with `roles`).
    pub fn emojis(&self, guild: u64) -> Vec<Value> {
        self.world()
            .guilds
            .get(&guild)
            .map(|g| g.emojis_json())
            .unwrap_or_default()
    }

    /// A channel's name without `#` (for a DM: the other user's name).
    pub fn channel_name(&self, id: u64) -> Option<String> {
        let world = self.world();
        let c = world.channels.get(&id)?;
        Some(match c.recipient {
            Some(user) => world
                .users
                .get(&user)
                .map_or_else(String::new, |u| u.name.clone()),
            None => c.name.clone(),
        })
    }

    /// Member user ids of a guild.
    pub fn members(&self, guild: u64) -> Vec<u64> {
        self.world()
            .guilds
            .get(&guild)
            .map(|g| g.members.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Channel ids of a guild, in order.
    pub fn channels(&self, guild: u64) -> Vec<u64> {
        self.world()
            .guilds
            .get(&guild)
            .map(|g| g.channels.clone())
            .unwrap_or_default()
    }

    /// Creates a text channel; sends CHANNEL_CREATE.
    pub fn add_channel(&self, guild: u64, name: &str) -> Result<u64, SimError> {
        self.add_guild_channel(guild, |world| world.create_channel(guild, name))
    }

    /// Creates a voice channel; sends CHANNEL_CREATE. Members join it with
    /// [`Simulator::inject_voice_join`].
    pub fn add_voice_channel(&self, guild: u64, name: &str) -> Result<u64, SimError> {
        self.add_guild_channel(guild, |world| world.create_voice_channel(guild, name))
    }

    /// Creates a channel in `guild` with `create`; sends CHANNEL_CREATE.
    fn add_guild_channel(
        &self,
        guild: u64,
        create: impl FnOnce(&mut World) -> u64,
    ) -> Result<u64, SimError> {
        let mut world = self.world();
        if !world.guilds.contains_key(&guild) {
            return Err(SimError::Unknown {
                kind: "guild",
                id: guild,
            });
        }
        let id = create(&mut world);
        if let Some(c) = world.channels.get(&id) {
            self.inner.dispatch(
                "CHANNEL_CREATE",
                c.to_json(None),
                Target::Guild(guild),
                opcodes::INTENT_GUILDS,
            );
        }
        Ok(id)
    }

    /// Adds a user to a guild; sends GUILD_MEMBER_ADD. A user banned from the guild is
    /// refused ([`SimError::Invalid`]), as Discord keeps banned users out.
    pub fn add_member(&self, guild: u64, user: u64) -> Result<(), SimError> {
        let mut world = self.world();
        if !world.users.contains_key(&user) {
            return Err(SimError::Unknown {
                kind: "user",
                id: user,
            });
        }
        if !world.guilds.contains_key(&guild) {
            return Err(SimError::Unknown {
                kind: "guild",
                id: guild,
            });
        }
        if world.guilds[&guild].bans.contains_key(&user) {
            return Err(SimError::Invalid(format!(
                "user {user} is banned from guild {guild}"
            )));
        }
        if !world.add_member(guild, user) {
            return Err(SimError::Invalid(format!(
                "user {user} is already in guild {guild}"
            )));
        }
        if let Some(mut payload) = world.member_json(guild, user) {
            payload["guild_id"] = json!(guild.to_string());
            self.inner.dispatch(
                "GUILD_MEMBER_ADD",
                payload,
                Target::Guild(guild),
                opcodes::INTENT_GUILD_MEMBERS,
            );
        }
        Ok(())
    }

    /// Removes a member; sends GUILD_MEMBER_REMOVE (after VOICE_STATE_UPDATE if they were in
    /// voice).
    pub fn remove_member(&self, guild: u64, user: u64) -> Result<(), SimError> {
        let mut world = self.world();
        let g = world.guilds.get(&guild).ok_or(SimError::Unknown {
            kind: "guild",
            id: guild,
        })?;
        if !g.members.contains_key(&user) {
            return Err(SimError::Unknown {
                kind: "member",
                id: user,
            });
        }
        self.inner.set_voice(&mut world, guild, user, None);
        if let Some(g) = world.guilds.get_mut(&guild) {
            g.members.remove(&user);
        }
        let payload = json!({"guild_id": guild.to_string(), "user": world.user_json(user)});
        self.inner.dispatch(
            "GUILD_MEMBER_REMOVE",
            payload,
            Target::Guild(guild),
            opcodes::INTENT_GUILD_MEMBERS,
        );
        Ok(())
    }

    /// Creates a role; sends GUILD_ROLE_CREATE.
    pub fn add_role(&self, guild: u64, name: &str, permissions: u64) -> Result<u64, SimError> {
        let mut world = self.world();
        if !world.guilds.contains_key(&guild) {
            return Err(SimError::Unknown {
                kind: "guild",
                id: guild,
            });
        }
        let id = world.create_role(guild, name, permissions);
        let role = world.guilds[&guild].roles[&id].to_json();
        self.inner.dispatch(
            "GUILD_ROLE_CREATE",
            json!({"guild_id": guild.to_string(), "role": role}),
            Target::Guild(guild),
            opcodes::INTENT_GUILDS,
        );
        Ok(id)
    }

    /// Deletes a role as Discord does: it is taken from every member, every channel
    /// permission overwrite naming it and every emoji restricted to it; sends
    /// GUILD_ROLE_DELETE, then CHANNEL_UPDATE for each channel whose overwrites changed.
    pub fn remove_role(&self, guild: u64, role: u64) -> Result<(), SimError> {
        let mut world = self.world();
        let g = world.guilds.get(&guild).ok_or(SimError::Unknown {
            kind: "guild",
            id: guild,
        })?;
        if role == guild {
            return Err(SimError::Invalid(
                "the @everyone role cannot be deleted".into(),
            ));
        }
        if !g.roles.contains_key(&role) {
            return Err(SimError::Unknown {
                kind: "role",
                id: role,
            });
        }
        crate::rest::guilds::remove_role(&self.inner, &mut world, guild, role);
        Ok(())
    }

    /// Deletes a guild channel as a member with Manage Channels would in Discord's client: its
    /// messages and webhooks go, a category's channels stay without it; sends CHANNEL_DELETE.
    pub fn remove_channel(&self, channel: u64) -> Result<(), SimError> {
        let mut world = self.world();
        let guild = world
            .channels
            .get(&channel)
            .and_then(|c| c.guild_id)
            .ok_or(SimError::Unknown {
                kind: "guild channel",
                id: channel,
            })?;
        crate::rest::channels::remove(&self.inner, &mut world, guild, channel)
            .map(drop)
            .map_err(|e| SimError::Invalid(format!("{e:?}")))
    }

    /// Sets a role's permission bits (e.g. to take permissions away from the bot's own role,
    /// see [`Simulator::bot_role`]); sends GUILD_ROLE_UPDATE.
    pub fn set_role_permissions(
        &self,
        guild: u64,
        role: u64,
        permissions: u64,
    ) -> Result<(), SimError> {
        let mut world = self.world();
        let r = world
            .guilds
            .get_mut(&guild)
            .ok_or(SimError::Unknown {
                kind: "guild",
                id: guild,
            })?
            .roles
            .get_mut(&role)
            .ok_or(SimError::Unknown {
                kind: "role",
                id: role,
            })?;
        r.permissions = permissions;
        let json = r.to_json();
        self.inner.dispatch(
            "GUILD_ROLE_UPDATE",
            json!({"guild_id": guild.to_string(), "role": json}),
            Target::Guild(guild),
            opcodes::INTENT_GUILDS,
        );
        Ok(())
    }

    /// Moves a role to `position` (1 is just above @everyone; the other roles are renumbered
    /// as Discord does); sends GUILD_ROLE_UPDATE for each role that moved. Moving a role above
    /// the bot's role puts its members out of the bot's reach.
    pub fn set_role_position(&self, guild: u64, role: u64, position: u32) -> Result<(), SimError> {
        let mut world = self.world();
        let g = world.guilds.get(&guild).ok_or(SimError::Unknown {
            kind: "guild",
            id: guild,
        })?;
        if !g.roles.contains_key(&role) {
            return Err(SimError::Unknown {
                kind: "role",
                id: role,
            });
        }
        if role == guild {
            return Err(SimError::Invalid("the @everyone role stays at 0".into()));
        }
        let before: Vec<(u64, u32)> = g.roles.values().map(|r| (r.id, r.position)).collect();
        world.set_role_position(guild, role, position);
        for (id, position) in before {
            let r = &world.guilds[&guild].roles[&id];
            if r.position != position {
                self.inner.dispatch(
                    "GUILD_ROLE_UPDATE",
                    json!({"guild_id": guild.to_string(), "role": r.to_json()}),
                    Target::Guild(guild),
                    opcodes::INTENT_GUILDS,
                );
            }
        }
        Ok(())
    }

    /// The bot's managed role in a guild (created with the guild; ADMINISTRATOR, on top of
    /// the default guild's roles).
    pub fn bot_role(&self, guild: u64) -> Option<u64> {
        let world = self.world();
        let bot = world.bot_id;
        world
            .guilds
            .get(&guild)?
            .roles
            .values()
            .find(|r| r.bot_id == Some(bot))
            .map(|r| r.id)
    }

    /// Adds a custom emoji to a guild (usable in reactions as `name:id`), with a small
    /// placeholder PNG as its image on the CDN (`/emojis/{id}.png`, the same bytes for the
    /// same id); sends GUILD_EMOJIS_UPDATE. Returns its id.
    pub fn add_emoji(&self, guild: u64, name: &str) -> Result<u64, SimError> {
        let mut world = self.world();
        if !world.guilds.contains_key(&guild) {
            return Err(SimError::Unknown {
                kind: "guild",
                id: guild,
            });
        }
        let id = world.create_emoji(guild, name);
        self.inner.dispatch(
            "GUILD_EMOJIS_UPDATE",
            json!({"guild_id": guild.to_string(), "emojis": world.guilds[&guild].emojis_json()}),
            Target::Guild(guild),
            opcodes::INTENT_GUILD_EXPRESSIONS,
        );
        Ok(id)
    }

    /// The user ids banned from a guild.
    pub fn bans(&self, guild: u64) -> Vec<u64> {
        self.world()
            .guilds
            .get(&guild)
            .map(|g| g.bans.keys().copied().collect())
            .unwrap_or_default()
    }

    /// A member as Discord's member object (nick, roles, `communication_disabled_until`...).
    pub fn member(&self, guild: u64, user: u64) -> Option<Value> {
        self.world().member_json(guild, user)
    }

    /// A channel as Discord's channel object (with its `permission_overwrites`).
    pub fn channel(&self, id: u64) -> Option<Value> {
        let world = self.world();
        let c = world.channels.get(&id)?;
        let recipient = c.recipient.map(|u| world.user_json(u));
        Some(c.to_json(recipient))
    }

    /// The user closes their DMs: the bot's messages in its DM with them are refused with
    /// 50007 "Cannot send messages to this user" (opening the DM channel still works).
    pub fn close_dms(&self, user: u64) -> Result<(), SimError> {
        self.set_dms(user, true)
    }

    /// Undoes [`Simulator::close_dms`].
    pub fn open_dms(&self, user: u64) -> Result<(), SimError> {
        self.set_dms(user, false)
    }

    fn set_dms(&self, user: u64, closed: bool) -> Result<(), SimError> {
        let mut world = self.world();
        let u = world.users.get_mut(&user).ok_or(SimError::Unknown {
            kind: "user",
            id: user,
        })?;
        u.dms_closed = closed;
        Ok(())
    }

    /// Roles of a guild as Discord role objects.
    pub fn roles(&self, guild: u64) -> Vec<Value> {
        self.world()
            .guilds
            .get(&guild)
            .map(|g| g.roles.values().map(|r| r.to_json()).collect())
            .unwrap_or_default()
    }

    fn change_member_role(
        &self,
        guild: u64,
        user: u64,
        role: u64,
        add: bool,
    ) -> Result<(), SimError> {
        let mut world = self.world();
        let g = world.guilds.get_mut(&guild).ok_or(SimError::Unknown {
            kind: "guild",
            id: guild,
        })?;
        if !g.roles.contains_key(&role) {
            return Err(SimError::Unknown {
                kind: "role",
                id: role,
            });
        }
        let member = g.members.get_mut(&user).ok_or(SimError::Unknown {
            kind: "member",
            id: user,
        })?;
        let had = member.roles.contains(&role);
        if add && !had {
            member.roles.push(role);
        } else if !add && had {
            member.roles.retain(|r| *r != role);
        } else {
            return Ok(());
        }
        if let Some(mut payload) = world.member_json(guild, user) {
            payload["guild_id"] = json!(guild.to_string());
            self.inner.dispatch(
                "GUILD_MEMBER_UPDATE",
                payload,
                Target::Guild(guild),
                opcodes::INTENT_GUILD_MEMBERS,
            );
        }
        Ok(())
    }

    /// Gives a member a role; sends GUILD_MEMBER_UPDATE.
    pub fn add_member_role(&self, guild: u64, user: u64, role: u64) -> Result<(), SimError> {
        self.change_member_role(guild, user, role, true)
    }

    /// Takes a role from a member; sends GUILD_MEMBER_UPDATE.
    pub fn remove_member_role(&self, guild: u64, user: u64, role: u64) -> Result<(), SimError> {
        self.change_member_role(guild, user, role, false)
    }

    /// A user posts `content` in `channel`: stores the message and sends MESSAGE_CREATE.
    /// Returns the message id.
    pub async fn inject_message(
        &self,
        channel: u64,
        author: u64,
        content: &str,
    ) -> Result<u64, SimError> {
        self.post_user_message(channel, author, content, None, &[])
    }

    /// Like [`Simulator::inject_message`], replying to `reply_to`.
    pub async fn inject_reply(
        &self,
        channel: u64,
        author: u64,
        content: &str,
        reply_to: u64,
    ) -> Result<u64, SimError> {
        self.post_user_message(channel, author, content, Some(reply_to), &[])
    }

    /// Like [`Simulator::inject_message`], with files: `(file name, size in bytes)` each.
    /// The message carries their attachment objects; the contents are not stored (their CDN
    /// URLs answer 404; see [`Simulator::inject_file_data`] for files with contents).
    pub async fn inject_files(
        &self,
        channel: u64,
        author: u64,
        content: &str,
        files: &[(&str, u64)],
    ) -> Result<u64, SimError> {
        let files: Vec<UserFile<'_>> = files
            .iter()
            .map(|(name, size)| (*name, *size, None))
            .collect();
        self.post_user_message(channel, author, content, None, &files)
    }

    /// Like [`Simulator::inject_files`], with the files' contents: `(file name, bytes)` each.
    /// Each attachment's `size` is the length of its bytes and its `content_type` is guessed
    /// from the extension as Discord does (`application/json; charset=utf-8`, `image/png`,
    /// `text/plain; charset=utf-8`, ...; none for an unknown one). The bytes are served by
    /// the CDN at the attachment's URL (see [`Simulator::cdn_url`]), also after the message
    /// is deleted. More than ten files is refused ([`SimError::Invalid`]), as Discord's client
    /// refuses them. Returns the message id.
    pub async fn inject_file_data(
        &self,
        channel: u64,
        author: u64,
        content: &str,
        files: &[(&str, &[u8])],
    ) -> Result<u64, SimError> {
        if files.len() > crate::rest::messages::MAX_FILES {
            return Err(SimError::Invalid(format!(
                "{} files: Discord's client sends at most {} with a message",
                files.len(),
                crate::rest::messages::MAX_FILES
            )));
        }
        let files: Vec<UserFile<'_>> = files
            .iter()
            .map(|(name, bytes)| (*name, bytes.len() as u64, Some(*bytes)))
            .collect();
        self.post_user_message(channel, author, content, None, &files)
    }

    /// A user uploads a file for a slash command's attachment option (type 11): returns the
    /// attachment id to give as the option's value; the interaction's `resolved.attachments`
    /// then describes it, as Discord's client does. Only a name and a size: its CDN URL
    /// answers 404 (see [`Simulator::upload_data`]).
    pub fn upload(&self, filename: &str, size: u64) -> u64 {
        let mut world = self.world();
        let id = world.ids.next();
        world.uploads.insert(id, (filename.to_owned(), size));
        id
    }

    /// Like [`Simulator::upload`], with the file's contents: its size is their length, its
    /// `content_type` guessed from the extension (as [`Simulator::inject_file_data`]), and
    /// its `ephemeral-attachments` URL in `resolved.attachments` serves the bytes on the CDN
    /// ([`Simulator::cdn_url`]). Returns the attachment id.
    pub fn upload_data(&self, filename: &str, bytes: &[u8]) -> u64 {
        let mut world = self.world();
        let id = world.ids.next();
        world
            .uploads
            .insert(id, (filename.to_owned(), bytes.len() as u64));
        world.cdn.files.insert(
            id,
            crate::world::cdn::CdnFile {
                channel: None,
                filename: filename.to_owned(),
                content_type: crate::world::cdn::guess_content_type(filename).map(str::to_owned),
                data: bytes.into(),
            },
        );
        id
    }

    /// A user edits their own message to read `content`: sends MESSAGE_UPDATE (the whole
    /// message, with its `edited_timestamp`).
    pub async fn inject_edit(
        &self,
        message: u64,
        user: u64,
        content: &str,
    ) -> Result<(), SimError> {
        let mut world = self.world();
        let m = world.messages.get(&message).ok_or(SimError::Unknown {
            kind: "message",
            id: message,
        })?;
        if m.author_id != user || m.webhook_id.is_some() {
            return Err(SimError::Invalid(format!(
                "user {user} did not write message {message}: only its author edits a message"
            )));
        }
        crate::rest::messages::edit_stored(
            &self.inner,
            &mut world,
            message,
            &json!({"content": content}),
        );
        Ok(())
    }

    /// A user deletes a message: their own, or anyone's in a guild channel where they have
    /// MANAGE_MESSAGES. Sends MESSAGE_DELETE.
    pub async fn inject_delete(&self, message: u64, user: u64) -> Result<(), SimError> {
        let mut world = self.world();
        let m = world.messages.get(&message).ok_or(SimError::Unknown {
            kind: "message",
            id: message,
        })?;
        let moderator = m.guild_id.is_some()
            && world.channel_permissions(m.channel_id, user)
                & crate::world::permissions::MANAGE_MESSAGES
                != 0;
        if m.author_id != user && !moderator {
            return Err(SimError::Invalid(format!(
                "user {user} may not delete message {message}: it is not theirs and they lack \
                 MANAGE_MESSAGES there"
            )));
        }
        crate::rest::messages::delete_stored(&self.inner, &mut world, message);
        Ok(())
    }

    fn post_user_message(
        &self,
        channel: u64,
        author: u64,
        content: &str,
        reply_to: Option<u64>,
        files: &[UserFile<'_>],
    ) -> Result<u64, SimError> {
        let mut world = self.world();
        if !world.users.contains_key(&author) {
            return Err(SimError::Unknown {
                kind: "user",
                id: author,
            });
        }
        let c = world.channels.get(&channel).ok_or(SimError::Unknown {
            kind: "channel",
            id: channel,
        })?;
        if !c.is_text() {
            return Err(SimError::Invalid(format!(
                "channel {channel} is a category: nobody posts there"
            )));
        }
        let guild = c.guild_id;
        if let Some(g) = guild
            && !world
                .guilds
                .get(&g)
                .is_some_and(|g| g.members.contains_key(&author))
        {
            return Err(SimError::Invalid(format!(
                "user {author} is not a member of guild {g}"
            )));
        }
        let id = world.ids.next();
        let mut message = Message::new(id, channel, guild, author, content);
        message.reply_to = reply_to;
        for (filename, size, data) in files {
            let id = world.ids.next();
            message.attachments.push(Attachment {
                id,
                filename: (*filename).to_owned(),
                size: *size,
                content_type: data
                    .and_then(|_| crate::world::cdn::guess_content_type(filename))
                    .map(str::to_owned),
                description: None,
                data: data.map(Into::into),
            });
        }
        self.inner.dispatch_message_create(&world, &message);
        store_message(&mut world, message);
        Ok(id)
    }

    /// A user reacts to a message with `emoji` (a unicode emoji such as `"👍"`, or `name:id`
    /// of a custom emoji, see [`Simulator::add_emoji`]): sends MESSAGE_REACTION_ADD (with
    /// `member` in guilds). Reacting again with the same emoji changes nothing.
    pub async fn inject_reaction(
        &self,
        channel: u64,
        message: u64,
        user: u64,
        emoji: &str,
    ) -> Result<(), SimError> {
        let mut world = self.world();
        let emoji = self.reaction_target(&world, channel, message, user, emoji)?;
        crate::rest::reactions::add(&self.inner, &mut world, message, user, &emoji);
        Ok(())
    }

    /// A user takes back their reaction: sends MESSAGE_REACTION_REMOVE if they had reacted.
    pub async fn inject_unreaction(
        &self,
        channel: u64,
        message: u64,
        user: u64,
        emoji: &str,
    ) -> Result<(), SimError> {
        let mut world = self.world();
        let emoji = self.reaction_target(&world, channel, message, user, emoji)?;
        crate::rest::reactions::remove(&self.inner, &mut world, message, user, &emoji);
        Ok(())
    }

    fn reaction_target(
        &self,
        world: &World,
        channel: u64,
        message: u64,
        user: u64,
        emoji: &str,
    ) -> Result<crate::world::ReactionEmoji, SimError> {
        if !world.users.contains_key(&user) {
            return Err(SimError::Unknown {
                kind: "user",
                id: user,
            });
        }
        let c = world.channels.get(&channel).ok_or(SimError::Unknown {
            kind: "channel",
            id: channel,
        })?;
        if world
            .messages
            .get(&message)
            .is_none_or(|m| m.channel_id != channel)
        {
            return Err(SimError::Unknown {
                kind: "message",
                id: message,
            });
        }
        let present = match c.guild_id {
            Some(g) => world
                .guilds
                .get(&g)
                .is_some_and(|g| g.members.contains_key(&user)),
            None => c.recipient == Some(user) || user == world.bot_id,
        };
        if !present {
            return Err(SimError::Invalid(format!(
                "user {user} cannot see channel {channel}"
            )));
        }
        crate::rest::reactions::parse_emoji(world, emoji)
            .ok_or_else(|| SimError::Invalid(format!("unknown emoji {emoji:?}")))
    }

    /// A member joins the voice channel `channel` of `guild` from no voice channel: sends
    /// VOICE_STATE_UPDATE (with `member`) to sessions with GUILD_VOICE_STATES. A member already
    /// in voice moves with [`Simulator::inject_voice_move`] instead.
    pub async fn inject_voice_join(
        &self,
        guild: u64,
        channel: u64,
        user: u64,
    ) -> Result<(), SimError> {
        let mut world = self.world();
        Self::voice_target(&world, guild, Some(channel), user)?;
        if let Some(now) = world.guilds[&guild].voice_states.get(&user) {
            return Err(SimError::Invalid(format!(
                "user {user} is in voice channel {} already: move instead",
                now.channel_id.unwrap_or_default()
            )));
        }
        self.inner.set_voice(&mut world, guild, user, Some(channel));
        Ok(())
    }

    /// A member in voice moves to the voice channel `channel`: sends VOICE_STATE_UPDATE.
    pub async fn inject_voice_move(
        &self,
        guild: u64,
        channel: u64,
        user: u64,
    ) -> Result<(), SimError> {
        let mut world = self.world();
        Self::voice_target(&world, guild, Some(channel), user)?;
        match world.guilds[&guild]
            .voice_states
            .get(&user)
            .and_then(|v| v.channel_id)
        {
            None => {
                return Err(SimError::Invalid(format!(
                    "user {user} is in no voice channel: join first"
                )));
            }
            Some(now) if now == channel => {
                return Err(SimError::Invalid(format!(
                    "user {user} is in voice channel {channel} already"
                )));
            }
            Some(_) => {}
        }
        self.inner.set_voice(&mut world, guild, user, Some(channel));
        Ok(())
    }

    /// A member leaves voice: sends VOICE_STATE_UPDATE with `channel_id` null.
    pub async fn inject_voice_leave(&self, guild: u64, user: u64) -> Result<(), SimError> {
        let mut world = self.world();
        Self::voice_target(&world, guild, None, user)?;
        if !self.inner.set_voice(&mut world, guild, user, None) {
            return Err(SimError::Invalid(format!(
                "user {user} is in no voice channel"
            )));
        }
        Ok(())
    }

    /// The voice channel a member is in, if any.
    pub fn voice_channel(&self, guild: u64, user: u64) -> Option<u64> {
        self.world()
            .guilds
            .get(&guild)?
            .voice_states
            .get(&user)?
            .channel_id
    }

    /// Checks a voice move: a member of `guild`, and `channel` one of its voice channels.
    fn voice_target(
        world: &World,
        guild: u64,
        channel: Option<u64>,
        user: u64,
    ) -> Result<(), SimError> {
        let g = world.guilds.get(&guild).ok_or(SimError::Unknown {
            kind: "guild",
            id: guild,
        })?;
        if !g.members.contains_key(&user) {
            return Err(SimError::Unknown {
                kind: "member",
                id: user,
            });
        }
        if let Some(channel) = channel {
            let c = world.channels.get(&channel).ok_or(SimError::Unknown {
                kind: "channel",
                id: channel,
            })?;
            if c.guild_id != Some(guild) || !c.is_voice() {
                return Err(SimError::Invalid(format!(
                    "channel {channel} is not a voice channel of guild {guild}"
                )));
            }
        }
        Ok(())
    }

    /// A user sends the bot a direct message; returns `(dm channel id, message id)`.
    pub async fn inject_dm(&self, author: u64, content: &str) -> Result<(u64, u64), SimError> {
        let channel = {
            let mut world = self.world();
            if !world.users.contains_key(&author) {
                return Err(SimError::Unknown {
                    kind: "user",
                    id: author,
                });
            }
            world.dm_channel(author)
        };
        let id = self.post_user_message(channel, author, content, None, &[])?;
        Ok((channel, id))
    }

    /// A user runs a slash command: sends INTERACTION_CREATE (type 2). `guild` is a guild id
    /// or `None` for a DM (then `channel` is ignored and the user's DM channel used).
    /// `command` is the command's name, or the path of a subcommand (`"config set"`, sent as
    /// Discord nests it). `options` is the `data.options` array Discord would send for that
    /// command or subcommand (e.g. `[{"name":"text","type":3,"value":"hi"}]`; `null` for
    /// none). Returns the interaction id.
    ///
    /// Like Discord's client, it refuses ([`SimError::Invalid`]) to run a registered command
    /// where its contexts do not offer it, for a member without its default member
    /// permissions, or with options its registration refuses (a required one missing, a value
    /// outside the choices, the range or the lengths). An unregistered name is sent as it is.
    pub async fn inject_slash(
        &self,
        guild: impl Into<Option<u64>>,
        channel: u64,
        user: u64,
        command: &str,
        options: Value,
    ) -> Result<u64, SimError> {
        let guild = guild.into();
        let words: Vec<&str> = command.split_whitespace().collect();
        let Some((name, path)) = words.split_first() else {
            return Err(SimError::Invalid("a slash command needs a name".into()));
        };
        let mut world = self.world();
        let registered = crate::interactions::registered(&world, guild, name, 1);
        if let Some(cmd) = &registered {
            crate::interactions::offered(&world, cmd, guild, user)?;
            let leaf = crate::interactions::leaf_options(&cmd.body, path).ok_or_else(|| {
                SimError::Invalid(format!("`{name}` has no subcommand `{}`", path.join(" ")))
            })?;
            crate::interactions::check_options(leaf, &options)?;
        }
        let command_id = match &registered {
            Some(cmd) => cmd.id,
            None => world.ids.next(),
        };
        let options = if path.is_empty() {
            options
        } else {
            crate::interactions::nest(path, options)
        };
        let mut data = json!({
            "id": command_id.to_string(),
            "name": name,
            "type": 1,
        });
        if let Some(g) = guild {
            data["guild_id"] = json!(g.to_string());
        }
        if !options.is_null() {
            data["options"] = options.clone();
        }
        let resolved = crate::interactions::resolved_for_options(&world, guild, &options);
        if !resolved.as_object().is_some_and(serde_json::Map::is_empty) {
            data["resolved"] = resolved;
        }
        crate::interactions::create(&self.inner, &mut world, 2, guild, channel, user, None, data)
    }

    /// A user types into an option marked for autocomplete: sends INTERACTION_CREATE (type
    /// 4) with `focused` = `(option, typed so far)` as the focused option and `others` (a
    /// `data.options` array, or `null`) as the options filled so far. `command` is a name or a subcommand path. The
    /// bot answers with callback type 8 only. Refused ([`SimError::Invalid`]) unless the
    /// command is registered with that option marked `autocomplete`, as Discord only asks
    /// then. Returns the interaction id.
    pub async fn inject_autocomplete(
        &self,
        guild: impl Into<Option<u64>>,
        channel: u64,
        user: u64,
        command: &str,
        focused: (&str, &str),
        others: Value,
    ) -> Result<u64, SimError> {
        let (option, typed) = focused;
        let guild = guild.into();
        let words: Vec<&str> = command.split_whitespace().collect();
        let Some((name, path)) = words.split_first() else {
            return Err(SimError::Invalid("a slash command needs a name".into()));
        };
        let mut world = self.world();
        let cmd = crate::interactions::registered(&world, guild, name, 1)
            .ok_or_else(|| SimError::Invalid(format!("`{name}` is not registered")))?;
        crate::interactions::offered(&world, &cmd, guild, user)?;
        let focused = crate::interactions::leaf_options(&cmd.body, path)
            .and_then(|leaf| {
                leaf.iter()
                    .find(|o| o.get("name").and_then(Value::as_str) == Some(option))
            })
            .filter(|o| o.get("autocomplete").and_then(Value::as_bool) == Some(true))
            .ok_or_else(|| {
                SimError::Invalid(format!(
                    "`{command}` has no option `{option}` marked autocomplete: Discord does not ask"
                ))
            })?;
        let kind = focused.get("type").and_then(Value::as_u64).unwrap_or(3);
        let mut leaf: Vec<Value> = others.as_array().cloned().unwrap_or_default();
        leaf.retain(|o| o.get("name").and_then(Value::as_str) != Some(option));
        leaf.push(json!({"type": kind, "name": option, "value": typed, "focused": true}));
        let options = if path.is_empty() {
            Value::Array(leaf)
        } else {
            crate::interactions::nest(path, Value::Array(leaf))
        };
        let mut data = json!({
            "id": cmd.id.to_string(),
            "name": name,
            "type": 1,
            "options": options,
        });
        if let Some(g) = guild {
            data["guild_id"] = json!(g.to_string());
        }
        crate::interactions::create(&self.inner, &mut world, 4, guild, channel, user, None, data)
    }

    /// The user who was shown a modal submits it: sends INTERACTION_CREATE (type 5) with
    /// `values` (`(input custom_id, text)`) for the modal the bot answered interaction
    /// `answered` with (callback type 9), in the same place, on the same message for a modal a
    /// component showed. Refused ([`SimError::Invalid`]) when that interaction was not
    /// answered with a modal, for an unknown input, or where Discord's client would not let it
    /// through: a required input left empty, a text outside the input's lengths. Inputs not
    /// named are sent as the client sends an input the user did not touch: with the value the
    /// modal prefilled, else empty. Returns the interaction id.
    pub async fn inject_modal_submit(
        &self,
        answered: u64,
        values: &[(&str, &str)],
    ) -> Result<u64, SimError> {
        let mut world = self.world();
        let shown = world
            .interactions
            .get(&answered)
            .cloned()
            .ok_or(SimError::Unknown {
                kind: "interaction",
                id: answered,
            })?;
        let Some(modal) = shown.modal.clone() else {
            return Err(SimError::Invalid(format!(
                "interaction {answered} was not answered with a modal"
            )));
        };
        let inputs: Vec<&Value> = modal
            .get("components")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|row| row.get("components").and_then(Value::as_array))
            .flatten()
            .collect();
        for (id, _) in values {
            if !inputs
                .iter()
                .any(|i| i.get("custom_id").and_then(Value::as_str) == Some(id))
            {
                return Err(SimError::Invalid(format!("the modal has no input `{id}`")));
            }
        }
        let mut rows = Vec::new();
        for input in inputs {
            let id = input
                .get("custom_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let prefilled = input.get("value").and_then(Value::as_str).unwrap_or("");
            let text = values
                .iter()
                .find(|(i, _)| *i == id)
                .map_or(prefilled, |(_, v)| *v);
            let chars = text.chars().count() as u64;
            let required = input.get("required").and_then(Value::as_bool) != Some(false);
            if required && text.is_empty() {
                return Err(SimError::Invalid(format!(
                    "input `{id}` is required: Discord's client does not submit it empty"
                )));
            }
            let min = input.get("min_length").and_then(Value::as_u64).unwrap_or(0);
            let max = input
                .get("max_length")
                .and_then(Value::as_u64)
                .unwrap_or(4000);
            if !text.is_empty() && !(min..=max).contains(&chars) {
                return Err(SimError::Invalid(format!(
                    "input `{id}` takes {min}-{max} characters, not {chars}: Discord's client \
                     does not submit it"
                )));
            }
            rows.push(json!({
                "type": 1,
                "components": [{"type": 4, "custom_id": id, "value": text}],
            }));
        }
        let data = json!({
            "custom_id": modal.get("custom_id").cloned().unwrap_or(Value::Null),
            "components": rows,
        });
        crate::interactions::create(
            &self.inner,
            &mut world,
            5,
            shown.guild_id,
            shown.channel_id,
            shown.user_id,
            shown.message_id,
            data,
        )
    }

    /// A user runs the user command `name` ("Apps" on `target`): sends INTERACTION_CREATE
    /// (type 2, command type 2) with the target resolved. Refused ([`SimError::Invalid`])
    /// unless it is registered and offered to the user there. Returns the interaction id.
    pub async fn inject_user_command(
        &self,
        guild: impl Into<Option<u64>>,
        channel: u64,
        user: u64,
        name: &str,
        target: u64,
    ) -> Result<u64, SimError> {
        let guild = guild.into();
        let mut world = self.world();
        if !world.users.contains_key(&target) {
            return Err(SimError::Unknown {
                kind: "user",
                id: target,
            });
        }
        let cmd = crate::interactions::registered(&world, guild, name, 2)
            .ok_or_else(|| SimError::Invalid(format!("no user command `{name}` is registered")))?;
        crate::interactions::offered(&world, &cmd, guild, user)?;
        let resolved = crate::interactions::resolved_for_options(
            &world,
            guild,
            &json!([{"type": 6, "value": target.to_string()}]),
        );
        let mut data = json!({
            "id": cmd.id.to_string(),
            "name": name,
            "type": 2,
            "target_id": target.to_string(),
            "resolved": resolved,
        });
        if let Some(g) = guild {
            data["guild_id"] = json!(g.to_string());
        }
        crate::interactions::create(&self.inner, &mut world, 2, guild, channel, user, None, data)
    }

    /// A user runs the message command `name` ("Apps" on message `message_id`, in its
    /// channel): sends INTERACTION_CREATE (type 2, command type 3) with the message resolved.
    /// Refused ([`SimError::Invalid`]) unless it is registered and offered to the user there.
    /// Returns the interaction id.
    pub async fn inject_message_command(
        &self,
        message_id: u64,
        user: u64,
        name: &str,
    ) -> Result<u64, SimError> {
        let mut world = self.world();
        let message = world.messages.get(&message_id).ok_or(SimError::Unknown {
            kind: "message",
            id: message_id,
        })?;
        let (channel, guild) = (message.channel_id, message.guild_id);
        let json = message.to_json(world.author_json(message), None, true);
        let cmd = crate::interactions::registered(&world, guild, name, 3).ok_or_else(|| {
            SimError::Invalid(format!("no message command `{name}` is registered"))
        })?;
        crate::interactions::offered(&world, &cmd, guild, user)?;
        let mut data = json!({
            "id": cmd.id.to_string(),
            "name": name,
            "type": 3,
            "target_id": message_id.to_string(),
            "resolved": {"messages": {message_id.to_string(): json}},
        });
        if let Some(g) = guild {
            data["guild_id"] = json!(g.to_string());
        }
        crate::interactions::create(&self.inner, &mut world, 2, guild, channel, user, None, data)
    }

    /// A user clicks a button (or picks `values` in a select menu) on a bot message: sends
    /// INTERACTION_CREATE (type 3). Returns the interaction id. A disabled component cannot be
    /// used ([`SimError::Invalid`]), as in Discord's client.
    pub async fn inject_component(
        &self,
        message_id: u64,
        user: u64,
        custom_id: &str,
        values: Vec<String>,
    ) -> Result<u64, SimError> {
        let mut world = self.world();
        let message = world.messages.get(&message_id).ok_or(SimError::Unknown {
            kind: "message",
            id: message_id,
        })?;
        let (channel, guild) = (message.channel_id, message.guild_id);
        if message
            .component(custom_id)
            .and_then(|c| c.get("disabled"))
            .and_then(Value::as_bool)
            == Some(true)
        {
            return Err(SimError::Invalid(format!(
                "component `{custom_id}` of message {message_id} is disabled: nobody can use it"
            )));
        }
        let component_type = message
            .component_type(custom_id)
            .unwrap_or(if values.is_empty() { 2 } else { 3 });
        let mut data = json!({"custom_id": custom_id, "component_type": component_type});
        if component_type != 2 {
            data["values"] = json!(values);
        }
        crate::interactions::create(
            &self.inner,
            &mut world,
            3,
            guild,
            channel,
            user,
            Some(message_id),
            data,
        )
    }

    /// Closes every gateway socket with `close_code`. serenity resumes for most codes and
    /// gives up for fatal ones (4004, 4010–4014). Dispatches sent while it is away are replayed
    /// on resume.
    pub async fn drop_session(&self, close_code: u16) {
        self.inner.hub.broadcast(&Outgoing::Close(close_code), true);
        if opcodes::ends_session(close_code) {
            self.inner.hub.forget_all();
        }
    }

    /// Sends op 7 RECONNECT on every connection.
    pub async fn send_reconnect(&self) {
        self.inner.hub.broadcast(
            &Outgoing::Text(json!({"op": opcodes::RECONNECT, "d": null}).to_string()),
            false,
        );
    }

    /// Sends op 9 INVALID_SESSION; when not `resumable`, the sessions are forgotten.
    pub async fn invalidate_session(&self, resumable: bool) {
        self.inner.hub.broadcast(
            &Outgoing::Text(json!({"op": opcodes::INVALID_SESSION, "d": resumable}).to_string()),
            false,
        );
        if !resumable {
            self.inner.hub.forget_all();
        }
    }

    /// While `refused`, new gateway connections are answered `503 Service Unavailable` instead
    /// of being upgraded, as during a Discord outage; connections already open are kept. With
    /// [`Simulator::drop_session`] it holds a bot disconnected until it is allowed back.
    pub fn refuse_gateway(&self, refused: bool) {
        self.inner.gateway_refused.store(refused, Ordering::SeqCst);
    }

    /// The presence shard `shard` last set (op 3 or IDENTIFY's `presence`), as sent:
    /// `{since, activities: [{name, type, state?, url?}], status, afk}`.
    pub fn presence(&self, shard: u32) -> Option<Value> {
        self.inner
            .presences
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&shard)
            .cloned()
    }

    /// Number of gateway sessions with a live connection.
    pub fn connected_sessions(&self) -> usize {
        self.inner.hub.connected()
    }

    /// Subscribes to what the bot does (messages, responses, command registration) and
    /// gateway milestones.
    pub fn subscribe(&self) -> broadcast::Receiver<SimEvent> {
        self.inner.events.subscribe()
    }

    /// Every REST request answered so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.inner
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Scripts a rate limit: the next `count` requests matching `route` are answered 429 with
    /// `retry_after` = [`SimConfig::rate_limit_retry_after`]. `route` is `"METHOD /path"` or
    /// `"/path"` (any method), where the path (without `/api/v10`) may use `*` for one segment,
    /// e.g. `"POST /channels/*/messages"`.
    pub fn rate_limit(&self, route: &str, count: u32) {
        self.inner.limits.add(route, count);
    }

    /// Waits until a bot has identified and was sent READY.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<(), SimError> {
        let mut watch = self.inner.hub.ready_watch();
        tokio::time::timeout(timeout, watch.wait_for(|n| *n > 0))
            .await
            .map_err(|_| SimError::Timeout("READY"))?
            .map_err(|_| SimError::Timeout("READY"))?;
        Ok(())
    }

    /// Messages of a channel, oldest first (deleted ones are gone).
    pub fn messages(&self, channel: u64) -> Vec<MessageRecord> {
        let world = self.world();
        let Some(c) = world.channels.get(&channel) else {
            return Vec::new();
        };
        c.messages
            .iter()
            .filter_map(|id| world.messages.get(id))
            .map(|m| record(&world, m))
            .collect()
    }

    /// One message by id.
    pub fn message(&self, id: u64) -> Option<MessageRecord> {
        let world = self.world();
        world.messages.get(&id).map(|m| record(&world, m))
    }

    /// The attachments of a message, with the contents of the files the bot uploaded
    /// (empty for an unknown message).
    pub fn attachments(&self, id: u64) -> Vec<Attachment> {
        self.world()
            .messages
            .get(&id)
            .map(|m| m.attachments.clone())
            .unwrap_or_default()
    }

    /// The registered application commands (global for `None`), as Discord returns them.
    pub fn registered_commands(&self, guild: Option<u64>) -> Vec<Value> {
        let world = self.world();
        let app = world.application_id;
        let list = match guild {
            None => Some(&world.global_commands),
            Some(g) => world.guild_commands.get(&g),
        };
        list.map(|l| l.iter().map(|c| c.to_json(app)).collect())
            .unwrap_or_default()
    }

    /// The `INTERACTION_CREATE` payload of an interaction and the callback type the bot
    /// answered with (if any).
    pub fn interaction(&self, id: u64) -> Option<(Value, Option<u8>)> {
        let world = self.world();
        world
            .interactions
            .get(&id)
            .map(|i: &Interaction| (i.payload.clone(), i.response_kind))
    }

    /// Stops serving and closes the gateway sockets.
    pub async fn shutdown(self) {
        self.inner.shutdown.cancel();
        self.inner.hub.forget_all();
    }
}

/// Stores a message in the world and its channel; its files with contents go on the CDN.
pub(crate) fn store_message(world: &mut World, message: Message) {
    world
        .cdn
        .keep_attachments(message.channel_id, &message.attachments);
    if let Some(c) = world.channels.get_mut(&message.channel_id) {
        c.messages.push(message.id);
        c.last_message_id = Some(message.id);
    }
    world.messages.insert(message.id, message);
}

fn record(world: &World, m: &Message) -> MessageRecord {
    MessageRecord {
        id: m.id,
        channel_id: m.channel_id,
        guild_id: m.guild_id,
        author_id: m.author_id,
        content: m.content.clone(),
        reply_to: m.reply_to,
        interaction_id: m.interaction_id,
        payload: m.to_json(world.author_json(m), None, true),
    }
}
