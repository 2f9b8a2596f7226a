//! The host's own commands. Each is a plugin-api [`CommandSpec`] plus a handler, so it gets
//! argument parsing, usage embeds and slash registration like plugin commands.
//!
//! Adding one is one line in [`Builtins::standard`]:
//! `builtins.add(CommandSpec::new("name")..., |call| Box::pin(handler(call)));`
//!
//! Built-ins shadow plugin commands of the same name: the built-in always answers, and a plugin
//! registering such a name is warned about in the log when it loads (see
//! [`Builtins::shadowed`]).

mod access;
mod alerting;
mod config;
mod diagnostics;
mod general;
pub(crate) mod hooks;
mod info;
pub(crate) mod owner;
mod presence;
mod registry;
mod settings;
mod storage;

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use zoryx_plugin_api::{Args, ChannelId, CommandSpec, GuildId, Message, User};

use super::bot::Bot;
use crate::guild_settings::GuildSettingsStore;
use crate::manager::Manager;

/// What a built-in handler gets.
pub struct BuiltinCall {
    pub(crate) bot: Arc<Bot>,
    /// Parsed arguments.
    pub args: Args,
    /// Who ran it.
    pub author: User,
    /// Where (`None` in DMs).
    pub guild_id: Option<GuildId>,
    /// Where.
    pub channel_id: ChannelId,
    /// The prefix in effect.
    pub prefix: String,
    /// Whether the author is a bot owner.
    pub is_owner: bool,
    /// The author's role ids in the guild.
    pub roles: Vec<u64>,
    /// The author's guild permissions, when the interaction carried them.
    pub permissions: Option<zoryx_plugin_api::Permissions>,
    /// How the command arrived.
    pub source: zoryx_plugin_api::Source,
}

impl BuiltinCall {
    /// The plugin manager.
    pub fn manager(&self) -> &Arc<Manager> {
        &self.bot.manager
    }

    /// The guild settings store.
    pub fn settings(&self) -> &Arc<dyn GuildSettingsStore> {
        &self.bot.settings
    }

    /// The bot's counters.
    pub fn stats(&self) -> super::BotStats {
        self.bot.stats()
    }
}

/// A hybrid command for the bot owners in `category` (most of the host's own commands).
pub(crate) fn owner_command(name: &str, description: &str, category: &str) -> CommandSpec {
    CommandSpec::new(name)
        .description(description)
        .category(category)
        .permission(zoryx_plugin_api::Permission::Owner)
        .kind(zoryx_plugin_api::CommandKind::Hybrid)
}

/// Autocomplete suggestions: the `names` containing `typed` (any case), those starting with it
/// first, at most 25 (Discord's limit).
pub(crate) fn suggestions(
    names: impl IntoIterator<Item = String>,
    typed: &str,
) -> Vec<zoryx_plugin_api::Choice> {
    let typed = typed.to_lowercase();
    let mut names: Vec<String> = names
        .into_iter()
        .filter(|n| n.to_lowercase().contains(&typed))
        .collect();
    names.sort_by_key(|n| (!n.to_lowercase().starts_with(&typed), n.clone()));
    names
        .into_iter()
        .take(25)
        .map(|n| zoryx_plugin_api::Choice::new(n.clone(), n))
        .collect()
}

/// A built-in handler: the reply, or an error shown in a red embed.
pub type Handler =
    Arc<dyn Fn(BuiltinCall) -> BoxFuture<'static, Result<Message, String>> + Send + Sync>;

/// One built-in command.
pub struct Builtin {
    /// Its declaration (name, aliases, args, permission, kind).
    pub spec: CommandSpec,
    /// Its handler.
    pub run: Handler,
}

/// The built-in commands by name and alias (lowercase).
#[derive(Default)]
pub struct Builtins {
    commands: Vec<Builtin>,
    names: HashMap<String, usize>,
}

impl Builtins {
    /// Registers a built-in.
    pub fn add<F>(&mut self, spec: CommandSpec, run: F) -> &mut Self
    where
        F: Fn(BuiltinCall) -> BoxFuture<'static, Result<Message, String>> + Send + Sync + 'static,
    {
        let index = self.commands.len();
        for name in std::iter::once(&spec.name).chain(&spec.aliases) {
            self.names.insert(name.to_lowercase(), index);
        }
        self.commands.push(Builtin {
            spec,
            run: Arc::new(run),
        });
        self
    }

    /// The standard set: ping, stats, setprefix, mentionprefix, load, unload, reload,
    /// extensions, and the storage reports (atomicstats, atomictest, cachestats, dbstats,
    /// integritycheck, cleanup).
    pub fn standard() -> Self {
        let mut builtins = Self::default();
        general::register(&mut builtins);
        info::register(&mut builtins);
        settings::register(&mut builtins);
        access::register(&mut builtins);
        owner::register(&mut builtins);
        presence::register(&mut builtins);
        storage::register(&mut builtins);
        hooks::register(&mut builtins);
        registry::register(&mut builtins);
        diagnostics::register(&mut builtins);
        config::register(&mut builtins);
        builtins
    }

    /// The built-in called `name` (or with that alias).
    pub fn get(&self, name: &str) -> Option<&Builtin> {
        let index = match self.names.get(name) {
            Some(index) => *index,
            None => *self.names.get(&name.to_lowercase())?,
        };
        self.commands.get(index)
    }

    /// Every built-in.
    pub fn iter(&self) -> impl Iterator<Item = &Builtin> {
        self.commands.iter()
    }

    /// Names in `commands` (a plugin's) that built-ins shadow.
    pub fn shadowed<'a>(&self, commands: impl Iterator<Item = &'a str>) -> Vec<String> {
        commands
            .filter(|name| self.names.contains_key(&name.to_lowercase()))
            .map(str::to_owned)
            .collect()
    }
}
