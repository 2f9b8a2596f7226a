//! The `zoryx` binary: a thin shell over `zoryx_host`.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser as _;
use tracing_subscriber::filter::LevelFilter;
use zoryx_host::cli::{Cli, Command, PluginsCommand, check_report};
use zoryx_host::config::{BotEnv, Config, CoreConfig, Loaded};
use zoryx_host::console::{ConsoleMode, Ended};
use zoryx_host::discord::{self, DiscordHandle, DiscordOptions, Services};
use zoryx_host::guild_settings::GuildSettingsStore;
use zoryx_host::logging::{LogGuard, LogOptions, LogTail};
use zoryx_host::manager::{HostPaths, Manager};
use zoryx_host::stop::{Signal, Stop, StopReason};
use zoryx_host::storage::atomic::{AtomicOptions, AtomicStore};
use zoryx_host::storage::db::report::PathCheck;
use zoryx_host::storage::db::{Databases, DbOptions, SqliteSettings};
use zoryx_host::storage::plugin::PluginStorage;

/// mimalloc: the host hands data between the runtime's threads and the plugin threads all the
/// time, which glibc's per-thread arenas handle poorly (a quarter of the time of a message burst
/// went to malloc and free). Plugins keep their own allocator: what crosses the plugin API is
/// freed by the side that allocated it (abi_stable's types carry their deallocator).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// For `run`: applies `.env` (next to config.json) to the environment, loads (or creates)
/// config.json with the environment's precedence applied, starts the log files and the console
/// log, and removes temp files left in the data folder by interrupted writes.
/// In offline mode with its chat on the terminal, the console log shows warnings and errors only
/// (the files keep the full level).
fn start(cli: &Cli, mode: ConsoleMode) -> anyhow::Result<(Loaded, LogGuard, Option<LogTail>)> {
    let env_file = cli
        .config
        .parent()
        .unwrap_or(std::path::Path::new(""))
        .join(".env");
    if let Err(error) = dotenvy::from_path(&env_file)
        && !error.not_found()
    {
        return Err(anyhow::anyhow!("{}: {error}", env_file.display()));
    }
    let mut loaded = Config::load_or_create(&cli.config)?;
    let env = BotEnv::from_process()?;
    loaded.config = loaded.config.with_env(&env);
    let mut options = LogOptions::from_config(&cli.config, &loaded.config.core.logging);
    // The dashboard's live log.
    if loaded.config.core.dashboard.enabled {
        options.tail = Some(zoryx_host::logging::LogTail::new(1000));
    }
    if env.token.is_none() && mode != ConsoleMode::Off {
        options.console_level = Some(LevelFilter::WARN);
    }
    let guard = zoryx_host::logging::init(&options)?;
    if loaded.created {
        tracing::info!(file = %cli.config.display(), "created the config file with the defaults");
    }
    for unknown in &loaded.unknown_keys {
        tracing::warn!(file = %cli.config.display(), "{unknown}");
    }
    if let Err(error) = zoryx_host::storage::atomic::remove_stale_temp_files(&cli.data) {
        tracing::warn!(%error, "could not clean up temp files in the data folder");
    }
    Ok((loaded, guard, options.tail))
}

/// The console mode of a `run` (also the default command), `None` for the other commands.
fn console_mode(cli: &Cli) -> Option<ConsoleMode> {
    match cli.command {
        None => Some(ConsoleMode::for_stdin(false, false)),
        Some(Command::Run {
            console,
            no_console,
        }) => Some(ConsoleMode::for_stdin(console, no_console)),
        Some(
            Command::Plugins { .. }
            | Command::Health { .. }
            | Command::Worker(_)
            | Command::Queue(_)
            | Command::Market { .. },
        ) => None,
    }
}

fn out(text: &str) {
    let _ = writeln!(std::io::stdout(), "{text}");
}

/// `zoryx market install|update|remove|list|...`: the marketplace of `config.json` (with the
/// environment applied), installing into `--extensions`; progress on the log.
fn market_request(
    cli: &Cli,
    request: zoryx_plugin_api::market::MarketRequest,
) -> anyhow::Result<String> {
    let config = Config::load(&cli.config)?;
    let exe = std::env::current_exe().context("cannot find the zoryx binary for the checks")?;
    let options = zoryx_host::market::MarketOptions::new(
        &config.core.marketplace,
        &cli.data,
        &cli.extensions,
        Some(exe),
    )?;
    let market = zoryx_host::market::Marketplace::new(options, None)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    Ok(runtime.block_on(zoryx_host::market::run_request(&market, request))?)
}

/// No transparent huge pages ([`zoryx_host::no_huge_pages`]); not fatal: only memory use grows.
fn no_huge_pages() {
    if let Err(error) = zoryx_host::no_huge_pages() {
        // Logging is not up yet.
        let _ = writeln!(
            std::io::stderr(),
            "zoryx: transparent huge pages stay on: {error}"
        );
    }
}

fn main() -> ExitCode {
    no_huge_pages();
    let cli = Cli::parse();
    // The trial load: nothing but the check, with no runtime or logging to get in the way.
    if let Some(Command::Plugins {
        command:
            PluginsCommand::Check {
                file,
                quiet: true,
                manifest,
            },
    }) = &cli.command
    {
        return match zoryx_host::loader::check_file(file) {
            Ok((api, description)) => {
                if *manifest {
                    out(&zoryx_host::loader::trial::checked_line(api, &description));
                }
                ExitCode::SUCCESS
            }
            Err(error) => {
                let _ = writeln!(std::io::stderr(), "{error}");
                ExitCode::from(1)
            }
        };
    }
    // An isolated plugin's worker: its own logging (forwarded to the host) and runtime.
    if let Some(Command::Worker(args)) = &cli.command {
        return zoryx_host::isolation::worker_main(args);
    }
    if let Some(Command::Health { addr }) = &cli.command {
        return match zoryx_host::health::check(&cli.config, *addr) {
            Ok(line) => {
                out(&line);
                ExitCode::SUCCESS
            }
            Err(line) => {
                let _ = writeln!(std::io::stderr(), "{line}");
                ExitCode::from(1)
            }
        };
    }
    if let Some(Command::Market { command }) = &cli.command
        && let Some(request) = command.request()
    {
        zoryx_host::logging::init_console();
        return match market_request(&cli, request) {
            Ok(report) => {
                out(&report);
                ExitCode::SUCCESS
            }
            Err(error) => {
                tracing::error!("zoryx market: {error:#}");
                ExitCode::from(1)
            }
        };
    }
    if let Some(Command::Market { command }) = &cli.command {
        return match zoryx_host::market::run(command) {
            Ok(report) => {
                out(&report);
                ExitCode::SUCCESS
            }
            Err(error) => {
                let _ = writeln!(std::io::stderr(), "zoryx market: {error}");
                ExitCode::from(1)
            }
        };
    }
    if let Some(Command::Queue(args)) = &cli.command {
        zoryx_host::logging::init_console();
        let served = tokio::runtime::Runtime::new()
            .map_err(|e| e.to_string())
            .and_then(|runtime| {
                runtime
                    .block_on(zoryx_queue::run(args.clone().into()))
                    .map_err(|e| e.to_string())
            });
        return match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!("{error}");
                ExitCode::FAILURE
            }
        };
    }
    let mode = console_mode(&cli);
    let (loaded, log_guard, log_tail) = if let Some(mode) = mode {
        match start(&cli, mode) {
            Ok((loaded, guard, tail)) => (Some(loaded), Some(guard), tail),
            Err(error) => {
                let _ = writeln!(std::io::stderr(), "{error:#}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        zoryx_host::logging::init_console();
        (None, None, None)
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let stop = Stop::new();
    if mode.is_some() {
        // A signal once a stop is under way: write out the log, then exit at once.
        let flusher = log_guard.as_ref().map(LogGuard::flusher);
        let force = move |signal: Signal| {
            if let Some(flusher) = &flusher {
                flusher.flush();
            }
            std::process::exit(i32::from(signal.forced_exit_code()));
        };
        if let Err(error) = zoryx_host::stop::listen_for_signals(stop.clone(), force) {
            tracing::error!(%error, "cannot install the signal handlers");
            return ExitCode::FAILURE;
        }
    }
    let result = runtime.block_on(run(cli, loaded, stop, log_tail));
    // After a graceful stop nothing is left to wait for; whatever is (the console's input
    // thread is not the runtime's) must not hold up the exit.
    runtime.shutdown_timeout(Duration::from_secs(1));
    let code = match result {
        Ok(code) => code,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    };
    drop(log_guard);
    code
}

/// The online path: connects to Discord with the token from the environment.
async fn run_online(
    manager: &Arc<Manager>,
    settings: &Arc<SqliteSettings>,
    core: &CoreConfig,
    env: &BotEnv,
    services: Services,
) -> anyhow::Result<DiscordHandle> {
    let mut options = DiscordOptions::from_config(core, env)?;
    if let Some(data_dir) = &services.data_dir {
        options.keep_sessions_in(core, data_dir);
    }
    let store: Arc<dyn GuildSettingsStore> = settings.clone();
    let handle = discord::start_with(Arc::clone(manager), store, options, services).await?;
    Ok(handle)
}

async fn run(
    cli: Cli,
    loaded: Option<Loaded>,
    stop: Stop,
    log_tail: Option<LogTail>,
) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot find the zoryx binary for trial loads")?;
    let command = cli.command.unwrap_or(Command::Run {
        console: false,
        no_console: false,
    });
    match command {
        Command::Worker(_) => Ok(ExitCode::FAILURE),
        Command::Plugins {
            command: PluginsCommand::Check { file, .. },
        } => match check_report(&file, Some(&exe)).await {
            Ok(report) => {
                out(&format!("{}: valid\n{report}", file.display()));
                Ok(ExitCode::SUCCESS)
            }
            Err(reason) => {
                out(&format!("{}: refused: {reason}", file.display()));
                Ok(ExitCode::from(1))
            }
        },
        // Answered in `main`.
        Command::Health { .. } | Command::Queue(_) | Command::Market { .. } => {
            Ok(ExitCode::FAILURE)
        }
        Command::Plugins {
            command: PluginsCommand::List,
        } => {
            let mut entries: Vec<_> = std::fs::read_dir(&cli.extensions)
                .with_context(|| format!("cannot read {}", cli.extensions.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.extension()
                        .is_some_and(|e| e == zoryx_host::loader::library_extension())
                })
                .collect();
            entries.sort();
            if entries.is_empty() {
                out(&format!("no libraries in {}", cli.extensions.display()));
            }
            for file in entries {
                match check_report(&file, Some(&exe)).await {
                    Ok(report) => out(&format!("{}: valid\n{report}", file.display())),
                    Err(reason) => out(&format!("{}: refused: {reason}", file.display())),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            console,
            no_console,
        } => {
            let mode = ConsoleMode::for_stdin(console, no_console);
            let env = BotEnv::from_process().context("invalid environment")?;
            let config = match loaded {
                Some(loaded) => loaded.config,
                None => Config::load(&cli.config)?,
            };
            let core = config.core.clone();
            let gateway = discord::GatewayStatus::default();
            let auto_reload = config.core.auto_reload;
            let config_atomic = config.core.atomic_files.clone();
            let databases =
                Databases::open(DbOptions::from_config(&config.core.database, &cli.data))
                    .await
                    .context("cannot open the databases")?;
            let settings = SqliteSettings::new(databases);
            let manager = Manager::new(
                HostPaths {
                    extensions: cli.extensions.clone(),
                    data: cli.data.clone(),
                    checker: Some(exe),
                },
                config,
            )?;
            // Framework diagnostics: the health loop, its history in main.db, `/metrics`.
            let diagnostics = zoryx_host::diagnostics::Diagnostics::new(
                core.diagnostics.clone(),
                core.framework.framework_diagnostics(),
                Arc::clone(manager.dispatcher()),
                gateway.clone(),
                Some(Arc::clone(settings.databases())),
            );
            diagnostics.start();
            let health =
                zoryx_host::health::start_configured(&core.health, &gateway, Some(&diagnostics))
                    .await?;
            if let Some(health) = &health {
                out(&format!("health endpoint: {}", health.url()));
            }
            // Plugins' writes of their own config section go back to this file.
            manager
                .dispatcher()
                .shared()
                .set_config_file(cli.config.clone());
            // One atomic file store for plugins' files and the owner commands.
            let atomic = AtomicStore::new(AtomicOptions::from(&config_atomic));
            manager
                .dispatcher()
                .shared()
                .set_plugin_storage(PluginStorage::new(
                    &cli.data,
                    Arc::clone(settings.databases()),
                    Arc::clone(&atomic),
                ));
            // The shard manager (the cluster IPC), when it is on; refused without a secret.
            let cluster = zoryx_host::cluster::start(&core, manager.dispatcher())
                .await
                .context("cannot start the shard manager")?;
            let logs_dir = LogOptions::from_config(&cli.config, &core.logging).dir;
            let services = || Services {
                atomic: Some(Arc::clone(&atomic)),
                db: Some(Arc::clone(&settings)),
                data_dir: Some(cli.data.clone()),
                gateway: gateway.clone(),
                paths: vec![
                    PathCheck {
                        name: "Config file".to_owned(),
                        path: cli.config.clone(),
                    },
                    PathCheck {
                        name: "Logs folder".to_owned(),
                        path: logs_dir.clone(),
                    },
                ],
                diagnostics: Some(Arc::clone(&diagnostics)),
                cluster: cluster.clone(),
            };
            // No token: offline mode, the bot talks to an in-process Discord simulator. It
            // starts first, so the dashboard's Discord login can use it.
            let sim = if env.token.is_none() {
                Some(zoryx_host::offline::simulator().await?)
            } else {
                None
            };
            // The web dashboard, when it is on: its address, and a one-time login link for
            // the owner at this console (the code is in the link's fragment, never logged).
            let mut sources = zoryx_host::dashboard::Sources {
                manager: Arc::clone(&manager),
                gateway: gateway.clone(),
                diagnostics: Some(Arc::clone(&diagnostics)),
                databases: Some(Arc::clone(&settings)),
                logs: log_tail,
                owners: DiscordOptions::owners_of(&core, &env),
                api_base: core.discord.api_base.clone(),
                data_dir: Some(cli.data.clone()),
            };
            let dashboard_config = match &sim {
                Some(sim) if core.dashboard.enabled => {
                    zoryx_host::offline::dashboard_login(sim, &core.dashboard, &mut sources)
                }
                _ => core.dashboard.clone(),
            };
            let dashboard = zoryx_host::dashboard::start(&dashboard_config, sources).await?;
            if let Some(dashboard) = &dashboard {
                if let Some(sim) = &sim {
                    zoryx_host::offline::dashboard_started(sim, dashboard);
                }
                out(&format!("dashboard: {}", dashboard.url()));
                match dashboard.login_link() {
                    Ok(link) => out(&zoryx_host::dashboard::link_line(&link)),
                    Err(error) => tracing::warn!(%error, "no dashboard login link"),
                }
            }
            let report = manager.load_all().await;
            tracing::info!(
                loaded = report.loaded.len(),
                refused = report.refused.len(),
                "extensions loaded"
            );
            let _watcher = if auto_reload {
                Some(zoryx_host::watch(&manager).context("cannot watch the extensions folder")?)
            } else {
                None
            };
            if let Some(sim) = sim {
                let options = zoryx_host::offline::RunOptions {
                    sim,
                    config: &core,
                    env: &env,
                    settings: settings.clone(),
                    services: services(),
                    console: mode,
                };
                if let Err(error) =
                    zoryx_host::offline::run(Arc::clone(&manager), options, &stop).await
                {
                    stop.request(StopReason::Failed(format!("offline mode: {error}")));
                }
                return Ok(finish(
                    &stop,
                    &manager,
                    &settings,
                    None,
                    cluster.as_deref(),
                    dashboard,
                )
                .await);
            }
            let online = match run_online(&manager, &settings, &core, &env, services()).await {
                Ok(online) => online,
                Err(error) => {
                    stop.request(StopReason::Failed(format!("{error:#}")));
                    return Ok(finish(
                        &stop,
                        &manager,
                        &settings,
                        None,
                        cluster.as_deref(),
                        dashboard,
                    )
                    .await);
                }
            };
            let console = async {
                if mode != ConsoleMode::Off {
                    let input = zoryx_host::console::Input::stdin();
                    let interactive = mode == ConsoleMode::Interactive;
                    match zoryx_host::console::run(Arc::clone(&manager), input, interactive).await {
                        Ended::Quit => {
                            stop.request(StopReason::Quit);
                        }
                        Ended::EndOfInput if interactive => {
                            stop.request(StopReason::EndOfInput);
                        }
                        Ended::EndOfInput => tracing::info!(
                            "stdin ended: the console is closed and the bot keeps serving; \
                             stop it with SIGTERM or Ctrl-C"
                        ),
                    }
                }
                std::future::pending::<()>().await;
            };
            let gateway = async {
                let error = online.stopped().await;
                stop.request(StopReason::Failed(error.to_string()));
                std::future::pending::<()>().await;
            };
            tracing::info!(console = ?mode, "running (stop with quit, Ctrl-C or SIGTERM)");
            tokio::select! {
                () = console => {}
                () = gateway => {}
                _ = stop.requested() => {}
            }
            Ok(finish(
                &stop,
                &manager,
                &settings,
                Some(online),
                cluster.as_deref(),
                dashboard,
            )
            .await)
        }
    }
}

/// The graceful shutdown, once `stop` is requested: Discord stops taking commands and lets
/// running ones finish (the dashboard stops first), the shard manager leaves the other clusters, plugins unload, counters are flushed, the databases backed up and their
/// pools closed. The exit code: 0 for a requested stop, 1 after a failure.
async fn finish(
    stop: &Stop,
    manager: &Arc<Manager>,
    settings: &Arc<SqliteSettings>,
    online: Option<DiscordHandle>,
    cluster: Option<&zoryx_host::cluster::Cluster>,
    dashboard: Option<zoryx_host::dashboard::Dashboard>,
) -> ExitCode {
    let reason = stop.reason();
    match &reason {
        Some(reason) => tracing::info!(%reason, "shutting down"),
        None => tracing::info!("shutting down"),
    }
    if let Some(dashboard) = dashboard {
        dashboard.shutdown().await;
    }
    if let Some(online) = online {
        online.shutdown().await;
    }
    if let Some(cluster) = cluster {
        cluster.shutdown().await;
    }
    manager.shutdown().await;
    zoryx_host::storage::db::shutdown(settings).await;
    tracing::info!("stopped");
    if reason.is_some_and(|r| r.is_failure()) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
