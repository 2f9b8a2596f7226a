//! A trial load in a child process: if a library kills whoever opens it, it kills the child.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use super::LoadError;

/// How long a trial load may take.
const TRIAL_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs `<checker> plugins check --quiet <file>` and fails if the child dies or hangs.
///
/// A clean refusal by the child (exit code 1) is not an error here: the caller opens the file
/// itself and gets the precise reason, which is then known to be safe to find out.
pub async fn trial_load(checker: &Path, file: &Path) -> Result<(), LoadError> {
    let child = tokio::process::Command::new(checker)
        .args(["plugins", "check", "--quiet"])
        .arg(file)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| LoadError::Trial(format!("could not start {}: {e}", checker.display())))?;
    let output = tokio::time::timeout(TRIAL_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| LoadError::Trial(format!("timed out after {}s", TRIAL_TIMEOUT.as_secs())))?
        .map_err(|e| LoadError::Trial(e.to_string()))?;
    match output.status.code() {
        Some(0 | 1) => Ok(()),
        Some(code) => Err(LoadError::Trial(format!(
            "exited with code {code}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))),
        None => Err(LoadError::Trial(describe_signal(&output.status))),
    }
}

#[cfg(unix)]
fn describe_signal(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    let signal = status.signal().unwrap_or(0);
    let name = match signal {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        _ => "signal",
    };
    format!("crashed while loading (killed by {name}, signal {signal})")
}

#[cfg(not(unix))]
fn describe_signal(status: &std::process::ExitStatus) -> String {
    format!("crashed while loading ({status})")
}
