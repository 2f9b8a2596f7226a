//! The state changes (POST, behind the guard's CSRF and permission checks) and the logins.
//!
//! Plugin operations call the same [`Manager`] operations as the console (`load NAME`,
//! `unload NAME`, `reload NAME`), with names only (never a path: a library is loaded from
//! `extensions/` or not at all); config changes go through the same checked, atomic
//! [`crate::runtime::Shared::set_config_key`] as `fw_config_set`. Each is audited.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::App;
use super::audit::Entry;
use super::auth::{self, Via};
use super::routes::{Current, refusal};
use crate::manager::Manager;

/// The libraries in `extensions/` by extension name (what may be loaded).
pub(crate) fn library_names(manager: &Manager) -> Vec<String> {
    manager.extension_names()
}

/// Writes one action of `current` to the audit log.
pub(crate) async fn record(
    app: &App,
    current: &Current,
    action: &str,
    target: &str,
    outcome: &str,
) {
    let (user_id, user) = current
        .session()
        .map(|s| (s.user_id, s.user_name.clone()))
        .unwrap_or_default();
    app.audit
        .record(Entry {
            at: auth::unix_now(),
            user_id,
            user,
            ip: current.ip.to_string(),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: outcome.to_owned(),
        })
        .await;
}

/// Records an action's outcome in the audit log and answers with its notice (and `fragment`).
async fn finish(
    app: &App,
    current: &Current,
    action: &str,
    target: &str,
    (ok, message): (bool, String),
    fragment: Option<String>,
) -> Response {
    record(app, current, action, target, &outcome(ok, &message)).await;
    answer(ok, &message, fragment)
}

/// A notice for the page's notice area plus, when given, a fragment for the action's target.
fn answer(ok: bool, message: &str, fragment: Option<String>) -> Response {
    let notice = format!(
        "<div id=\"flash\" hx-swap-oob=\"innerHTML\"><p class=\"notice {}\">{}</p></div>",
        if ok { "ok" } else { "error" },
        minijinja::HtmlEscape(message)
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!("{}{notice}", fragment.unwrap_or_default()),
    )
        .into_response()
}

/// Template `name` rendered alone (a part of a page an action replaces).
fn fragment(app: &App, name: &str, ctx: minijinja::Value) -> Option<String> {
    app.templates
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .ok()
}

/// The plugins table after an action.
async fn plugins_table(app: &App, current: &Current) -> Option<String> {
    let ctx = super::pages::plugins_context(app, current).await;
    fragment(app, "plugins_table.html", ctx)
}

/// A plugin name as the console takes it, refused when it could be a path.
fn plugin_name(name: &str) -> Option<String> {
    let name = crate::manager::normalise(name);
    (!name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    .then_some(name)
}

/// `POST /plugins/{name}/reload`.
pub(crate) async fn plugin_reload(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Path(name): Path<String>,
) -> Response {
    let Some(name) = plugin_name(&name) else {
        return refusal(StatusCode::BAD_REQUEST, "Not a plugin name.", true);
    };
    let (ok, message) = match app.sources.manager.reload(&name).await {
        Ok(done) => (
            true,
            done.iter()
                .map(|r| {
                    format!(
                        "reloaded {} (generation {} -> {}, {:.1} ms)",
                        r.name, r.from, r.to, r.millis
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Err(error) => (false, format!("error: {error}")),
    };
    finish(
        &app,
        &current,
        "plugins.reload",
        &name,
        (ok, message),
        plugins_table(&app, &current).await,
    )
    .await
}

/// `POST /plugins/{name}/unload` (`force=true` also unloads dependents, as `unload --force`).
pub(crate) async fn plugin_unload(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Path(name): Path<String>,
    Query(force): Query<ForceQuery>,
) -> Response {
    let Some(name) = plugin_name(&name) else {
        return refusal(StatusCode::BAD_REQUEST, "Not a plugin name.", true);
    };
    let (ok, message) = match app.sources.manager.unload(&name, force.force).await {
        Ok(names) => (true, format!("unloaded {}", names.join(", "))),
        Err(error) => (false, format!("error: {error}")),
    };
    finish(
        &app,
        &current,
        "plugins.unload",
        &name,
        (ok, message),
        plugins_table(&app, &current).await,
    )
    .await
}

/// `?force=true`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ForceQuery {
    #[serde(default)]
    force: bool,
}

/// `POST /plugins/{name}/load`: a library of `extensions/`, by name.
pub(crate) async fn plugin_load(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Path(name): Path<String>,
) -> Response {
    let known = library_names(&app.sources.manager);
    let Some(name) = plugin_name(&name).filter(|n| known.contains(n)) else {
        record(
            &app,
            &current,
            "plugins.load",
            &name,
            "refused: not a library in extensions/",
        )
        .await;
        return refusal(
            StatusCode::BAD_REQUEST,
            "No such library in extensions/ (only those can be loaded).",
            true,
        );
    };
    let (ok, message) = match app.sources.manager.load(&name).await {
        Ok(loaded) => (true, format!("loaded {loaded}")),
        Err(error) => (false, format!("error: {error}")),
    };
    finish(
        &app,
        &current,
        "plugins.load",
        &name,
        (ok, message),
        plugins_table(&app, &current).await,
    )
    .await
}

fn outcome(ok: bool, message: &str) -> String {
    if ok {
        "ok".to_owned()
    } else {
        format!("failed: {message}")
    }
}

/// The config editor's form.
#[derive(Debug, Deserialize)]
pub(crate) struct ConfigForm {
    key: String,
    value: String,
}

/// `POST /config`: one key, checked with the whole file and written atomically, as
/// `fw_config_set` does.
pub(crate) async fn config_set(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Form(form): Form<ConfigForm>,
) -> Response {
    use crate::config::edit;
    let key = form.key.trim().to_owned();
    let value = edit::parse_value(&form.value);
    let shown = edit::shown(&key, &value);
    let result = app
        .sources
        .manager
        .dispatcher()
        .shared()
        .set_config_key(&key, value)
        .await;
    let (ok, message) = match result {
        Ok(true) => (true, format!("{key} = {shown}: saved and applied now.")),
        Ok(false) => (
            true,
            format!("{key} = {shown}: saved; it takes effect at the next start."),
        ),
        Err(error) => (
            false,
            format!("Not changed: {error}. config.json was left as it was."),
        ),
    };
    finish(
        &app,
        &current,
        "config.edit",
        &format!("{key} = {shown}"),
        (ok, message),
        None,
    )
    .await
}

/// The command permissions editor's form: a command and the role ids that may run it
/// (separated by commas or spaces; none clears the grant).
#[derive(Debug, Deserialize)]
pub(crate) struct PermissionsForm {
    command: String,
    #[serde(default)]
    roles: String,
}

/// Role ids typed by a person: numbers separated by commas or spaces.
fn role_ids(text: &str) -> Result<Vec<u64>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<u64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| format!("`{part}` is not a role id (a number)"))
        })
        .collect()
}

/// `POST /commands/permissions`: sets (or with no roles clears) `command_permissions.COMMAND`
/// through the config editor's checked, atomic write.
pub(crate) async fn command_permissions(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Form(form): Form<PermissionsForm>,
) -> Response {
    let shared = app.sources.manager.dispatcher().shared();
    let command = form.command.trim().to_owned();
    let known = shared
        .catalogue()
        .iter()
        .any(|info| info.spec.name == command);
    let checked = if !known || command.contains('.') {
        Err(format!("no command named `{command}`"))
    } else {
        role_ids(&form.roles)
    };
    let (ok, message) = match checked {
        Err(why) => (
            false,
            format!("Not changed: {why}. config.json was left as it was."),
        ),
        Ok(roles) => {
            let key = format!("command_permissions.{command}");
            match shared.set_config_key(&key, serde_json::json!(roles)).await {
                Ok(_) if roles.is_empty() => (
                    true,
                    format!("{command}: no role grant now (saved and applied)."),
                ),
                Ok(_) => (
                    true,
                    format!(
                        "{command}: for members with role {} (saved and applied).",
                        roles
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                Err(error) => (
                    false,
                    format!("Not changed: {error}. config.json was left as it was."),
                ),
            }
        }
    };
    finish(
        &app,
        &current,
        "commands.permissions",
        &format!("{command} = [{}]", form.roles.trim()),
        (ok, message),
        None,
    )
    .await
}

/// The hook actions' form: the hook's name (`plugin/event#index`).
#[derive(Debug, Deserialize)]
pub(crate) struct HookForm {
    hook: String,
}

/// The hooks table after an action.
fn hooks_table(app: &App, current: &Current) -> Option<String> {
    fragment(
        app,
        "hooks_table.html",
        super::pages::hooks_context(app, current),
    )
}

/// What a hook action does: `disable`, `enable`, `reset` (the circuit).
#[derive(Clone, Copy)]
enum HookAction {
    Disable,
    Enable,
    Reset,
}

impl HookAction {
    fn named(name: &str) -> Option<Self> {
        match name {
            "disable" => Some(Self::Disable),
            "enable" => Some(Self::Enable),
            "reset" => Some(Self::Reset),
            _ => None,
        }
    }
}

/// `POST /hooks/{action}` (`disable`, `enable`, `reset`), as `eh_disable`, `eh_enable` and
/// `eh_reset_circuit` do it: the same lookup of a registered hook, the same
/// [`crate::runtime::hooks::HookHealth`] operations.
pub(crate) async fn hook_action(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Path(action): Path<String>,
    Form(form): Form<HookForm>,
) -> Response {
    use crate::runtime::hooks::hook_name;
    let Some(action) = HookAction::named(&action) else {
        return refusal(StatusCode::NOT_FOUND, "No such hook action.", true);
    };
    let manager = &app.sources.manager;
    let health = manager.dispatcher().hook_health();
    let (ok, message) = match crate::discord::builtins::hooks::find_hook(manager, &form.hook) {
        Err(error) => (false, error.to_string()),
        Ok(id) => {
            let name = hook_name(&id);
            match action {
                HookAction::Disable | HookAction::Enable => {
                    let disable = matches!(action, HookAction::Disable);
                    match (health.set_disabled(&id, disable), disable) {
                        (Ok(true), true) => {
                            (true, format!("{name} is disabled: skipped until enabled."))
                        }
                        (Ok(false), true) => (true, format!("{name} was disabled already.")),
                        (Ok(true), false) => (true, format!("{name} is enabled: it runs again.")),
                        (Ok(false), false) => (true, format!("{name} was not disabled.")),
                        (Err(error), _) => (false, error.to_string()),
                    }
                }
                HookAction::Reset => {
                    if health.reset(&id) {
                        (
                            true,
                            format!("{name}: circuit closed; it runs again from its next event."),
                        )
                    } else {
                        (
                            true,
                            format!(
                                "{name}: the circuit was closed; its failure count is cleared."
                            ),
                        )
                    }
                }
            }
        }
    };
    let what = match action {
        HookAction::Disable => "hooks.disable",
        HookAction::Enable => "hooks.enable",
        HookAction::Reset => "hooks.reset",
    };
    let table = hooks_table(&app, &current);
    finish(&app, &current, what, &form.hook, (ok, message), table).await
}

/// The chat form: where, and what.
#[derive(Debug, Deserialize)]
pub(crate) struct ChatForm {
    #[serde(default)]
    guild: String,
    channel: String,
    #[serde(default)]
    content: String,
}

/// `POST /chat`: sends the message as the bot through the Discord layer (Discord's limits
/// checked first; Discord's refusal shown). On failure the message stays in the form.
pub(crate) async fn chat_send(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Form(form): Form<ChatForm>,
) -> Response {
    let Ok(channel) = form.channel.trim().parse::<u64>() else {
        return refusal(StatusCode::BAD_REQUEST, "Choose a channel.", true);
    };
    let guild = form.guild.trim().parse::<u64>().ok();
    let (ok, message) = match app.sources.gateway.send_text(channel, &form.content).await {
        Ok(id) => (true, format!("Sent to channel {channel} (message {id}).")),
        Err(error) => (false, format!("Not sent: {error}.")),
    };
    let kept = if ok { "" } else { form.content.as_str() };
    let ctx = super::pages::chat_context(&app, guild, Some(channel), kept).await;
    let target = format!(
        "channel {channel} ({} characters)",
        form.content.chars().count()
    );
    let panel = fragment(&app, "chat_panel.html", ctx);
    finish(&app, &current, "chat.send", &target, (ok, message), panel).await
}

/// The guild settings form, as the settings commands take them.
#[derive(Debug, Deserialize)]
pub(crate) struct GuildSettingsForm {
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    mention: String,
    #[serde(default)]
    errors: String,
    #[serde(default)]
    commands: String,
}

/// The changes a guild settings form asks for, checked as the settings commands check them.
fn guild_changes(form: &GuildSettingsForm) -> Result<Vec<crate::guild_settings::Change>, String> {
    use crate::guild_settings::{Change, parse_seconds};
    let prefix = form.prefix.trim();
    let mention = match form.mention.as_str() {
        "" => None,
        "on" => Some(true),
        "off" => Some(false),
        other => {
            return Err(format!(
                "`{other}`: the @mention prefix is on, off or default"
            ));
        }
    };
    let changes = vec![
        Change::Prefix((!prefix.is_empty()).then(|| prefix.to_owned())),
        Change::MentionPrefix(mention),
        Change::AutoDeleteErrors(parse_seconds(&form.errors).map_err(|e| e.to_string())?),
        Change::AutoDeleteCommands(parse_seconds(&form.commands).map_err(|e| e.to_string())?),
    ];
    for change in &changes {
        change.check().map_err(|e| e.to_string())?;
    }
    Ok(changes)
}

/// A guild id from the path.
fn guild_id(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().filter(|id| *id > 0)
}

/// `POST /guilds/{id}/settings`: the guild's prefix, @mention prefix and auto-delete delays,
/// through the settings commands' checks and store. Only for a guild the bot is in.
pub(crate) async fn guild_settings(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Path(id): Path<String>,
    Form(form): Form<GuildSettingsForm>,
) -> Response {
    let gateway = &app.sources.gateway;
    let Some(guild) = guild_id(&id).filter(|g| gateway.guilds().iter().any(|k| k.id == *g)) else {
        return refusal(StatusCode::NOT_FOUND, "The bot is in no such guild.", true);
    };
    let result = match guild_changes(&form) {
        Err(why) => Err(why),
        Ok(changes) => gateway
            .change_guild_settings(guild, changes)
            .await
            .map_err(|e| e.to_string()),
    };
    let (ok, message) = match result {
        Ok(()) => (true, format!("Settings of guild {guild} saved.")),
        Err(why) => (false, format!("Not changed: {why}")),
    };
    finish(
        &app,
        &current,
        "guilds.settings",
        &format!(
            "{guild}: prefix={:?} mention={:?} errors={:?} commands={:?}",
            form.prefix, form.mention, form.errors, form.commands
        ),
        (ok, message),
        None,
    )
    .await
}

/// `POST /guilds/{id}/leave`: the bot leaves the guild (Discord's answer decides; GUILD_DELETE
/// then takes it out of the cache).
pub(crate) async fn guild_leave(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Path(id): Path<String>,
) -> Response {
    let Some(guild) = guild_id(&id) else {
        return refusal(StatusCode::BAD_REQUEST, "Not a guild id.", true);
    };
    let name = app
        .sources
        .gateway
        .guilds()
        .into_iter()
        .find(|g| g.id == guild)
        .map_or_else(|| guild.to_string(), |g| format!("{} ({guild})", g.name));
    let result = app.sources.gateway.leave_guild(guild).await;
    let (ok, message) = match &result {
        Ok(()) => (true, format!("Left {name}.")),
        Err(error) => (false, format!("Did not leave {name}: {error}.")),
    };
    record(
        &app,
        &current,
        "guilds.leave",
        &name,
        &outcome(ok, &message),
    )
    .await;
    if ok {
        // The guild's card goes.
        answer(true, &message, None)
    } else {
        refusal(StatusCode::BAD_GATEWAY, &message, true)
    }
}

/// The integrity check's form: a database by name (`main` or a guild id).
#[derive(Debug, Deserialize)]
pub(crate) struct DatabaseForm {
    database: String,
}

/// `POST /databases/check`: `PRAGMA integrity_check` of one database the host knows, on a
/// read-only connection.
pub(crate) async fn database_check(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Form(form): Form<DatabaseForm>,
) -> Response {
    let Some(settings) = &app.sources.databases else {
        return refusal(
            StatusCode::NOT_FOUND,
            "This host runs without its databases.",
            true,
        );
    };
    let name = form.database.trim();
    let (ok, message) = match settings.databases().check_read_only(name).await {
        Ok(Ok(())) => (true, format!("{name}: integrity check ok.")),
        Ok(Err(findings)) => (false, format!("{name}: integrity check found: {findings}")),
        Err(error) => (false, format!("{name}: not checked: {error}")),
    };
    finish(&app, &current, "databases.check", name, (ok, message), None).await
}

/// `POST /sessions/{id}/revoke`.
pub(crate) async fn session_revoke(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Path(id): Path<String>,
) -> Response {
    let ended = app.sessions.revoke(&id).await;
    let (ok, message) = match &ended {
        Some(session) => (
            true,
            format!(
                "ended the session of {} ({})",
                session.user_name, session.id
            ),
        ),
        None => (false, "no such session".to_owned()),
    };
    finish(&app, &current, "sessions.revoke", &id, (ok, message), None).await
}

/// `POST /logout`.
pub(crate) async fn logout(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
) -> Response {
    if let Some(token) = &current.token {
        app.sessions.end(token).await;
    }
    record(&app, &current, "logout", "", "ok").await;
    (
        StatusCode::OK,
        [
            (
                header::SET_COOKIE,
                auth::set_cookie(auth::SESSION_COOKIE, "", 0, app.secure),
            ),
            (
                header::HeaderName::from_static("hx-redirect"),
                "/login".to_owned(),
            ),
        ],
        "logged out",
    )
        .into_response()
}

/// The login form: a one-time code.
#[derive(Debug, Deserialize)]
pub(crate) struct CodeForm {
    code: String,
}

/// Starts a session for `user` and sends the browser to the overview.
async fn logged_in(app: &App, current: &Current, user_id: u64, name: &str, via: Via) -> Response {
    let Ok((token, session)) = app.sessions.start(user_id, name, current.ip, via).await else {
        return refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "No random numbers for a session.",
            false,
        );
    };
    let mut as_user = current.clone();
    as_user.session = Some(session);
    record(app, &as_user, "login", &format!("{via:?}"), "ok").await;
    let cookie = auth::set_cookie(
        auth::SESSION_COOKIE,
        &token,
        app.config.session_hours * 3600,
        app.secure,
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

/// A refused login: audited, and the login page's message.
async fn login_refused(app: &App, current: &Current, who: &str, why: &str) -> Response {
    app.audit
        .record(Entry {
            at: auth::unix_now(),
            user_id: 0,
            user: who.to_owned(),
            ip: current.ip.to_string(),
            action: "login".to_owned(),
            target: String::new(),
            outcome: format!("refused: {why}"),
        })
        .await;
    refusal(
        StatusCode::FORBIDDEN,
        &format!("Login refused: {why}."),
        false,
    )
}

fn too_many() -> Response {
    refusal(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many login attempts from this address; wait a minute.",
        false,
    )
}

/// `POST /login/code`: a one-time code from the console.
pub(crate) async fn login_code(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Form(form): Form<CodeForm>,
) -> Response {
    if !app.sessions.attempt(current.ip) {
        return too_many();
    }
    match app.sessions.redeem_code(form.code.trim()) {
        Some((user_id, name)) => logged_in(&app, &current, user_id, &name, Via::ConsoleCode).await,
        None => {
            login_refused(
                &app,
                &current,
                "console code",
                "unknown, used or expired code",
            )
            .await
        }
    }
}

/// `GET /login/discord`: off to Discord's authorize page, with a `state` kept in a cookie and
/// here (one use, 10 minutes).
pub(crate) async fn login_discord(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
) -> Response {
    let Some(oauth) = &app.oauth else {
        return refusal(
            StatusCode::NOT_FOUND,
            "Discord login is not set up (dashboard.oauth_client_id and its secret).",
            false,
        );
    };
    if !app.sessions.attempt(current.ip) {
        return too_many();
    }
    let Ok(state) = auth::new_secret() else {
        return refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "No random numbers.",
            false,
        );
    };
    if let Ok(mut states) = app.states.lock() {
        let now = Instant::now();
        states.retain(|(_, until)| *until > now);
        states.push((auth::digest(&state), now + Duration::from_secs(600)));
    }
    let cookie = auth::set_cookie(auth::STATE_COOKIE, &state, 600, app.secure);
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to(&oauth.authorize_url(&state)),
    )
        .into_response()
}

/// What Discord sends back.
#[derive(Debug, Deserialize)]
pub(crate) struct Callback {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// `GET /login/callback?code=&state=`: the state checked against the cookie (constant-time)
/// and spent, the code exchanged, the user's role looked up; deny by default.
pub(crate) async fn login_callback(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Response {
    let Some(oauth) = &app.oauth else {
        return refusal(StatusCode::NOT_FOUND, "Discord login is not set up.", false);
    };
    if !app.sessions.attempt(current.ip) {
        return too_many();
    }
    if let Some(error) = &callback.error {
        return login_refused(&app, &current, "discord", &format!("Discord said {error}")).await;
    }
    let cookie_state = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| auth::cookie(c, auth::STATE_COOKIE))
        .unwrap_or_default();
    let (Some(code), Some(state)) = (&callback.code, &callback.state) else {
        return login_refused(&app, &current, "discord", "no code or state").await;
    };
    let known = app.states.lock().ok().is_some_and(|mut states| {
        let given = auth::digest(state);
        let now = Instant::now();
        let before = states.len();
        states.retain(|(digest, until)| {
            !(bool::from(subtle::ConstantTimeEq::ct_eq(&digest[..], &given[..])) && *until > now)
        });
        states.len() < before
    });
    if !known || !auth::same_secret(state, cookie_state) {
        return login_refused(&app, &current, "discord", "the state does not match").await;
    }
    let user = match oauth.user_of(code).await {
        Ok(user) => user,
        Err(error) => return login_refused(&app, &current, "discord", &error).await,
    };
    if app.access().role_of(user.id).is_none() {
        return login_refused(
            &app,
            &current,
            &format!("{} ({})", user.name, user.id),
            "not a bot owner nor in dashboard.users",
        )
        .await;
    }
    let mut response = logged_in(&app, &current, user.id, &user.name, Via::Discord).await;
    if let Ok(value) =
        auth::set_cookie(auth::STATE_COOKIE, "", 0, app.secure).parse::<header::HeaderValue>()
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guild_settings::Change;

    #[test]
    fn role_ids_and_guild_settings_forms_are_checked() {
        assert_eq!(role_ids("1, 2 3,,"), Ok(vec![1, 2, 3]));
        assert_eq!(role_ids(""), Ok(vec![]));
        assert!(role_ids("admins").is_err() && role_ids("0").is_err() && role_ids("-1").is_err());
        let form = |prefix: &str, mention: &str, errors: &str| GuildSettingsForm {
            prefix: prefix.to_owned(),
            mention: mention.to_owned(),
            errors: errors.to_owned(),
            commands: "off".to_owned(),
        };
        let changes = guild_changes(&form(" ? ", "off", "30s")).expect("valid");
        assert_eq!(
            changes,
            vec![
                Change::Prefix(Some("?".to_owned())),
                Change::MentionPrefix(Some(false)),
                Change::AutoDeleteErrors(30),
                Change::AutoDeleteCommands(0),
            ]
        );
        assert_eq!(
            guild_changes(&form("", "", "0")).expect("valid")[0],
            Change::Prefix(None)
        );
        assert!(guild_changes(&form("a b", "", "0")).is_err());
        assert!(guild_changes(&form("!", "maybe", "0")).is_err());
        assert!(guild_changes(&form("!", "", "3601")).is_err());
    }

    #[test]
    fn plugin_names_are_never_paths() {
        assert_eq!(plugin_name("hello").as_deref(), Some("hello"));
        assert_eq!(plugin_name("my plugin").as_deref(), Some("my_plugin"));
        for bad in ["../x", "/tmp/x.so", "a/b", "x.so", "", "..", "a\0b"] {
            assert_eq!(plugin_name(bad), None, "{bad:?}");
        }
    }
}
