//! `make bench`: what the web dashboard costs at idle.
//!
//! The real `zoryx` binary runs in offline mode (the in-process simulator, no plugins, no
//! console) with the dashboard on. Its CPU time (user + system, all threads, from
//! `/proc/PID/stat`) is measured over a window with nobody on the dashboard, then over the
//! same window with one browser-like client: logged in, the overview page loaded, and its two
//! live streams (`/live/overview`, `/live/logs`) held open and read. The figure is CPU time over
//! wall time, in % of one core; the target is that the open browser adds < 1 %.
//!
//! The windows start once the health loop has made its first check (at 60 s): that check starts
//! figures the host keeps up from then on whoever asked first, and without the wait the
//! overview page's figures would start them inside the second window and be billed for them.
//!
//! `ZORYX_BENCH_IDLE_SECS` sets each window (default 30 s) and `ZORYX_BENCH_SETTLE_SECS` the
//! wait before them (default 65 s): short ones to check the bench runs.
#![allow(clippy::print_stdout, unreachable_pub)]

#[path = "common/browser.rs"]
mod browser;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use browser::Browser;

/// How long the binary runs before the first window: past the health loop's first check
/// (`diagnostics.interval_seconds`, 60 s by default).
const SETTLE_SECS: u64 = 65;

/// The binary's CPU time so far (user + system, every thread); `None` off Linux.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let per_second = u64::try_from(per_second).ok().filter(|t| *t > 0)?;
    Some(Duration::from_secs_f64(ticks as f64 / per_second as f64))
}

/// The binary's CPU use over `window`, in % of one core.
async fn cpu_percent(pid: u32, window: Duration) -> Option<f64> {
    let (cpu, wall) = (cpu_time(pid)?, Instant::now());
    tokio::time::sleep(window).await;
    let used = cpu_time(pid)?.saturating_sub(cpu);
    Some(100.0 * used.as_secs_f64() / wall.elapsed().as_secs_f64())
}

/// `zoryx run` in offline mode with the dashboard on, in `dir`; its URL and a login code once it
/// printed them.
fn start(dir: &std::path::Path) -> (Child, String, String) {
    std::fs::create_dir_all(dir.join("extensions")).expect("dir");
    std::fs::write(
        dir.join("config.json"),
        r#"{"dashboard": {"enabled": true, "bind": "127.0.0.1:0"}}"#,
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_zoryx"))
        .args(["run", "--no-console"])
        .current_dir(dir)
        .env_remove("DISCORD_TOKEN")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn zoryx");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut url = None;
    let code = loop {
        let line = lines
            .next()
            .expect("zoryx printed its dashboard link")
            .expect("stdout");
        if let Some(printed) = line.strip_prefix("dashboard: ") {
            url = Some(printed.to_owned());
        } else if let Some((_, code)) = line.split_once("#code=") {
            break code.to_owned();
        }
    };
    // The rest of stdout is drained, so the binary never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, url.expect("the URL before the link"), code)
}

fn main() {
    let seconds = |name: &str, default: u64| {
        Duration::from_secs(
            std::env::var(name)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(default),
        )
    };
    let window = seconds("ZORYX_BENCH_IDLE_SECS", 30);
    let settle = seconds("ZORYX_BENCH_SETTLE_SECS", SETTLE_SECS);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tmp");
    let (mut child, url, code) = start(dir.path());
    let pid = child.id();
    runtime.block_on(async {
        // Both windows start after the health loop's first check, which starts costs of the
        // host's own (its figures kept up from then on), whoever asks first: the overview
        // page's figures would otherwise start them and be billed for them.
        tokio::time::sleep(settle).await;
        let alone = cpu_percent(pid, window).await;
        let browser = Browser::open(&url, &code).await;
        let watched = cpu_percent(pid, window).await;
        drop(browser);
        println!(
            "Dashboard at idle: the `zoryx` binary (offline mode, no plugins) CPU time over {} s \
             of wall time, % of one core",
            window.as_secs()
        );
        println!("| What | CPU | Target |");
        println!("|---|---|---|");
        match (alone, watched) {
            (Some(alone), Some(watched)) => {
                let added = watched - alone;
                println!("| Dashboard on, nobody on it | {alone:.2} % | |");
                println!(
                    "| One open browser (overview page, its figures stream and the live log) | \
                     {watched:.2} % | the browser adds < 1 %: {added:+.2} % {} |",
                    if added < 1.0 { "(met)" } else { "(MISSED)" }
                );
            }
            _ => println!("| (not measured: no /proc on this system) | | |"),
        }
    });
    match i32::try_from(pid) {
        // SAFETY: a signal to the child this bench started; it stops as on Ctrl-C.
        Ok(pid) => unsafe {
            libc::kill(pid, libc::SIGTERM);
        },
        Err(_) => drop(child.kill()),
    }
    let _ = child.wait();
}
