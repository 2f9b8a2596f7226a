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
    run_check(checker, file, false).await.map(drop)
}

/// What the check in a child found: the library's name, version and plugin API, or the
/// loader's reason to refuse it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChildCheck {
    /// Valid.
    Valid {
        /// Its manifest's name.
        name: String,
        /// Its manifest's version.
        version: String,
        /// The plugin API it was built against.
        api: String,
    },
    /// Refused, with the loader's reason.
    Refused(String),
}

/// The whole check of `file` in a child (`<checker> plugins check --quiet --manifest`), so
/// this process never opens the library: the child's answer, or an error if it died or hung.
pub async fn check_in_child(checker: &Path, file: &Path) -> Result<ChildCheck, LoadError> {
    let output = run_check(checker, file, true).await?;
    if output.status.code() == Some(1) {
        return Ok(ChildCheck::Refused(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    let line = String::from_utf8_lossy(&output.stdout);
    let value: serde_json::Value = serde_json::from_str(line.trim())
        .map_err(|e| LoadError::Trial(format!("the check's answer is not JSON: {e}")))?;
    let field = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
    Ok(ChildCheck::Valid {
        name: field("name"),
        version: field("version"),
        api: field("api"),
    })
}

/// The one line `plugins check --quiet --manifest` prints for a valid library.
pub fn checked_line(
    api: zoryx_plugin_api::ApiVersion,
    description: &zoryx_plugin_api::ffi::types::Description,
) -> String {
    serde_json::json!({
        "name": description.manifest.name,
        "version": description.manifest.version,
        "api": api.to_string(),
    })
    .to_string()
}

/// Runs the check in a child; its output when it exited with 0 or 1 (a clean answer).
async fn run_check(
    checker: &Path,
    file: &Path,
    manifest: bool,
) -> Result<std::process::Output, LoadError> {
    let mut command = tokio::process::Command::new(checker);
    command.args(["plugins", "check", "--quiet"]);
    if manifest {
        command.arg("--manifest");
    }
    let child = command
        .arg(file)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(if manifest {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| LoadError::Trial(format!("could not start {}: {e}", checker.display())))?;
    let output = tokio::time::timeout(TRIAL_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| LoadError::Trial(format!("timed out after {}s", TRIAL_TIMEOUT.as_secs())))?
        .map_err(|e| LoadError::Trial(e.to_string()))?;
    match output.status.code() {
        Some(0 | 1) => Ok(output),
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
