//! Who may run what: `config` (role grants per guild, for the bot owners and the guild owner)
//! and `whycant` (the gate's answer for the caller, in words).

use zoryx_plugin_api::{
    Arg, ArgKind, CommandKind, CommandSpec, Embed, Invocation, Message, Permission,
};

use super::{BuiltinCall, Builtins};
use crate::discord::embeds::{colour, embed};
use crate::discord::pipeline::find_spec;
use crate::gate::{Caller, CommandRoles, Refusal};
use crate::guild_settings::settings_of;

pub(super) fn register(builtins: &mut Builtins) {
    builtins
        .add(
            CommandSpec::new("config")
                .description("Restrict a command to roles in this server, or list restrictions")
                .category("Settings")
                .arg(
                    Arg::text("command")
                        .description("The command to restrict, or `list`")
                        .optional(),
                )
                .arg(
                    Arg::new("roles", ArgKind::Rest)
                        .description("@role to add, `remove @role`, or `none` to lift all")
                        .optional(),
                )
                .dm(false)
                .kind(CommandKind::Hybrid),
            |call| Box::pin(config(call)),
        )
        .add(
            CommandSpec::new("whycant")
                .description("Why you cannot run a command here")
                .category("Core")
                .arg(Arg::text("command").description("The command"))
                .kind(CommandKind::Hybrid),
            |call| Box::pin(why_cant(call)),
        );
}

/// What `config COMMAND ...` asks for.
#[derive(Debug, PartialEq, Eq)]
enum Change {
    Add(String),
    Remove(String),
    Clear,
}

fn change_of(rest: &str) -> Option<Change> {
    let rest = rest.trim();
    if rest.is_empty() {
        return None;
    }
    if rest.eq_ignore_ascii_case("none") || rest.eq_ignore_ascii_case("clear") {
        return Some(Change::Clear);
    }
    let mut words = rest.splitn(2, char::is_whitespace);
    let first = words.next().unwrap_or_default();
    if first.eq_ignore_ascii_case("remove") {
        return Some(Change::Remove(
            words.next().unwrap_or_default().trim().to_owned(),
        ));
    }
    if first.eq_ignore_ascii_case("add") {
        return Some(Change::Add(
            words.next().unwrap_or_default().trim().to_owned(),
        ));
    }
    Some(Change::Add(rest.to_owned()))
}

/// The role `text` names in the guild: a mention, an id or a name (any case).
fn role_in(call: &BuiltinCall, text: &str) -> Option<(u64, String)> {
    let guild = call.guild_id?;
    let roles = call.bot.guild_roles(guild);
    let text = text.trim();
    let id = text
        .strip_prefix("<@&")
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(text)
        .parse::<u64>()
        .ok();
    match id {
        Some(id) => roles.into_iter().find(|(rid, _)| *rid == id),
        None => roles.into_iter().find(|(_, name)| {
            name.trim_start_matches('@')
                .eq_ignore_ascii_case(text.trim_start_matches('@'))
        }),
    }
}

fn mentions(ids: &[u64]) -> String {
    ids.iter()
        .map(|id| format!("<@&{id}>"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn config(call: BuiltinCall) -> Result<Message, String> {
    let Some(guild) = call.guild_id else {
        return Ok(embed(
            colour::ERROR,
            "Servers only",
            "Role grants are set per server.",
        ));
    };
    if !call.is_owner && !call.bot.is_guild_owner(guild, call.author.id.0) {
        return Ok(embed(
            colour::ERROR,
            "Permission denied",
            "⛔ `config` is for the bot owners and the owner of this server.",
        )
        .ephemeral());
    }
    let command: Option<String> = call.args.get("command").ok();
    let rest: String = call.args.get("roles").unwrap_or_default();
    let settings = settings_of(call.settings().as_ref(), guild)
        .await
        .map_err(|e| e.to_string())?;
    let Some(command) = command.filter(|c| !c.eq_ignore_ascii_case("list")) else {
        return Ok(list(&call, &settings.command_roles));
    };
    let Some(spec) = find_spec(&call.bot, &command.to_lowercase()) else {
        return Ok(embed(
            colour::ERROR,
            "No such command",
            format!("There is no command `{command}`."),
        ));
    };
    if spec.permission == Permission::Owner {
        return Ok(embed(
            colour::ERROR,
            "Owner-only command",
            format!(
                "🔒 `{}` is for the bot owners only; roles cannot be granted it.",
                spec.name
            ),
        ));
    }
    let name = spec.name.to_lowercase();
    let Some(change) = change_of(&rest) else {
        return Ok(embed(
            colour::WARNING,
            "Missing role",
            format!(
                "Name a role, or `none` to lift the restriction:\n`{p}config {name} @role`\n`{p}config {name} remove @role`\n`{p}config {name} none`",
                p = call.prefix
            ),
        ));
    };
    let mut roles: CommandRoles = settings.command_roles.clone();
    let current = roles.get(&name).cloned().unwrap_or_default();
    let (title, text) = match change {
        Change::Clear => {
            if current.is_empty() {
                return Ok(embed(
                    colour::INFO,
                    "No restriction",
                    format!("`{name}` has no role restriction in this server."),
                ));
            }
            roles.remove(&name);
            (
                "Restriction lifted",
                format!("`{name}` is open again to whoever its own rules allow."),
            )
        }
        Change::Add(text) | Change::Remove(text) if role_in(&call, &text).is_none() => {
            return Ok(embed(
                colour::ERROR,
                "No such role",
                format!("There is no role `{text}` in this server."),
            ));
        }
        Change::Add(text) => {
            let Some((id, role)) = role_in(&call, &text) else {
                return Err("the role went away".into());
            };
            if current.contains(&id) {
                return Ok(embed(
                    colour::INFO,
                    "Already granted",
                    format!("**{role}** may already run `{name}`."),
                ));
            }
            let mut ids = current;
            ids.push(id);
            let listed = mentions(&ids);
            roles.insert(name.clone(), ids);
            (
                "Role granted",
                format!("`{name}` is now for members with one of: {listed}."),
            )
        }
        Change::Remove(text) => {
            let Some((id, role)) = role_in(&call, &text) else {
                return Err("the role went away".into());
            };
            if !current.contains(&id) {
                return Ok(embed(
                    colour::INFO,
                    "Not granted",
                    format!("**{role}** is not among the roles of `{name}`."),
                ));
            }
            let ids: Vec<u64> = current.into_iter().filter(|r| *r != id).collect();
            let text = if ids.is_empty() {
                format!("**{role}** removed; `{name}` has no role restriction any more.")
            } else {
                format!("**{role}** removed; `{name}` is for: {}.", mentions(&ids))
            };
            if ids.is_empty() {
                roles.remove(&name);
            } else {
                roles.insert(name.clone(), ids);
            }
            ("Role removed", text)
        }
    };
    call.settings()
        .set_command_roles(guild, roles)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        guild = guild.0,
        user = call.author.id.0,
        command = name,
        "role grants changed"
    );
    Ok(embed(colour::SUCCESS, title, text))
}

fn list(call: &BuiltinCall, guild_roles: &CommandRoles) -> Message {
    let mut embed = Embed::new()
        .title("⚙️ Command restrictions")
        .description(format!(
            "A restricted command is for members with one of its roles (and the bot owners and the server owner).\n`{p}config COMMAND @role` · `{p}config COMMAND remove @role` · `{p}config COMMAND none`",
            p = call.prefix
        ))
        .colour(colour::INFO);
    let here: Vec<String> = guild_roles
        .iter()
        .map(|(name, ids)| format!("`{name}`: {}", mentions(ids)))
        .collect();
    embed = embed.field(
        "This server",
        if here.is_empty() {
            "No restrictions.".to_owned()
        } else {
            clip(&here.join("\n"))
        },
        false,
    );
    let global = call.bot.manager.dispatcher().gate().global_roles();
    if !global.is_empty() {
        let lines: Vec<String> = global
            .iter()
            .map(|(name, ids)| format!("`{name}`: {}", mentions(ids)))
            .collect();
        embed = embed.field(
            "Everywhere (`command_permissions` in config.json)",
            clip(&lines.join("\n")),
            false,
        );
    }
    let owner_only: Vec<String> = call
        .bot
        .command_specs()
        .into_iter()
        .filter(|s| s.permission == Permission::Owner)
        .map(|s| s.name)
        .collect();
    if !owner_only.is_empty() {
        embed = embed.field(
            "🔒 Bot owners only (cannot be granted)",
            clip(&owner_only.join(", ")),
            false,
        );
    }
    Message::new().embed(embed)
}

/// A field value cut to Discord's 1,024 characters.
fn clip(text: &str) -> String {
    if text.chars().count() <= 1024 {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(1020).collect();
    out.push_str(" …");
    out
}

async fn why_cant(call: BuiltinCall) -> Result<Message, String> {
    let command: String = call.args.get("command").map_err(|e| e.to_string())?;
    let command = command
        .trim_start_matches(call.prefix.as_str())
        .to_lowercase();
    let Some(spec) = find_spec(&call.bot, &command) else {
        return Ok(embed(
            colour::ERROR,
            "No such command",
            format!("There is no command `{command}`."),
        ));
    };
    let settings = match call.guild_id {
        Some(guild) => settings_of(call.settings().as_ref(), guild).await.ok(),
        None => None,
    };
    let invocation = Invocation {
        command: spec.name.clone(),
        author: call.author.clone(),
        guild_id: call.guild_id,
        channel_id: call.channel_id,
        message_id: None,
        is_owner: call.is_owner,
        source: call.source,
    };
    let answer = {
        let caller = Caller::new(&invocation, &call.roles, || {
            call.bot.standing(
                call.guild_id,
                call.author.id.0,
                &call.roles,
                call.permissions,
            )
        })
        .guild_roles(settings.as_deref().map(|s| &s.command_roles));
        call.bot.manager.dispatcher().gate().explain(&spec, &caller)
    };
    Ok(match answer {
        Ok(()) => embed(
            colour::SUCCESS,
            "You can run it",
            format!(
                "Nothing stops you from running `{}` here: `{}`",
                spec.name,
                spec.usage(&call.prefix)
            ),
        ),
        Err(refusal @ Refusal::Cooldown { .. }) => embed(
            colour::WARNING,
            "On cooldown",
            format!("⏳ {}", refusal.explain(&spec.name)),
        ),
        Err(refusal) => embed(
            colour::ERROR,
            "Why you cannot run it",
            format!("⛔ {}", refusal.explain(&spec.name)),
        ),
    }
    .ephemeral())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_as_the_seed_writes_them() {
        assert_eq!(change_of(""), None);
        assert_eq!(change_of("none"), Some(Change::Clear));
        assert_eq!(change_of("<@&5>"), Some(Change::Add("<@&5>".into())));
        assert_eq!(
            change_of("remove <@&5>"),
            Some(Change::Remove("<@&5>".into()))
        );
        assert_eq!(
            change_of("Senior Staff"),
            Some(Change::Add("Senior Staff".into()))
        );
    }
}
