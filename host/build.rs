//! Rebuilds the host when a database migration is added or changed (`sqlx::migrate!` embeds
//! them at compile time), and records what the binary was built with for `botinfo`: the
//! compiler (`ZORYX_RUSTC`) and the versions of the main libraries from `Cargo.lock`
//! (`ZORYX_LIBRARIES`).

use std::io::Write;

/// The libraries `botinfo` names, as `Cargo.lock` spells them.
const LIBRARIES: [&str; 5] = ["serenity", "tokio", "sqlx", "abi_stable", "axum"];

fn main() {
    let mut out = std::io::stdout();
    let _ =
        out.write_all(b"cargo:rerun-if-changed=migrations\ncargo:rerun-if-changed=../Cargo.lock\n");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|v| v.trim().to_owned())
        .unwrap_or_default();
    let lock = std::fs::read_to_string("../Cargo.lock").unwrap_or_default();
    let mut found = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(value) = line.strip_prefix("name = ") {
            name = Some(value.trim_matches('"').to_owned());
        } else if let (Some(value), Some(current)) = (line.strip_prefix("version = "), &name)
            && LIBRARIES.contains(&current.as_str())
            && !found.iter().any(|(n, _): &(String, String)| n == current)
        {
            found.push((current.clone(), value.trim_matches('"').to_owned()));
        }
    }
    found.sort_by_key(|(n, _)| LIBRARIES.iter().position(|l| l == n));
    let libraries: Vec<String> = found.iter().map(|(n, v)| format!("{n} {v}")).collect();
    let _ = writeln!(out, "cargo:rustc-env=ZORYX_RUSTC={version}");
    let _ = writeln!(
        out,
        "cargo:rustc-env=ZORYX_LIBRARIES={}",
        libraries.join(", ")
    );
}
