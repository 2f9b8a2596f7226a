//! The command catalogue as one member sees it (plugin-api's `Action::CatalogueFor`): every
//! command with the gate's answer for them where they are, whether it is a slash command right
//! now, and the prefix there. Help menus are built from it.

use std::collections::HashSet;

use zoryx_plugin_api::{
    Catalogue, ChannelId, CommandInfo, CommandKind, CommandSpec, GuildId, Invocation, Source, User,
    UserId,
};

use super::bot::Bot;
use super::{prefix, slash};
use crate::gate::Caller;

impl Bot {
    /// What `user` may run in `guild` / `channel`, command by command.
    pub(crate) async fn catalogue_for(
        &self,
        user: u64,
        guild: Option<GuildId>,
        channel: ChannelId,
    ) -> Catalogue {
        let effective = prefix::resolve(
            self.settings.as_ref(),
            guild,
            &self.options.prefix,
            self.options.allow_mention_prefix,
        )
        .await;
        let settings = self.guild_settings(guild).await;
        let (roles, name) = self.member_roles_and_name(guild, user).await;
        let standing = self.standing(guild, user, &roles, None);
        let slash_names: HashSet<String> = slash::command_set(self)
            .iter()
            .filter(|c| c["type"] == 1)
            .filter_map(|c| c["name"].as_str().map(str::to_owned))
            .collect();
        let author = User {
            id: UserId(user),
            name,
            bot: false,
        };
        let is_owner = self.is_owner(user);
        let gate = self.manager.dispatcher().gate();
        let mut commands = Vec::new();
        let mut add = |spec: &CommandSpec, plugin: Option<String>| {
            let invocation = Invocation {
                command: spec.name.clone(),
                author: author.clone(),
                guild_id: guild,
                channel_id: channel,
                message_id: None,
                is_owner,
                source: Source::Prefix,
            };
            let caller = Caller::new(&invocation, &roles, move || standing)
                .guild_roles(settings.as_deref().map(|s| &s.command_roles));
            let answer = gate.check(spec, &caller);
            let mut info = CommandInfo::new(spec.clone(), plugin);
            info.available = answer.is_ok();
            info.refusal = answer.err().map(|r| r.explain(&spec.name));
            info.slash = matches!(spec.kind, CommandKind::Slash | CommandKind::Hybrid)
                && slash_names.contains(&spec.name);
            info.roles = gate.roles_for(&spec.name, &caller);
            commands.push(info);
        };
        for builtin in self.builtins.iter() {
            add(&builtin.spec, None);
        }
        let table = self.manager.table();
        for (name, generation) in &table.plugins {
            for spec in &generation.description.commands {
                // Subcommands (`config set`) are listed within their command; built-ins shadow.
                if spec.name.contains(' ') || self.builtins.get(&spec.name).is_some() {
                    continue;
                }
                add(spec, Some(name.clone()));
            }
        }
        let mut catalogue = Catalogue::default();
        catalogue.prefix = effective.prefix;
        catalogue.mention_prefix = effective.mention;
        catalogue.bot_name = self.user_name(self.bot_id());
        catalogue.commands = commands;
        catalogue
    }
}
