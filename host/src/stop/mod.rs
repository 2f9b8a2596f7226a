//! Stopping the host: one [`Stop`] per run, requested by SIGINT (Ctrl-C), SIGTERM, the
//! console's `quit` or the end of an interactive console's input, or a fatal error. The first
//! request starts the graceful shutdown; a signal that arrives once a stop is under way ends the
//! process at once (see [`listen_for_signals`]).
//!
//! Signals are received on a thread of their own with its own small runtime, so a second
//! Ctrl-C still works when every thread of the main runtime is busy or blocked.

use std::fmt;
use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

/// A stop signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C in a terminal.
    Interrupt,
    /// SIGTERM: `kill`, systemd, `docker stop`.
    Terminate,
}

impl Signal {
    /// The signal's number on Unix (2, 15).
    pub fn number(self) -> i32 {
        match self {
            Signal::Interrupt => 2,
            Signal::Terminate => 15,
        }
    }

    /// The exit code when this signal ends the process at once during a shutdown: 128 + the
    /// signal's number, as shells report a process killed by it (130, 143).
    pub fn forced_exit_code(self) -> u8 {
        // 2 and 15 keep the sum well within a byte.
        128 + self.number() as u8
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        })
    }
}

/// Why the host stops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// A signal.
    Signal(Signal),
    /// `quit` (or `:quit`) on the console.
    Quit,
    /// The input of an interactive console ended (Ctrl-D, or a closed pipe with `--console`).
    EndOfInput,
    /// Something the host cannot run without failed; the process exits with code 1.
    Failed(String),
}

impl StopReason {
    /// Whether the run ends in failure (exit code 1) rather than a requested stop (0).
    pub fn is_failure(&self) -> bool {
        matches!(self, StopReason::Failed(_))
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Signal(signal) => write!(f, "{signal}"),
            StopReason::Quit => f.write_str("quit on the console"),
            StopReason::EndOfInput => f.write_str("end of the console's input"),
            StopReason::Failed(error) => write!(f, "error: {error}"),
        }
    }
}

/// The run's stop request: cheap to clone, the first request wins.
#[derive(Clone, Debug, Default)]
pub struct Stop {
    token: CancellationToken,
    reason: Arc<OnceLock<StopReason>>,
}

impl Stop {
    /// No stop requested yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests the stop. Returns `false` (and changes nothing) if one was already requested.
    pub fn request(&self, reason: StopReason) -> bool {
        let first = self.reason.set(reason.clone()).is_ok();
        if first {
            match &reason {
                StopReason::Failed(error) => {
                    tracing::error!("stopping after an error: {error}");
                }
                _ => tracing::info!(
                    reason = %reason,
                    "stop requested: commands in flight may finish (up to 10 s), then plugins \
                     unload and the databases are backed up; a second Ctrl-C or SIGTERM exits at once"
                ),
            }
            self.token.cancel();
        }
        first
    }

    /// Whether a stop was requested.
    pub fn is_requested(&self) -> bool {
        self.token.is_cancelled()
    }

    /// The reason, once a stop was requested.
    pub fn reason(&self) -> Option<StopReason> {
        self.reason.get().cloned()
    }

    /// Resolves when a stop is requested (at once if it already was), with the reason.
    pub async fn requested(&self) -> StopReason {
        self.token.cancelled().await;
        self.reason
            .get()
            .cloned()
            .unwrap_or(StopReason::Failed("stop requested without a reason".into()))
    }
}

/// Starts receiving SIGINT and SIGTERM (Ctrl-C only, off Unix) on a thread of its own. The
/// first signal requests `stop`; a signal that arrives when a stop is already requested (by a
/// signal, `quit` or an error) is logged and handed to `force`, which is expected to end the
/// process (with [`Signal::forced_exit_code`]). Returns once the handlers are installed, so a
/// signal from then on never kills the process with the default action.
pub fn listen_for_signals(
    stop: Stop,
    force: impl Fn(Signal) + Send + 'static,
) -> std::io::Result<()> {
    let (installed, result) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("zoryx-signals".to_owned())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    let _ = installed.send(Err(error));
                    return;
                }
            };
            runtime.block_on(async move {
                let mut signals = match Signals::install() {
                    Ok(signals) => {
                        let _ = installed.send(Ok(()));
                        signals
                    }
                    Err(error) => {
                        let _ = installed.send(Err(error));
                        return;
                    }
                };
                while let Some(signal) = signals.next().await {
                    if !stop.request(StopReason::Signal(signal)) {
                        tracing::error!(
                            %signal,
                            code = signal.forced_exit_code(),
                            "{signal} while stopping: exiting at once, without finishing the \
                             shutdown"
                        );
                        force(signal);
                    }
                }
            });
        })?;
    result.recv().unwrap_or_else(|_| {
        Err(std::io::Error::other(
            "the signal thread ended before installing its handlers",
        ))
    })
}

/// The installed handlers.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// The next signal; `None` if the handlers are gone.
    async fn next(&mut self) -> Option<Signal> {
        #[cfg(unix)]
        {
            tokio::select! {
                Some(()) = self.interrupt.recv() => Some(Signal::Interrupt),
                Some(()) = self.terminate.recv() => Some(Signal::Terminate),
                else => None,
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c()
                .await
                .ok()
                .map(|()| Signal::Interrupt)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_request_wins_and_wakes_every_waiter() {
        let stop = Stop::new();
        let waiter = tokio::spawn({
            let stop = stop.clone();
            async move { stop.requested().await }
        });
        assert!(!stop.is_requested());
        assert!(stop.request(StopReason::Quit));
        assert!(!stop.request(StopReason::Signal(Signal::Terminate)));
        assert_eq!(waiter.await.ok(), Some(StopReason::Quit));
        assert_eq!(stop.requested().await, StopReason::Quit);
        assert!(!StopReason::Quit.is_failure());
        assert!(StopReason::Failed("x".into()).is_failure());
    }

    #[test]
    fn forced_exit_codes_follow_the_shell_convention() {
        assert_eq!(Signal::Interrupt.forced_exit_code(), 130);
        assert_eq!(Signal::Terminate.forced_exit_code(), 143);
    }
}
