//! What the health loop and the `fw_*` commands measure: the process (sysinfo), the host's
//! async runtime (tokio's metrics and a lag probe), commands and their errors, the gateway, and
//! every plugin's calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::runtime::{CallStats, Dispatcher};

/// One shard's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct ShardFigures {
    /// Shard id.
    pub id: u32,
    /// Its state, e.g. `connected`.
    pub state: String,
    /// Heartbeat latency in ms, once measured.
    pub latency_ms: Option<f64>,
}

/// Everything measured at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// When.
    pub at: SystemTime,
    /// Since the host started.
    pub uptime: Duration,
    /// CPU used by the process since the previous sample, in % of one core.
    pub cpu_percent: Option<f64>,
    /// Resident memory.
    pub rss_bytes: Option<u64>,
    /// Threads of the process.
    pub threads: Option<usize>,
    /// The async runtime's lag: how late the probe's timer fired, the worst in the last
    /// [`LAG_WINDOW`] probes, and their mean (ms).
    pub lag_max_ms: f64,
    /// See `lag_max_ms`.
    pub lag_avg_ms: f64,
    /// The runtime's worker threads.
    pub workers: usize,
    /// How many of them were busy on average since the previous sample.
    pub busy_workers: f64,
    /// Tasks alive on the runtime.
    pub tasks: usize,
    /// Tasks waiting in the runtime's shared queue.
    pub queued: usize,
    /// Commands finished since start, and those that failed.
    pub commands: u64,
    /// See `commands`.
    pub errors: u64,
    /// Commands per second since the previous sample.
    pub commands_per_sec: f64,
    /// Failed commands in % of those finished since the previous sample (0 with none).
    pub error_rate: f64,
    /// Commands finished and failed since the previous sample.
    pub window_commands: u64,
    /// See `window_commands`.
    pub window_errors: u64,
    /// The gateway's shards.
    pub shards: Vec<ShardFigures>,
    /// Every plugin's calls, by name.
    pub plugins: Vec<(String, CallStats)>,
}

impl Snapshot {
    /// Resident memory in MB.
    pub fn rss_mb(&self) -> Option<f64> {
        self.rss_bytes.map(|b| b as f64 / (1024.0 * 1024.0))
    }

    /// The worst shard latency, in ms.
    pub fn worst_latency_ms(&self) -> Option<f64> {
        self.shards
            .iter()
            .filter_map(|s| s.latency_ms)
            .fold(None, |worst: Option<f64>, l| {
                Some(worst.map_or(l, |w| w.max(l)))
            })
    }
}

/// Probes kept for the lag figures.
pub const LAG_WINDOW: usize = 12;
/// How often the lag probe wakes.
pub const LAG_EVERY: Duration = Duration::from_secs(5);

/// A task on the host's runtime that sleeps [`LAG_EVERY`] and records how late it woke: the
/// time the runtime took to get to a ready task (a blocked worker shows here first).
#[derive(Debug, Default)]
pub struct LagProbe {
    /// The last probes, in µs, newest last.
    recent: std::sync::Mutex<std::collections::VecDeque<u64>>,
    probes: AtomicU64,
}

impl LagProbe {
    /// Records one probe's lateness.
    pub fn record(&self, late: Duration) {
        let micros = u64::try_from(late.as_micros()).unwrap_or(u64::MAX);
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() == LAG_WINDOW {
                recent.pop_front();
            }
            recent.push_back(micros);
        }
        self.probes.fetch_add(1, Ordering::Relaxed);
    }

    /// The worst and the mean lateness of the recent probes, in ms.
    pub fn figures(&self) -> (f64, f64) {
        let Ok(recent) = self.recent.lock() else {
            return (0.0, 0.0);
        };
        if recent.is_empty() {
            return (0.0, 0.0);
        }
        let max = recent.iter().copied().max().unwrap_or(0) as f64 / 1000.0;
        let avg = recent.iter().sum::<u64>() as f64 / recent.len() as f64 / 1000.0;
        (max, avg)
    }

    /// Runs the probe until `stop` is cancelled.
    pub async fn run(self: Arc<Self>, every: Duration, stop: tokio_util::sync::CancellationToken) {
        loop {
            let asked = tokio::time::Instant::now() + every;
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep_until(asked) => {}
            }
            self.record(tokio::time::Instant::now().saturating_duration_since(asked));
        }
    }
}

/// The process's threads: the `Threads:` line of `/proc/self/status` (Linux; one small read,
/// where listing every thread through sysinfo reads a file per thread).
fn thread_count() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}

/// The previous sample, for figures over the time between two.
struct Previous {
    at: Instant,
    commands: u64,
    errors: u64,
    busy: Duration,
}

/// Takes snapshots; keeps what figures over time need.
pub struct Collector {
    system: sysinfo::System,
    pid: Option<sysinfo::Pid>,
    runtime: tokio::runtime::Handle,
    previous: Option<Previous>,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector").finish_non_exhaustive()
    }
}

impl Collector {
    /// A collector of this process on `runtime`.
    pub fn new(runtime: tokio::runtime::Handle) -> Self {
        let mut collector = Self {
            system: sysinfo::System::new(),
            pid: sysinfo::get_current_pid().ok(),
            runtime,
            previous: None,
        };
        // The first CPU figure needs a refresh before it.
        collector.refresh_process();
        collector
    }

    fn refresh_process(&mut self) {
        if let Some(pid) = self.pid {
            self.system.refresh_processes_specifics(
                sysinfo::ProcessesToUpdate::Some(&[pid]),
                true,
                sysinfo::ProcessRefreshKind::nothing()
                    .with_cpu()
                    .with_memory(),
            );
        }
    }

    fn busy(&self) -> Duration {
        let metrics = self.runtime.metrics();
        (0..metrics.num_workers())
            .map(|w| metrics.worker_total_busy_duration(w))
            .sum()
    }

    /// Measures now. The figures over time (CPU, commands per second, error rate, busy
    /// workers) cover the time since the previous sample; `advance` makes this sample the
    /// previous one for the next (the health loop's samples do; a command's look does not).
    pub async fn sample(
        &mut self,
        dispatcher: &Dispatcher,
        lag: &LagProbe,
        gateway: &crate::discord::GatewayStatus,
        started: Instant,
        advance: bool,
    ) -> Snapshot {
        self.refresh_process();
        let process = self.pid.and_then(|pid| self.system.process(pid));
        let now = Instant::now();
        let (commands, errors) = dispatcher.command_counts();
        let busy = self.busy();
        let metrics = self.runtime.metrics();
        let (window_commands, window_errors, elapsed, busy_delta) = match &self.previous {
            Some(previous) => (
                commands.saturating_sub(previous.commands),
                errors.saturating_sub(previous.errors),
                now.duration_since(previous.at),
                busy.saturating_sub(previous.busy),
            ),
            None => (commands, errors, now.duration_since(started), busy),
        };
        let seconds = elapsed.as_secs_f64().max(0.001);
        let (lag_max_ms, lag_avg_ms) = lag.figures();
        let report = gateway.report().await;
        let shards = report
            .shards
            .iter()
            .map(|s| ShardFigures {
                id: s.id,
                state: serde_json::to_value(s.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                latency_ms: s.latency_ms,
            })
            .collect();
        let snapshot = Snapshot {
            at: SystemTime::now(),
            uptime: now.duration_since(started),
            cpu_percent: process.map(|p| f64::from(p.cpu_usage())),
            rss_bytes: process.map(sysinfo::Process::memory),
            threads: thread_count(),
            lag_max_ms,
            lag_avg_ms,
            workers: metrics.num_workers(),
            busy_workers: busy_delta.as_secs_f64() / seconds,
            tasks: metrics.num_alive_tasks(),
            queued: metrics.global_queue_depth(),
            commands,
            errors,
            commands_per_sec: window_commands as f64 / seconds,
            error_rate: if window_commands == 0 {
                0.0
            } else {
                window_errors as f64 * 100.0 / window_commands as f64
            },
            window_commands,
            window_errors,
            shards,
            plugins: dispatcher.shared().pool().all_stats(),
        };
        if advance {
            self.previous = Some(Previous {
                at: now,
                commands,
                errors,
                busy,
            });
        }
        snapshot
    }
}
