//! The `zoryx` binary: a thin shell over `zoryx_host`.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;
use zoryx_host::cli::{Cli, Command, PluginsCommand, check_report};
use zoryx_host::config::{BotEnv, Config, CoreConfig};
use zoryx_host::discord::{self, DiscordHandle, DiscordOptions};
use zoryx_host::guild_settings::{GuildSettingsStore, MemorySettings};
use zoryx_host::manager::{HostPaths, Manager};

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
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
    init_tracing();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
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
    core: &CoreConfig,
    env: &BotEnv,
) -> anyhow::Result<DiscordHandle> {
    let options = DiscordOptions::from_config(core, env)?;
    let settings: Arc<dyn GuildSettingsStore> = Arc::new(MemorySettings::default());
    let handle = discord::start(Arc::clone(manager), settings, options).await?;
    Ok(handle)
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot find the zoryx binary for trial loads")?;
    match cli.command.unwrap_or(Command::Run { no_console: false }) {
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
            let _ = dotenvy::dotenv();
            let env = BotEnv::from_process().context("invalid environment")?;
            let config = Config::load(&cli.config)?;
            let core = config.core.clone();
            let auto_reload = config.core.auto_reload;
            let manager = Manager::new(
                HostPaths {
                    extensions: cli.extensions.clone(),
                    data: cli.data.clone(),
                    checker: Some(exe),
                },
                config,
            )?;
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
                let offline = zoryx_host::offline::run(
                    Arc::clone(&manager),
                    &core,
                    &env,
                    !no_console,
                    stop_signal(),
                )
                .await;
                tracing::info!("shutting down");
                manager.shutdown().await;
                offline.context("offline mode")?;
                return Ok(ExitCode::SUCCESS);
            }
            let online = match &env.token {
                Some(_) => Some(run_online(&manager, &core, &env).await?),
                None => None,
            };
            let disconnected = async {
                match &online {
                    Some(handle) => handle.stopped().await,
                    None => std::future::pending().await,
                }
            };
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
                error = disconnected => tracing::error!("{error}"),
            }
            tracing::info!("shutting down");
            if let Some(handle) = online {
                handle.shutdown().await;
            }
            manager.shutdown().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}
