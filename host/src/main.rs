//! The `zoryx` binary: a thin shell over `zoryx_host`.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;
use zoryx_host::cli::{Cli, Command, PluginsCommand, check_report};
use zoryx_host::config::{BotEnv, Config, CoreConfig, Loaded};
use zoryx_host::discord::{self, DiscordHandle, DiscordOptions, Services};
use zoryx_host::guild_settings::GuildSettingsStore;
use zoryx_host::logging::{LogGuard, LogOptions};
use zoryx_host::manager::{HostPaths, Manager};
use zoryx_host::storage::atomic::{AtomicOptions, AtomicStore};
use zoryx_host::storage::db::{Databases, DbOptions, SqliteSettings};
use zoryx_host::storage::plugin::PluginStorage;

/// For `run`: applies `.env` (next to config.json) to the environment, loads (or creates)
/// config.json with the environment's precedence applied, starts the log files and the console
/// log, and removes temp files left in the data folder by interrupted writes.
fn start(cli: &Cli) -> anyhow::Result<(Loaded, LogGuard)> {
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
    loaded.config = loaded.config.with_env(&BotEnv::from_process()?);
    let options = LogOptions::from_config(&cli.config, &loaded.config.core.logging);
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
    Ok((loaded, guard))
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn out(text: &str) {
    let _ = writeln!(std::io::stdout(), "{text}");
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The trial load: nothing but the check, with no runtime or logging to get in the way.
    if let Some(Command::Plugins {
        command: PluginsCommand::Check { file, quiet: true },
    }) = &cli.command
    {
        return match zoryx_host::loader::check_file(file) {
            Ok(_) => ExitCode::SUCCESS,
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
    let (loaded, _log_guard) = if matches!(cli.command, None | Some(Command::Run { .. })) {
        match start(&cli) {
            Ok((loaded, guard)) => (Some(loaded), Some(guard)),
            Err(error) => {
                let _ = writeln!(std::io::stderr(), "{error:#}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        zoryx_host::logging::init_console();
        (None, None)
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, loaded)) {
        Ok(code) => code,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The online path: connects to Discord with the token from the environment.
async fn run_online(
    manager: &Arc<Manager>,
    settings: &Arc<SqliteSettings>,
    core: &CoreConfig,
    env: &BotEnv,
    services: Services,
) -> anyhow::Result<DiscordHandle> {
    let options = DiscordOptions::from_config(core, env)?;
    let store: Arc<dyn GuildSettingsStore> = settings.clone();
    let handle = discord::start_with(Arc::clone(manager), store, options, services).await?;
    Ok(handle)
}

async fn run(cli: Cli, loaded: Option<Loaded>) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot find the zoryx binary for trial loads")?;
    match cli.command.unwrap_or(Command::Run { no_console: false }) {
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
        Command::Run { no_console } => {
            let env = BotEnv::from_process().context("invalid environment")?;
            let config = match loaded {
                Some(loaded) => loaded.config,
                None => Config::load(&cli.config)?,
            };
            let core = config.core.clone();
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
            let services = || Services {
                atomic: Some(Arc::clone(&atomic)),
                db: Some(Arc::clone(&settings)),
                data_dir: Some(cli.data.clone()),
            };
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
            if env.token.is_none() {
                // No token: the bot talks to an in-process Discord simulator.
                let options = zoryx_host::offline::RunOptions {
                    config: &core,
                    env: &env,
                    settings: settings.clone(),
                    services: services(),
                    console: !no_console,
                };
                let offline =
                    zoryx_host::offline::run(Arc::clone(&manager), options, stop_signal()).await;
                tracing::info!("shutting down");
                manager.shutdown().await;
                zoryx_host::storage::db::shutdown(&settings).await;
                offline.context("offline mode")?;
                return Ok(ExitCode::SUCCESS);
            }
            let online = run_online(&manager, &settings, &core, &env, services()).await?;
            let console = async {
                if no_console {
                    std::future::pending::<()>().await;
                } else {
                    zoryx_host::console::run(Arc::clone(&manager)).await;
                }
            };
            tokio::select! {
                () = console => {}
                () = stop_signal() => {}
                error = online.stopped() => tracing::error!("{error}"),
            }
            tracing::info!("shutting down");
            online.shutdown().await;
            manager.shutdown().await;
            zoryx_host::storage::db::shutdown(&settings).await;
            Ok(ExitCode::SUCCESS)
        }
    }
}
