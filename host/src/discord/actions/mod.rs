//! A plugin's requests to Discord ([`Action`]): each becomes one REST call (two for a DM),
//! its answer the plugin's [`Outcome`]. A refusal becomes an error that says why: a 403 for a
//! missing permission is looked into (the bot's permissions are computed, only then) and names
//! the permission, or the role hierarchy when the bot has it; a 400 lists the fields Discord
//! named.

pub(crate) mod model;
mod permissions;

use reqwest::Method;
use serde_json::{Value, json};
use zoryx_plugin_api::{Action, ChannelId, GuildId, Outcome, Permissions, PluginError};

use super::convert;
use super::rest::{Rest, RestError, percent_encode};

pub(crate) use model::message as message_from_json;

/// Discord's code for "Missing Permissions".
const MISSING_PERMISSIONS: u64 = 50013;

/// Carries out `action` as the bot (`bot_id`).
pub(crate) async fn run(rest: &Rest, bot_id: u64, action: Action) -> Result<Outcome, PluginError> {
    if let Action::Download { url, max_bytes } = &action {
        return rest
            .download(url, *max_bytes)
            .await
            .map(Outcome::Http)
            .map_err(|e| PluginError::Host(format!("could not download a file: {e}")));
    }
    match call(rest, bot_id, &action).await {
        Ok(outcome) => Ok(outcome),
        Err(error) => Err(explain(rest, bot_id, &action, error).await),
    }
}

/// The REST call(s) of one action.
async fn call(rest: &Rest, bot_id: u64, action: &Action) -> Result<Outcome, RestError> {
    let get = |path: String| async move { rest.get(&path).await };
    let write = |method: Method, path: String, body: Option<Value>, reason: Option<String>| async move {
        rest.request_with_reason(method, &path, body.as_ref(), reason.as_deref())
            .await
    };
    let done = |_: Value| Outcome::Done;
    Ok(match action {
        Action::EditMessage {
            channel,
            message,
            edit,
        } => {
            let body = convert::edited_message(edit);
            let path = format!("/channels/{}/messages/{}", channel.0, message.0);
            Outcome::Message(model::message(
                &rest
                    .send_message(Method::PATCH, &path, &body, &edit.files)
                    .await?,
            ))
        }
        Action::DeleteMessage {
            channel,
            message,
            reason,
        } => {
            let path = format!("/channels/{}/messages/{}", channel.0, message.0);
            done(write(Method::DELETE, path, None, reason.clone()).await?)
        }
        Action::FetchMessage { channel, message } => Outcome::Message(model::message(
            &get(format!("/channels/{}/messages/{}", channel.0, message.0)).await?,
        )),
        Action::FetchMessages {
            channel,
            limit,
            before,
        } => {
            let mut path = format!(
                "/channels/{}/messages?limit={}",
                channel.0,
                (*limit).clamp(1, 100)
            );
            if let Some(before) = before {
                path.push_str(&format!("&before={}", before.0));
            }
            Outcome::Messages(model::list(&get(path).await?, model::message))
        }
        Action::BulkDelete {
            channel,
            messages,
            reason,
        } => {
            let ids: Vec<String> = messages.iter().map(|m| m.0.to_string()).collect();
            let path = format!("/channels/{}/messages/bulk-delete", channel.0);
            done(
                write(
                    Method::POST,
                    path,
                    Some(json!({ "messages": ids })),
                    reason.clone(),
                )
                .await?,
            )
        }
        Action::React {
            channel,
            message,
            emoji,
        } => {
            let path = format!(
                "/channels/{}/messages/{}/reactions/{}/@me",
                channel.0,
                message.0,
                percent_encode(emoji)
            );
            done(write(Method::PUT, path, None, None).await?)
        }
        Action::Unreact {
            channel,
            message,
            emoji,
            user,
        } => {
            let who = user.map_or_else(|| "@me".to_owned(), |u| u.0.to_string());
            let path = format!(
                "/channels/{}/messages/{}/reactions/{}/{who}",
                channel.0,
                message.0,
                percent_encode(emoji)
            );
            done(write(Method::DELETE, path, None, None).await?)
        }
        Action::DirectMessage { user, message } => {
            let dm = rest
                .post(
                    "/users/@me/channels",
                    &json!({"recipient_id": user.0.to_string()}),
                )
                .await?;
            let channel = model::snowflake(&dm, "id").unwrap_or(0);
            let body = convert::channel_message(message, None);
            let id = rest
                .post_for_id(
                    &format!("/channels/{channel}/messages"),
                    &body,
                    &message.files,
                )
                .await?;
            Outcome::Id(id)
        }
        Action::Send { channel, message } => {
            let body = convert::channel_message(message, None);
            let path = format!("/channels/{}/messages", channel.0);
            Outcome::Id(rest.post_for_id(&path, &body, &message.files).await?)
        }
        Action::Guild { guild } => Outcome::Guild(model::guild(
            &get(format!("/guilds/{}?with_counts=true", guild.0)).await?,
        )),
        Action::Roles { guild } => Outcome::Roles(model::roles(
            &get(format!("/guilds/{}/roles", guild.0)).await?,
        )),
        Action::Channels { guild } => Outcome::Channels(model::channels(
            &get(format!("/guilds/{}/channels", guild.0)).await?,
        )),
        Action::Member { guild, user } => Outcome::Member(model::member(
            &get(format!("/guilds/{}/members/{}", guild.0, user.0)).await?,
            *guild,
        )),
        Action::Members {
            guild,
            after,
            limit,
        } => {
            let mut path = format!(
                "/guilds/{}/members?limit={}",
                guild.0,
                (*limit).clamp(1, 1000)
            );
            if let Some(after) = after {
                path.push_str(&format!("&after={}", after.0));
            }
            let answer = get(path).await?;
            Outcome::Members(model::list(&answer, |m| model::member(m, *guild)))
        }
        Action::Bans { guild } => Outcome::Bans(model::list(
            &get(format!("/guilds/{}/bans", guild.0)).await?,
            model::ban,
        )),
        Action::Emojis { guild } => Outcome::Emojis(model::list(
            &get(format!("/guilds/{}/emojis", guild.0)).await?,
            model::emoji,
        )),
        Action::BotPermissions { guild, channel } => {
            Outcome::Permissions(bot_permissions(rest, bot_id, *guild, *channel).await?)
        }
        Action::CreateRole {
            guild,
            spec,
            reason,
        } => {
            let path = format!("/guilds/{}/roles", guild.0);
            let body = model::role_body(spec);
            Outcome::Role(model::role(
                &write(Method::POST, path, Some(body), reason.clone()).await?,
            ))
        }
        Action::EditRole {
            guild,
            role,
            spec,
            reason,
        } => {
            let path = format!("/guilds/{}/roles/{}", guild.0, role.0);
            let body = model::role_body(spec);
            Outcome::Role(model::role(
                &write(Method::PATCH, path, Some(body), reason.clone()).await?,
            ))
        }
        Action::DeleteRole {
            guild,
            role,
            reason,
        } => {
            let path = format!("/guilds/{}/roles/{}", guild.0, role.0);
            done(write(Method::DELETE, path, None, reason.clone()).await?)
        }
        Action::CreateChannel {
            guild,
            spec,
            reason,
        } => {
            let path = format!("/guilds/{}/channels", guild.0);
            let body = model::channel_body(spec, true);
            Outcome::Channel(model::channel(
                &write(Method::POST, path, Some(body), reason.clone()).await?,
            ))
        }
        Action::EditChannel {
            channel,
            spec,
            reason,
        } => {
            let path = format!("/channels/{}", channel.0);
            let body = model::channel_body(spec, false);
            Outcome::Channel(model::channel(
                &write(Method::PATCH, path, Some(body), reason.clone()).await?,
            ))
        }
        Action::DeleteChannel { channel, reason } => {
            let path = format!("/channels/{}", channel.0);
            done(write(Method::DELETE, path, None, reason.clone()).await?)
        }
        Action::SetOverwrite {
            channel,
            overwrite,
            reason,
        } => {
            let mut body = model::overwrite_json(overwrite);
            let id = body
                .as_object_mut()
                .and_then(|b| b.remove("id"))
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let path = format!("/channels/{}/permissions/{id}", channel.0);
            done(write(Method::PUT, path, Some(body), reason.clone()).await?)
        }
        Action::AddMemberRole {
            guild,
            user,
            role,
            reason,
        } => {
            let path = format!("/guilds/{}/members/{}/roles/{}", guild.0, user.0, role.0);
            done(write(Method::PUT, path, None, reason.clone()).await?)
        }
        Action::RemoveMemberRole {
            guild,
            user,
            role,
            reason,
        } => {
            let path = format!("/guilds/{}/members/{}/roles/{}", guild.0, user.0, role.0);
            done(write(Method::DELETE, path, None, reason.clone()).await?)
        }
        Action::SetNickname {
            guild,
            user,
            nick,
            reason,
        } => {
            let who = if user.0 == bot_id {
                "@me".to_owned()
            } else {
                user.0.to_string()
            };
            let path = format!("/guilds/{}/members/{who}", guild.0);
            let body = json!({ "nick": nick });
            done(write(Method::PATCH, path, Some(body), reason.clone()).await?)
        }
        Action::Kick {
            guild,
            user,
            reason,
        } => {
            let path = format!("/guilds/{}/members/{}", guild.0, user.0);
            done(write(Method::DELETE, path, None, reason.clone()).await?)
        }
        Action::Ban {
            guild,
            user,
            delete_message_seconds,
            reason,
        } => {
            let path = format!("/guilds/{}/bans/{}", guild.0, user.0);
            let body = json!({ "delete_message_seconds": delete_message_seconds });
            done(write(Method::PUT, path, Some(body), reason.clone()).await?)
        }
        Action::Unban {
            guild,
            user,
            reason,
        } => {
            let path = format!("/guilds/{}/bans/{}", guild.0, user.0);
            done(write(Method::DELETE, path, None, reason.clone()).await?)
        }
        Action::Timeout {
            guild,
            user,
            until_unix_ms,
            reason,
        } => {
            let until = until_unix_ms.map(iso8601);
            let path = format!("/guilds/{}/members/{}", guild.0, user.0);
            let body = json!({ "communication_disabled_until": until });
            done(write(Method::PATCH, path, Some(body), reason.clone()).await?)
        }
        Action::CreateWebhook { channel, name } => {
            let path = format!("/channels/{}/webhooks", channel.0);
            Outcome::Webhook(model::webhook(
                &write(Method::POST, path, Some(json!({ "name": name })), None).await?,
            ))
        }
        Action::ExecuteWebhook {
            webhook,
            token,
            message,
            username,
            avatar_url,
        } => {
            let mut body = convert::channel_message(message, None);
            if let Some(name) = username {
                body["username"] = json!(name);
            }
            if let Some(url) = avatar_url {
                body["avatar_url"] = json!(url);
            }
            let path = format!("/webhooks/{webhook}/{token}?wait=true");
            Outcome::Id(rest.post_for_id(&path, &body, &message.files).await?)
        }
        Action::EditGuild {
            guild,
            spec,
            reason,
        } => {
            let path = format!("/guilds/{}", guild.0);
            let body = model::guild_body(spec);
            Outcome::Guild(model::guild(
                &write(Method::PATCH, path, Some(body), reason.clone()).await?,
            ))
        }
        Action::RolePositions {
            guild,
            positions,
            reason,
        } => {
            let path = format!("/guilds/{}/roles", guild.0);
            let body: Vec<Value> = positions
                .iter()
                .map(|(role, position)| json!({"id": role.0.to_string(), "position": position}))
                .collect();
            Outcome::Roles(model::roles(
                &write(
                    Method::PATCH,
                    path,
                    Some(Value::Array(body)),
                    reason.clone(),
                )
                .await?,
            ))
        }
        Action::CreateEmoji {
            guild,
            name,
            image,
            roles,
            reason,
        } => {
            let roles: Vec<String> = roles.iter().map(|r| r.0.to_string()).collect();
            let body = json!({
                "name": name,
                "image": zoryx_plugin_api::image_data_uri(image),
                "roles": roles,
            });
            let path = format!("/guilds/{}/emojis", guild.0);
            Outcome::Emoji(model::emoji(
                &write(Method::POST, path, Some(body), reason.clone()).await?,
            ))
        }
        Action::MoveMember {
            guild,
            user,
            channel,
            reason,
        } => {
            let path = format!("/guilds/{}/members/{}", guild.0, user.0);
            let body = json!({ "channel_id": channel.map(|c| c.0.to_string()) });
            done(write(Method::PATCH, path, Some(body), reason.clone()).await?)
        }
        Action::DeleteEmoji {
            guild,
            emoji,
            reason,
        } => {
            let path = format!("/guilds/{}/emojis/{emoji}", guild.0);
            done(write(Method::DELETE, path, None, reason.clone()).await?)
        }
        other => {
            return Err(RestError::Transport {
                method: String::new(),
                path: String::new(),
                message: format!("`{}` is not supported by this host", other.describe()),
            });
        }
    })
}

/// Milliseconds since the epoch as Discord's ISO 8601 timestamp (UTC).
fn iso8601(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (hour, minute, second) = (rest / 3600, rest % 3600 / 60, rest % 60);
    let (year, month, day) = crate::clock::civil_date(i64::try_from(days).unwrap_or(0));
    format!(
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{:03}+00:00",
        unix_ms % 1000
    )
}

/// The bot's permissions in `guild`, or in `channel` with its overwrites.
async fn bot_permissions(
    rest: &Rest,
    bot_id: u64,
    guild: GuildId,
    channel: Option<ChannelId>,
) -> Result<Permissions, RestError> {
    let info = rest.get(&format!("/guilds/{}", guild.0)).await?;
    let roles = rest.get(&format!("/guilds/{}/roles", guild.0)).await?;
    let member = rest
        .get(&format!("/guilds/{}/members/{bot_id}", guild.0))
        .await?;
    let member = model::member(&member, guild);
    let member_roles: Vec<u64> = member.roles.iter().map(|r| r.0).collect();
    let overwrites = match channel {
        Some(channel) => Some(
            rest.get(&format!("/channels/{}", channel.0))
                .await?
                .get("permission_overwrites")
                .cloned()
                .unwrap_or(Value::Null),
        ),
        None => None,
    };
    let owner = model::snowflake(&info, "owner_id") == Some(bot_id);
    Ok(permissions::compute(
        guild,
        bot_id,
        owner,
        &roles,
        &member_roles,
        overwrites.as_ref(),
    ))
}

/// The guild and channel an action happens in, as far as the action says.
fn place(action: &Action) -> (Option<GuildId>, Option<ChannelId>) {
    match action {
        Action::EditMessage { channel, .. }
        | Action::DeleteMessage { channel, .. }
        | Action::FetchMessage { channel, .. }
        | Action::FetchMessages { channel, .. }
        | Action::BulkDelete { channel, .. }
        | Action::React { channel, .. }
        | Action::Unreact { channel, .. }
        | Action::EditChannel { channel, .. }
        | Action::DeleteChannel { channel, .. }
        | Action::SetOverwrite { channel, .. }
        | Action::CreateWebhook { channel, .. }
        | Action::Send { channel, .. } => (None, Some(*channel)),
        Action::Guild { guild }
        | Action::Roles { guild }
        | Action::Channels { guild }
        | Action::Member { guild, .. }
        | Action::Members { guild, .. }
        | Action::Bans { guild }
        | Action::Emojis { guild }
        | Action::CreateRole { guild, .. }
        | Action::EditRole { guild, .. }
        | Action::DeleteRole { guild, .. }
        | Action::CreateChannel { guild, .. }
        | Action::AddMemberRole { guild, .. }
        | Action::RemoveMemberRole { guild, .. }
        | Action::SetNickname { guild, .. }
        | Action::Kick { guild, .. }
        | Action::Ban { guild, .. }
        | Action::Unban { guild, .. }
        | Action::Timeout { guild, .. }
        | Action::EditGuild { guild, .. }
        | Action::RolePositions { guild, .. }
        | Action::CreateEmoji { guild, .. }
        | Action::DeleteEmoji { guild, .. }
        | Action::MoveMember { guild, .. } => (Some(*guild), None),
        Action::BotPermissions { guild, channel } => (Some(*guild), *channel),
        _ => (None, None),
    }
}

/// The code and message of Discord's error body, with the fields a 400 names.
pub(crate) fn discord_error(body: &str) -> (u64, String) {
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return (0, body.trim().chars().take(300).collect());
    };
    let code = value.get("code").and_then(Value::as_u64).unwrap_or(0);
    let mut message = value
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("no message")
        .to_owned();
    let mut fields = Vec::new();
    if let Some(errors) = value.get("errors") {
        field_errors(errors, String::new(), &mut fields);
    }
    if !fields.is_empty() {
        message.push_str(": ");
        message.push_str(&fields.join("; "));
    }
    (code, message)
}

/// Flattens Discord's nested `errors` tree into `path: message` lines.
fn field_errors(tree: &Value, path: String, out: &mut Vec<String>) {
    let Some(object) = tree.as_object() else {
        return;
    };
    for (key, value) in object {
        if key == "_errors" {
            for e in value.as_array().map(Vec::as_slice).unwrap_or_default() {
                let text = e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("invalid");
                out.push(format!("{path}: {text}"));
            }
        } else {
            let next = if path.is_empty() {
                key.clone()
            } else if key.chars().all(|c| c.is_ascii_digit()) {
                format!("{path}[{key}]")
            } else {
                format!("{path}.{key}")
            };
            field_errors(value, next, out);
        }
    }
}

/// The error the plugin gets for a failed action.
async fn explain(rest: &Rest, bot_id: u64, action: &Action, error: RestError) -> PluginError {
    let what = action.describe().to_owned();
    let RestError::Status { status, body, .. } = &error else {
        return PluginError::Host(format!("could not {what}: {error}"));
    };
    let (code, message) = discord_error(body);
    let refused = || PluginError::Discord {
        action: what.clone(),
        status: *status,
        code: u32::try_from(code).unwrap_or(0),
        message: message.clone(),
    };
    let needed = action.required_permissions();
    if code != MISSING_PERMISSIONS || needed.is_empty() {
        return refused();
    }
    // Which permission? Only now are the bot's permissions worked out.
    let (guild, channel) = place(action);
    let guild = match guild {
        Some(guild) => Some(guild),
        None => match channel {
            Some(c) => rest
                .get(&format!("/channels/{}", c.0))
                .await
                .ok()
                .and_then(|c| model::snowflake(&c, "guild_id"))
                .map(GuildId),
            None => None,
        },
    };
    let Some(guild) = guild else {
        return refused();
    };
    let channel_scoped = !matches!(
        action,
        Action::EditChannel { .. } | Action::DeleteChannel { .. }
    );
    let held = bot_permissions(rest, bot_id, guild, channel.filter(|_| channel_scoped)).await;
    match held {
        Ok(held) => {
            let missing = held.missing(needed);
            if missing.is_empty() {
                PluginError::Discord {
                    action: what,
                    status: *status,
                    code: u32::try_from(code).unwrap_or(0),
                    message: format!(
                        "{message} (the bot has {needed}, so the target is at or above the \
                         bot's highest role, or is the guild's owner)"
                    ),
                }
            } else {
                PluginError::MissingPermission {
                    action: what,
                    permission: missing.to_string(),
                }
            }
        }
        Err(_) => refused(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_iso8601() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000+00:00");
        assert_eq!(iso8601(1_780_000_000_123), "2026-05-28T20:26:40.123+00:00");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000+00:00");
    }

    #[test]
    fn field_errors_name_their_path() {
        let body = r#"{"code": 50035, "message": "Invalid Form Body", "errors": {"embeds": {"0": {"title": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length."}]}}}}}"#;
        let (code, message) = discord_error(body);
        assert_eq!(code, 50035);
        assert_eq!(
            message,
            "Invalid Form Body: embeds[0].title: Must be 256 or fewer in length."
        );
        assert_eq!(discord_error("oops").0, 0);
    }
}
