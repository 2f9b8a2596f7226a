//! `setprefix`, `mentionprefix`, `autodelete` and `serversettings` (administrators, per guild).

use zoryx_plugin_api::{Arg, CommandKind, CommandSpec, Message, Permission};

use super::{BuiltinCall, Builtins};
use crate::discord::embeds::{colour, embed};
use crate::discord::prefix;
use crate::guild_settings::{AutoDelete, Change, ChangeError, change, parse_seconds};

pub(super) fn register(builtins: &mut Builtins) {
    builtins
        .add(
            CommandSpec::new("setprefix")
                .description("Change this server's command prefix")
                .category("Settings")
                .arg(Arg::text("prefix").description("The new prefix, e.g. ?"))
                .permission(Permission::Administrator)
                .kind(CommandKind::Hybrid),
            |call| Box::pin(set_prefix(call)),
        )
        .add(
            CommandSpec::new("mentionprefix")
                .description("Turn the @mention prefix on or off here, or show it")
                .category("Settings")
                .arg(Arg::text("mode").description("enable, disable or status"))
                .permission(Permission::Administrator)
                .kind(CommandKind::Hybrid),
            |call| Box::pin(mention_prefix(call)),
        )
        .add(
            CommandSpec::new("autodelete")
                .description(
                    "What the bot deletes after a while here: error replies, command messages",
                )
                .category("Settings")
                .arg(
                    Arg::text("what")
                        .description("errors or commands (nothing: show the settings)")
                        .choices(["errors", "commands"])
                        .optional(),
                )
                .arg(
                    Arg::text("after")
                        .description("Seconds (1 to 3600), or off")
                        .optional(),
                )
                .permission(Permission::Administrator)
                .dm(false)
                .kind(CommandKind::Hybrid),
            |call| Box::pin(auto_delete(call)),
        )
        .add(
            CommandSpec::new("serversettings")
                .description("Every setting of this server in one place")
                .category("Settings")
                .permission(Permission::Administrator)
                .dm(false)
                .kind(CommandKind::Hybrid),
            |call| Box::pin(server_settings(call)),
        );
}

/// `serversettings`: the prefix, the mention prefix, role restrictions and the ways to invoke
/// a command here.
async fn server_settings(call: BuiltinCall) -> Result<Message, String> {
    let Some(guild) = call.guild_id else {
        return Ok(embed(
            colour::ERROR,
            "Server only",
            "Settings are per server.",
        ));
    };
    let bot = &call.bot;
    let settings = crate::guild_settings::settings_of(call.settings().as_ref(), guild)
        .await
        .map_err(|e| e.to_string())?;
    let effective = prefix::effective(
        &settings,
        &bot.options.prefix,
        bot.options.allow_mention_prefix,
    );
    let p = &effective.prefix;
    let prefix_line = match &settings.prefix {
        Some(own) => format!("`{own}` (set here with `{p}setprefix`)"),
        None => format!("`{p}` (the default)"),
    };
    let mention_line = match settings.mention_prefix {
        Some(true) => "enabled here".to_owned(),
        Some(false) => "disabled here".to_owned(),
        None => format!(
            "{} (the default)",
            if effective.mention {
                "enabled"
            } else {
                "disabled"
            }
        ),
    };
    let restrictions = if settings.command_roles.is_empty() {
        "None.".to_owned()
    } else {
        settings
            .command_roles
            .iter()
            .map(|(name, ids)| {
                let roles: Vec<String> = ids.iter().map(|r| format!("<@&{r}>")).collect();
                format!("`{name}`: {}", roles.join(", "))
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut ways = vec![
        format!("`{p}command`"),
        "`/command` (slash and hybrid commands)".to_owned(),
    ];
    if effective.mention {
        ways.push(format!("<@{}> command", bot.bot_id()));
    }
    Ok(Message::new().embed(
        zoryx_plugin_api::Embed::new()
            .title("⚙️ Server settings")
            .field("Prefix", prefix_line, true)
            .field("@mention prefix", mention_line, true)
            .field("Role restrictions (`config`)", restrictions, false)
            .field(
                "Deleted after a while (`autodelete`)",
                auto_delete_lines(settings.auto_delete),
                false,
            )
            .field("Ways to run a command here", ways.join("\n"), false)
            .colour(colour::INFO),
    ))
}

async fn set_prefix(call: BuiltinCall) -> Result<Message, String> {
    let Some(guild) = call.guild_id else {
        return Ok(embed(
            colour::ERROR,
            "Server only",
            "Prefixes are set per server.",
        ));
    };
    let prefix: String = call.args.get("prefix").map_err(|e| e.to_string())?;
    match change(
        call.settings().as_ref(),
        guild,
        Change::Prefix(Some(prefix.clone())),
    )
    .await
    {
        Err(ChangeError::Prefix) => {
            return Ok(embed(
                colour::ERROR,
                "Invalid prefix",
                ChangeError::Prefix.to_string(),
            ));
        }
        other => other.map_err(|e| e.to_string())?,
    }
    Ok(embed(
        colour::SUCCESS,
        "Prefix changed",
        format!("Commands here now start with `{prefix}` (e.g. `{prefix}ping`)."),
    ))
}

async fn mention_prefix(call: BuiltinCall) -> Result<Message, String> {
    let Some(guild) = call.guild_id else {
        return Ok(embed(
            colour::ERROR,
            "Server only",
            "This is a per-server setting.",
        ));
    };
    let mode: String = call.args.get("mode").map_err(|e| e.to_string())?;
    let enabled = match mode.to_lowercase().as_str() {
        "enable" | "on" => Some(true),
        "disable" | "off" => Some(false),
        "status" => None,
        other => {
            return Ok(embed(
                colour::ERROR,
                "Invalid mode",
                format!("`{other}`: use enable, disable or status."),
            ));
        }
    };
    if let Some(enabled) = enabled {
        change(
            call.settings().as_ref(),
            guild,
            Change::MentionPrefix(Some(enabled)),
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    let bot = &call.bot;
    let effective = prefix::resolve(
        bot.settings.as_ref(),
        Some(guild),
        &bot.options.prefix,
        bot.options.allow_mention_prefix,
    )
    .await;
    let state = if effective.mention {
        "enabled"
    } else {
        "disabled"
    };
    Ok(embed(
        if enabled.is_some() {
            colour::SUCCESS
        } else {
            colour::INFO
        },
        "Mention prefix",
        format!("The @mention prefix is **{state}** in this server."),
    ))
}

fn after(seconds: u32) -> String {
    if seconds == 0 {
        "never".to_owned()
    } else {
        format!("after {seconds} s")
    }
}

fn auto_delete_lines(auto_delete: AutoDelete) -> String {
    format!(
        "Error replies: {}\nCommand messages: {}\n(prefix commands; a slash command's errors are only shown to its user)",
        after(auto_delete.errors),
        after(auto_delete.commands)
    )
}

/// `autodelete [errors|commands] [SECONDS|off]`.
async fn auto_delete(call: BuiltinCall) -> Result<Message, String> {
    let Some(guild) = call.guild_id else {
        return Ok(embed(
            colour::ERROR,
            "Server only",
            "Auto-delete is set per server.",
        ));
    };
    let settings = crate::guild_settings::settings_of(call.settings().as_ref(), guild)
        .await
        .map_err(|e| e.to_string())?;
    let what: Option<String> = call.args.get("what").map_err(|e| e.to_string())?;
    let value: Option<String> = call.args.get("after").map_err(|e| e.to_string())?;
    let (Some(what), Some(value)) = (what, value) else {
        return Ok(embed(
            colour::INFO,
            "🧹 Auto-delete",
            format!(
                "{}\n\nChange it with `{p}autodelete errors SECONDS|off` or `{p}autodelete commands SECONDS|off`.",
                auto_delete_lines(settings.auto_delete),
                p = call.prefix
            ),
        ));
    };
    let seconds = match parse_seconds(&value) {
        Ok(seconds) => seconds,
        Err(invalid) => {
            return Ok(embed(colour::ERROR, "❌ Invalid time", invalid.to_string()));
        }
    };
    let what = if what == "errors" {
        Change::AutoDeleteErrors(seconds)
    } else {
        Change::AutoDeleteCommands(seconds)
    };
    let commands = matches!(what, Change::AutoDeleteCommands(_));
    change(call.settings().as_ref(), guild, what)
        .await
        .map_err(|e| e.to_string())?;
    let changed = crate::guild_settings::settings_of(call.settings().as_ref(), guild)
        .await
        .map_err(|e| e.to_string())?
        .auto_delete;
    let mut note = String::new();
    if commands && seconds > 0 {
        note = "\nThe bot needs the Manage Messages permission in a channel to delete members' messages there.".to_owned();
    }
    Ok(embed(
        colour::SUCCESS,
        "✅ Auto-delete",
        format!("{}{note}", auto_delete_lines(changed)),
    ))
}
