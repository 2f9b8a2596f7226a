//! The pages (GET, read only): each gathers its figures from the host's own parts and renders
//! its template inside `base.html`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::App;
use super::access::Permission;
use super::routes::{Current, refusal};

/// The menu: path, label, what it needs (`None`: any login).
const MENU: [(&str, &str, Option<Permission>); 15] = [
    ("/", "Overview", Some(Permission::ViewOverview)),
    ("/plugins", "Plugins", Some(Permission::ViewPlugins)),
    ("/commands", "Commands", Some(Permission::ViewCommands)),
    ("/hooks", "Hooks", Some(Permission::ViewHooks)),
    ("/logs", "Logs", Some(Permission::ViewLogs)),
    ("/config", "Config", Some(Permission::ViewConfig)),
    ("/shards", "Shards", Some(Permission::ViewShards)),
    ("/system", "System", Some(Permission::ViewSystem)),
    ("/guilds", "Guilds", Some(Permission::ViewGuilds)),
    ("/chat", "Chat", Some(Permission::ChatSend)),
    ("/databases", "Databases", Some(Permission::ViewDatabases)),
    ("/security", "Security", Some(Permission::ViewSecurity)),
    ("/invite", "Invite", None),
    ("/credits", "Credits", None),
    ("", "", None),
];

#[derive(Serialize)]
struct MenuItem {
    href: String,
    label: String,
    active: bool,
    /// A heading in the menu, not a link.
    section: bool,
}

/// Renders template `name` with `ctx` and the page frame's values (menu, user, CSRF token).
pub(crate) fn render(
    app: &App,
    current: &Current,
    name: &str,
    page: &str,
    ctx: minijinja::Value,
) -> Response {
    let mut menu: Vec<MenuItem> = MENU
        .iter()
        .filter(|(href, _, _)| !href.is_empty())
        .filter(|(_, _, need)| need.is_none_or(|p| current.can(p)))
        .map(|(href, label, _)| MenuItem {
            href: (*href).to_owned(),
            label: (*label).to_owned(),
            active: *href == page,
            section: false,
        })
        .collect();
    // The plugins' own pages, under their heading.
    if current.can(Permission::ViewPanels) {
        let panels = super::panels::menu(app);
        if !panels.is_empty() {
            menu.push(MenuItem {
                href: String::new(),
                label: "From plugins".to_owned(),
                active: false,
                section: true,
            });
        }
        menu.extend(panels.into_iter().map(|(href, label)| MenuItem {
            active: href == page,
            href,
            label,
            section: false,
        }));
    }
    let frame = context! {
        menu => Serde(menu),
        user => current.session().map(|s| s.user_name.clone()),
        user_id => current.session().map(|s| s.user_id.to_string()),
        role => current.role.as_ref().map(|r| r.name().to_owned()),
        csrf => current.session().map(|s| s.csrf.clone()),
        page,
    };
    let rendered = app
        .templates
        .get_template(name)
        .and_then(|t| t.render(context! { ..frame, ..ctx }));
    match rendered {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::warn!(template = name, %error, "dashboard template failed");
            refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "This page could not be shown (see the host's log).",
                false,
            )
        }
    }
}

/// `GET /login`.
pub(crate) async fn login(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
) -> Response {
    render(
        &app,
        &current,
        "login.html",
        "/login",
        context! { discord => app.oauth.is_some() },
    )
}

/// `GET /credits`.
pub(crate) async fn credits(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
) -> Response {
    render(
        &app,
        &current,
        "credits.html",
        "/credits",
        context! { version => env!("CARGO_PKG_VERSION") },
    )
}

/// The overview's figures, also sent live by [`super::live::overview`].
#[derive(Serialize)]
pub(crate) struct Figures {
    grade: Option<String>,
    grade_lines: Vec<String>,
    uptime: String,
    gateway: String,
    guilds: Option<u64>,
    latency_ms: Option<String>,
    commands: Option<u64>,
    commands_per_sec: Option<String>,
    error_rate: Option<String>,
    messages: Option<u64>,
    plugins: usize,
    memory: Option<String>,
    cpu: Option<String>,
    lag_ms: Option<String>,
}

/// Gathers the overview's figures.
pub(crate) async fn figures(app: &App) -> Figures {
    let sources = &app.sources;
    let report = sources.gateway.report().await;
    let stats = sources.gateway.stats();
    let diagnostics = match &sources.diagnostics {
        Some(d) if d.enabled() => Some(d.now().await),
        _ => None,
    };
    let latency = report
        .shards
        .iter()
        .filter_map(|s| s.latency_ms)
        .fold(None, |worst: Option<f64>, l| {
            Some(worst.map_or(l, |w| w.max(l)))
        });
    let uptime = stats
        .as_ref()
        .map_or_else(|| app.started.elapsed(), |s| s.uptime);
    Figures {
        grade: diagnostics.as_ref().map(|(_, g)| g.tier.label().to_owned()),
        grade_lines: diagnostics
            .as_ref()
            .map(|(_, g)| g.lines().lines().map(str::to_owned).collect())
            .unwrap_or_default(),
        uptime: duration(uptime.as_secs()),
        gateway: format!("{:?}", report.state),
        guilds: stats.as_ref().map(|s| s.guilds),
        latency_ms: latency.map(|l| format!("{l:.0}")),
        commands: stats.as_ref().map(|s| s.commands_run),
        commands_per_sec: diagnostics
            .as_ref()
            .map(|(s, _)| format!("{:.2}", s.commands_per_sec)),
        error_rate: diagnostics
            .as_ref()
            .map(|(s, _)| format!("{:.1}", s.error_rate)),
        messages: stats.as_ref().map(|s| s.messages_seen),
        plugins: sources.manager.table().plugins.len(),
        memory: diagnostics
            .as_ref()
            .and_then(|(s, _)| s.rss_bytes)
            .map(super::assets::size),
        cpu: diagnostics
            .as_ref()
            .and_then(|(s, _)| s.cpu_percent)
            .map(|c| format!("{c:.1}")),
        lag_ms: diagnostics
            .as_ref()
            .map(|(s, _)| format!("{:.1}", s.lag_max_ms)),
    }
}

/// `3d 4h 5m`.
pub(crate) fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h {m}m"),
    }
}

/// `GET /`.
pub(crate) async fn overview(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
) -> Response {
    let figures = figures(&app).await;
    render(
        &app,
        &current,
        "overview.html",
        "/",
        context! { figures => Serde(figures) },
    )
}

#[derive(Serialize)]
struct PluginRow {
    name: String,
    version: String,
    author: String,
    description: String,
    state: String,
    loaded: bool,
    generation: Option<u64>,
    api_version: Option<String>,
    load_ms: Option<String>,
    status: String,
    reason: String,
    dependencies: Vec<String>,
    conflicts: Vec<String>,
    commands: usize,
    calls: String,
    pinned: usize,
    file: Option<String>,
}

/// The plugins table's values (also the answer of each plugin action).
pub(crate) async fn plugins_context(app: &App, current: &Current) -> minijinja::Value {
    let manager = &app.sources.manager;
    let list = manager.list().await;
    let rows: Vec<PluginRow> = list
        .iter()
        .map(|p| PluginRow {
            name: p.name.clone(),
            version: p.version.clone(),
            author: p.author.clone(),
            description: p.description.clone(),
            state: p.state(),
            loaded: p.loaded,
            generation: p.generation,
            api_version: p.api_version.clone(),
            load_ms: p.load_time_ms.map(|t| format!("{t:.1}")),
            status: format!("{:?}", p.status),
            reason: p.reason.clone(),
            dependencies: p.dependencies.clone(),
            conflicts: p.conflicts.clone(),
            commands: p.commands.len(),
            calls: p.calls_line(),
            pinned: p.pinned,
            file: p.file.clone(),
        })
        .collect();
    let known: Vec<&str> = list.iter().map(|p| p.name.as_str()).collect();
    let available: Vec<String> = super::actions::library_names(manager)
        .into_iter()
        .filter(|name| !known.contains(&crate::manager::normalise(name).as_str()))
        .collect();
    let stats = manager.library_stats();
    context! {
        plugins => Serde(rows),
        available,
        pinned => stats.pinned.len(),
        pinned_bytes => super::assets::size(stats.pinned_bytes()),
        can_load => current.can(Permission::PluginsLoad),
        can_unload => current.can(Permission::PluginsUnload),
        can_reload => current.can(Permission::PluginsReload),
    }
}

/// `GET /plugins`.
pub(crate) async fn plugins(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
) -> Response {
    let ctx = plugins_context(&app, &current).await;
    render(&app, &current, "plugins.html", "/plugins", ctx)
}

#[derive(Serialize)]
struct CommandRow {
    name: String,
    plugin: String,
    description: String,
    kind: String,
    permission: String,
    cooldown: String,
    roles: Vec<String>,
    /// Runs counted in `main.db` (`None`: no databases).
    usage: Option<u64>,
    /// Failures since start.
    errors: u64,
}

/// `GET /commands`: the catalogue (the host's commands, then each plugin's) with the role
/// grants of `command_permissions`, how often each ran (`main.db`'s counts) and failed (since
/// start), and the last errors.
pub(crate) async fn commands(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
) -> Response {
    let dispatcher = app.sources.manager.dispatcher();
    let shared = dispatcher.shared();
    let config = shared.config_document();
    let usage: Option<std::collections::HashMap<String, u64>> = match &app.sources.databases {
        Some(db) => Some(
            db.databases()
                .command_stats(None)
                .await
                .unwrap_or_default()
                .into_iter()
                .collect(),
        ),
        None => None,
    };
    let errors = dispatcher.errors_by_command();
    let recent: Vec<minijinja::Value> = dispatcher
        .recent_errors()
        .into_iter()
        .rev()
        .map(|e| {
            let at =
                e.at.duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
            context! {
                at,
                command => e.command,
                plugin => e.plugin.unwrap_or_else(|| "host".to_owned()),
                author => e.author.to_string(),
                error => e.error,
            }
        })
        .collect();
    let rows: Vec<CommandRow> = shared
        .catalogue()
        .into_iter()
        .map(|info| {
            let spec = &info.spec;
            let roles = config
                .get("command_permissions")
                .and_then(|p| p.get(&spec.name))
                .and_then(|r| r.as_array())
                .map(|r| r.iter().map(ToString::to_string).collect())
                .unwrap_or_default();
            CommandRow {
                name: spec.name.clone(),
                plugin: info.plugin.clone().unwrap_or_else(|| "host".to_owned()),
                description: spec.description.clone(),
                kind: format!("{:?}", spec.kind),
                permission: format!("{:?}", spec.permission),
                cooldown: spec
                    .cooldown
                    .as_ref()
                    .map(|c| format!("{} per {:.0}s", c.rate, c.per.as_secs_f64()))
                    .unwrap_or_default(),
                roles,
                usage: usage
                    .as_ref()
                    .map(|u| u.get(&spec.name).copied().unwrap_or(0)),
                errors: errors.get(&spec.name).copied().unwrap_or(0),
            }
        })
        .collect();
    render(
        &app,
        &current,
        "commands.html",
        "/commands",
        context! {
            commands => Serde(rows),
            recent,
            can_permissions => current.can(Permission::CommandsPermissions),
        },
    )
}

/// `GET /shards`.
pub(crate) async fn shards(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
) -> Response {
    let report = app.sources.gateway.report().await;
    render(
        &app,
        &current,
        "shards.html",
        "/shards",
        context! { report => Serde(report) },
    )
}

/// `GET /system`: the diagnostics' figures now, the grade, and the stored checks.
pub(crate) async fn system(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
) -> Response {
    let Some(diagnostics) = app.sources.diagnostics.as_ref().filter(|d| d.enabled()) else {
        return render(
            &app,
            &current,
            "system.html",
            "/system",
            context! { off => true },
        );
    };
    let (snapshot, grade) = diagnostics.now().await;
    let history = diagnostics.history(24, 48).await.unwrap_or_default();
    let plugins: Vec<(String, u64, u64, u64)> = snapshot
        .plugins
        .iter()
        .map(|(name, calls)| (name.clone(), calls.calls, calls.blocked, calls.timed_out))
        .collect();
    let rows: Vec<minijinja::Value> = history
        .iter()
        .rev()
        .take(12)
        .map(|row| {
            context! {
                at => u64::try_from(row.at).unwrap_or_default(),
                tier => row.tier.label(),
                cpu => row.cpu_percent.map(|c| format!("{c:.1} %")).unwrap_or_default(),
                memory => row.rss_mb.map(|m| format!("{m:.0} MB")).unwrap_or_default(),
                lag => format!("{:.1} ms", row.lag_ms),
                rate => format!("{:.2}", row.commands_per_sec),
                errors => format!("{:.1} %", row.error_rate),
            }
        })
        .collect();
    render(
        &app,
        &current,
        "system.html",
        "/system",
        context! {
            off => false,
            tier => grade.tier.label(),
            reasons => grade.lines(),
            cpu => snapshot.cpu_percent.map(|c| format!("{c:.1}")),
            memory => snapshot.rss_bytes.map(super::assets::size),
            threads => snapshot.threads,
            lag_max => format!("{:.1}", snapshot.lag_max_ms),
            lag_avg => format!("{:.1}", snapshot.lag_avg_ms),
            workers => snapshot.workers,
            busy => format!("{:.1}", snapshot.busy_workers),
            tasks => snapshot.tasks,
            uptime => duration(snapshot.uptime.as_secs()),
            commands => snapshot.commands,
            errors => snapshot.errors,
            plugins => Serde(plugins),
            history => rows,
            has_history => !history.is_empty(),
        },
    )
}

/// `GET /system/chart.png`: the last 24 hours of stored checks, as `fw_health_chart` draws them.
pub(crate) async fn system_chart(State(app): State<Arc<App>>) -> Response {
    let Some(diagnostics) = app.sources.diagnostics.as_ref().filter(|d| d.enabled()) else {
        return (StatusCode::NOT_FOUND, "framework diagnostics are off").into_response();
    };
    let rows = match diagnostics.history(24, 2000).await {
        Ok(rows) if !rows.is_empty() => rows,
        _ => return (StatusCode::NOT_FOUND, "no stored health checks yet").into_response(),
    };
    let panels = crate::diagnostics::chart::panels(&rows);
    match tokio::task::spawn_blocking(move || crate::diagnostics::chart::render(&panels, 24.0))
        .await
    {
        Ok(Ok(png)) => ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "the chart failed").into_response(),
    }
}

/// The log page's filters.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub(crate) struct LogFilter {
    /// The least severe level shown: ERROR, WARN, INFO, DEBUG, TRACE.
    #[serde(default)]
    pub(crate) level: Option<String>,
    /// Only this plugin's lines.
    #[serde(default)]
    pub(crate) plugin: Option<String>,
}

impl LogFilter {
    /// Whether `line` passes.
    pub(crate) fn keeps(&self, line: &crate::logging::LogLine) -> bool {
        let level = self.level.as_deref().filter(|l| !l.is_empty());
        level.is_none_or(|l| line.rank() <= crate::logging::tail::level_rank(l))
            && self
                .plugin
                .as_deref()
                .filter(|p| !p.is_empty())
                .is_none_or(|p| line.plugin.as_deref() == Some(p))
    }

    /// The query string of the live feed for these filters.
    pub(crate) fn query(&self) -> String {
        format!(
            "level={}&plugin={}",
            super::oauth::encode(self.level.as_deref().unwrap_or_default()),
            super::oauth::encode(self.plugin.as_deref().unwrap_or_default())
        )
    }
}

/// `GET /logs?level=&plugin=`: the recent lines, then the live tail.
pub(crate) async fn logs(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Query(filter): Query<LogFilter>,
) -> Response {
    let lines: Vec<crate::logging::LogLine> = app
        .sources
        .logs
        .as_ref()
        .map(|tail| tail.recent())
        .unwrap_or_default()
        .into_iter()
        .filter(|l| filter.keeps(l))
        .collect();
    let plugins: Vec<String> = app
        .sources
        .manager
        .table()
        .plugins
        .keys()
        .cloned()
        .collect();
    render(
        &app,
        &current,
        "logs.html",
        "/logs",
        context! {
            lines => Serde(lines),
            on => app.sources.logs.is_some(),
            level => filter.level.clone().unwrap_or_default(),
            plugin => filter.plugin.clone().unwrap_or_default(),
            plugins,
            feed => filter.query(),
        },
    )
}

#[derive(Serialize)]
struct ConfigRow {
    key: String,
    value: String,
    default: String,
    set: bool,
    live: bool,
}

/// Every leaf of `value` under `prefix`.
fn leaves(value: &serde_json::Value, prefix: &str, out: &mut Vec<(String, serde_json::Value)>) {
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                let dotted = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                leaves(child, &dotted, out);
            }
        }
        other => out.push((prefix.to_owned(), other.clone())),
    }
}

/// `GET /config`: every key with its value now (secrets masked), its default, whether it
/// applies at once; the editor.
pub(crate) async fn config(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
) -> Response {
    use crate::config::edit;
    let shared = app.sources.manager.dispatcher().shared();
    let running = shared.config_document();
    let defaults = serde_json::to_value(crate::config::CoreConfig::default()).unwrap_or_default();
    let mut keys = Vec::new();
    leaves(&defaults, "", &mut keys);
    let mut set_keys = Vec::new();
    leaves(&running, "", &mut set_keys);
    for (key, _) in &set_keys {
        if !keys.iter().any(|(k, _)| k == key) {
            keys.push((key.clone(), serde_json::Value::Null));
        }
    }
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    let secrets: Vec<String> = shared
        .plugin_settings()
        .into_iter()
        .flat_map(|(name, settings)| {
            settings
                .into_iter()
                .filter(|s| s.secret)
                .map(move |s| format!("plugins.{name}.{}", s.key))
        })
        .collect();
    let rows: Vec<ConfigRow> = keys
        .into_iter()
        .map(|(key, default)| {
            let now = edit::get(&running, &key);
            let value = now.cloned().unwrap_or_else(|| default.clone());
            ConfigRow {
                value: edit::shown_with(&key, &value, &secrets).to_string(),
                default: edit::shown_with(&key, &default, &secrets).to_string(),
                set: now.is_some(),
                live: edit::is_live(&key),
                key,
            }
        })
        .collect();
    let file = shared.config_file();
    render(
        &app,
        &current,
        "config.html",
        "/config",
        context! {
            rows => Serde(rows),
            file => file.map(|f| f.display().to_string()),
            can_edit => current.can(Permission::ConfigEdit),
        },
    )
}

/// `GET /databases`: every database file, read only.
pub(crate) async fn databases(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
) -> Response {
    let stats = match &app.sources.databases {
        Some(db) => Some(db.databases().stats().await),
        None => None,
    };
    let rows: Vec<minijinja::Value> = stats
        .iter()
        .flat_map(|s| s.databases.iter())
        .map(|d| {
            context! {
                name => d.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                key => d.guild.map_or_else(|| "main".to_owned(), |g| g.to_string()),
                guild => d.guild.map(|g| g.to_string()),
                open => d.open,
                connections => d.connections,
                idle => d.idle_connections,
                size => super::assets::size(d.file_bytes),
                wal => super::assets::size(d.wal_bytes),
                queries => d.queries,
            }
        })
        .collect();
    render(
        &app,
        &current,
        "databases.html",
        "/databases",
        context! {
            on => stats.is_some(),
            databases => rows,
            can_check => current.can(Permission::DatabasesCheck),
        },
    )
}

/// `GET /guilds`: the guilds in the gateway cache, each with its own settings (editable with
/// `guilds.manage`) and a leave button (`guilds.leave`).
pub(crate) async fn guilds(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
) -> Response {
    let gateway = &app.sources.gateway;
    let mut rows = Vec::new();
    for guild in gateway.guilds() {
        let settings = match gateway.guild_settings(guild.id).await {
            Ok((settings, prefix, mention)) => context! {
                prefix => settings.prefix.clone().unwrap_or_default(),
                default_prefix => prefix,
                mention => match settings.mention_prefix {
                    Some(true) => "on",
                    Some(false) => "off",
                    None => "",
                },
                default_mention => if mention { "on" } else { "off" },
                errors => settings.auto_delete.errors,
                commands => settings.auto_delete.commands,
                roles => settings.command_roles.len(),
            },
            Err(error) => context! { error => error.to_string() },
        };
        rows.push(context! { guild => Serde(guild), settings });
    }
    render(
        &app,
        &current,
        "guilds.html",
        "/guilds",
        context! {
            guilds => rows,
            can_manage => current.can(Permission::GuildsManage),
            can_leave => current.can(Permission::GuildsLeave),
        },
    )
}

/// The hooks table and the recent runs (also the answer of each hook action).
pub(crate) fn hooks_context(app: &App, current: &Current) -> minijinja::Value {
    use crate::runtime::hooks::hook_name;
    let manager = &app.sources.manager;
    let dispatcher = manager.dispatcher();
    let health = dispatcher.hook_health();
    let hooks: Vec<minijinja::Value> = crate::discord::builtins::hooks::registered(manager)
        .into_iter()
        .map(|(id, priority)| {
            let stats = health.stats_of(&id);
            context! {
                name => hook_name(&id),
                plugin => id.0.clone(),
                event => id.1.clone(),
                priority,
                runs => stats.successes + stats.failures,
                failures => stats.failures,
                skipped => stats.skipped,
                mean => format!("{:.1}", stats.mean_ms),
                open => stats.circuit_open,
                disabled => health.is_disabled(&id),
            }
        })
        .collect();
    let now = std::time::SystemTime::now();
    let history: Vec<minijinja::Value> = health
        .history()
        .iter()
        .rev()
        .take(HOOK_RUNS_SHOWN)
        .map(|run| {
            context! {
                hook => hook_name(&run.hook),
                ago => now.duration_since(run.at).map_or(0, |d| d.as_secs()),
                millis => format!("{:.1}", run.millis),
                error => run.error.clone(),
            }
        })
        .collect();
    context! {
        hooks,
        history,
        on => dispatcher.hooks_enabled(),
        can_manage => current.can(Permission::HooksManage),
    }
}

/// Hook runs shown on the Hooks page, newest first.
const HOOK_RUNS_SHOWN: usize = 30;

/// `GET /hooks`: every registered hook with its counters, manual switch and circuit breaker,
/// and the last runs.
pub(crate) async fn hooks(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
) -> Response {
    let ctx = hooks_context(&app, &current);
    render(&app, &current, "hooks.html", "/hooks", ctx)
}

/// The chat page's choice: a guild and one of its text channels.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ChatQuery {
    #[serde(default)]
    guild: Option<String>,
    #[serde(default)]
    channel: Option<String>,
}

/// Messages of the chosen channel shown on the chat page.
const CHAT_RECENT: u8 = 5;

/// The chat page's values: the guilds, the chosen guild's text channels (through the Discord
/// layer), the chosen channel's last messages, and the message being written.
pub(crate) async fn chat_context(
    app: &App,
    guild: Option<u64>,
    channel: Option<u64>,
    content: &str,
) -> minijinja::Value {
    let gateway = &app.sources.gateway;
    let guilds = gateway.guilds();
    let guild = guild
        .filter(|g| guilds.iter().any(|known| known.id == *g))
        .or_else(|| guilds.first().map(|g| g.id));
    let (channels, mut error) = match guild {
        Some(g) => match gateway.text_channels(g).await {
            Ok(channels) => (channels, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        },
        None => (Vec::new(), None),
    };
    // A channel of the guild, or (after a send) the one written to.
    let channel = channel
        .filter(|c| channels.iter().any(|known| known.id == *c))
        .or_else(|| channels.first().map(|c| c.id));
    let recent = match channel {
        Some(c) => match gateway.recent_messages(c, CHAT_RECENT).await {
            Ok(recent) => recent,
            Err(e) => {
                error.get_or_insert(e.to_string());
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    let guilds: Vec<minijinja::Value> = guilds
        .iter()
        .map(|g| context! { id => g.id.to_string(), name => g.name.clone(), selected => Some(g.id) == guild })
        .collect();
    let channels: Vec<minijinja::Value> = channels
        .iter()
        .map(|c| context! { id => c.id.to_string(), name => c.name.clone(), selected => Some(c.id) == channel })
        .collect();
    context! {
        guilds,
        guild => guild.map(|g| g.to_string()),
        channels,
        channel => channel.map(|c| c.to_string()),
        recent => Serde(recent),
        error,
        content,
        limit => crate::discord::operate::MESSAGE_MAX,
    }
}

/// `GET /chat?guild=&channel=`: choose a guild and a channel, write as the bot.
pub(crate) async fn chat(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Query(query): Query<ChatQuery>,
) -> Response {
    let id = |v: &Option<String>| v.as_deref().and_then(|v| v.parse::<u64>().ok());
    let ctx = chat_context(&app, id(&query.guild), id(&query.channel), "").await;
    render(&app, &current, "chat.html", "/chat", ctx)
}

/// The table browser's choice.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct BrowseQuery {
    #[serde(default)]
    db: Option<String>,
    #[serde(default)]
    table: Option<String>,
    #[serde(default)]
    page: Option<u64>,
}

/// `GET /databases/browse?db=&table=&page=`: a database the host knows (by name, never a
/// path), its tables, and a table's rows a page at a time, read only.
pub(crate) async fn database_browse(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Query(query): Query<BrowseQuery>,
) -> Response {
    use crate::storage::db::browse::BrowseError;
    let Some(databases) = app.sources.databases.as_ref().map(|d| d.databases()) else {
        return render(
            &app,
            &current,
            "database_browse.html",
            "/databases",
            context! { on => false },
        );
    };
    let known: Vec<String> = databases
        .known()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let refused = |error: BrowseError| {
        let status = match error {
            BrowseError::UnknownDatabase(_) | BrowseError::UnknownTable(_) => StatusCode::NOT_FOUND,
            BrowseError::Open(_) | BrowseError::Sqlite { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        };
        refusal(status, &error.to_string(), false)
    };
    let db = query.db.filter(|d| !d.is_empty());
    let tables = match &db {
        Some(name) => match databases.tables(name).await {
            Ok(tables) => tables,
            Err(error) => return refused(error),
        },
        None => Vec::new(),
    };
    let page = match (&db, query.table.as_deref().filter(|t| !t.is_empty())) {
        (Some(name), Some(table)) => {
            match databases
                .table_page(name, table, query.page.unwrap_or(1))
                .await
            {
                Ok(page) => Some(page),
                Err(error) => return refused(error),
            }
        }
        _ => None,
    };
    render(
        &app,
        &current,
        "database_browse.html",
        "/databases",
        context! {
            on => true,
            known,
            db,
            tables,
            rows => Serde(page),
            page_rows => crate::storage::db::browse::PAGE_ROWS,
        },
    )
}

/// `GET /security`: the audit log and the sessions.
pub(crate) async fn security(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
) -> Response {
    let entries = app.audit.newest(300).await;
    let sessions = app.sessions.list();
    let own = current.session().map(|s| s.id.clone());
    render(
        &app,
        &current,
        "security.html",
        "/security",
        context! {
            entries => Serde(entries),
            sessions => Serde(sessions),
            own,
            can_revoke => current.can(Permission::SessionsRevoke),
        },
    )
}

/// Discord permission bits the invite helper offers: name, bit.
const INVITE_PERMISSIONS: [(&str, u32); 22] = [
    ("Administrator", 3),
    ("View Channels", 10),
    ("Send Messages", 11),
    ("Send Messages in Threads", 38),
    ("Embed Links", 14),
    ("Attach Files", 15),
    ("Read Message History", 16),
    ("Add Reactions", 6),
    ("Use External Emojis", 18),
    ("Manage Messages", 13),
    ("Manage Channels", 4),
    ("Manage Roles", 28),
    ("Manage Webhooks", 29),
    ("Manage Server", 5),
    ("Kick Members", 1),
    ("Ban Members", 2),
    ("Moderate Members", 40),
    ("Manage Nicknames", 27),
    ("Connect", 20),
    ("Speak", 21),
    ("Move Members", 24),
    ("Create Instant Invite", 0),
];

/// `GET /invite?client_id=&p=BIT&p=BIT`: the permission calculator and the invite URL.
pub(crate) async fn invite(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let mut chosen: Vec<u32> = Vec::new();
    let mut client_id = app.config.oauth_client_id.clone().unwrap_or_default();
    for pair in query.as_deref().unwrap_or_default().split('&') {
        match pair.split_once('=') {
            Some(("p", bit)) => {
                if let Ok(bit) = bit.parse::<u32>()
                    && INVITE_PERMISSIONS.iter().any(|(_, b)| *b == bit)
                    && !chosen.contains(&bit)
                {
                    chosen.push(bit);
                }
            }
            Some(("client_id", id)) if id.len() <= 20 && id.parse::<u64>().is_ok() => {
                client_id = id.to_owned();
            }
            _ => {}
        }
    }
    let bits: u64 = chosen.iter().fold(0, |all, bit| all | (1_u64 << bit));
    let url = (!client_id.is_empty()).then(|| {
        format!(
            "https://discord.com/oauth2/authorize?client_id={client_id}&scope=bot%20applications.commands&permissions={bits}"
        )
    });
    let options: Vec<minijinja::Value> = INVITE_PERMISSIONS
        .iter()
        .map(|(name, bit)| context! { name => *name, bit => *bit, on => chosen.contains(bit) })
        .collect();
    render(
        &app,
        &current,
        "invite.html",
        "/invite",
        context! { options, bits, url, client_id },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(5), "5s");
        assert_eq!(duration(65), "1m 5s");
        assert_eq!(duration(3_700), "1h 1m");
        assert_eq!(duration(90_061), "1d 1h 1m");
    }
}
