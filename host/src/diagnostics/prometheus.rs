//! The figures in Prometheus' text format (version 0.0.4), served as `GET /metrics` on the
//! health port. `deploy/grafana/zoryx.json` is a Grafana dashboard over them.

use std::fmt::Write as _;

use super::collect::Snapshot;
use super::grade::{Grade, Tier};

/// Escapes a label value (`\`, `"` and newlines).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (key, val)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{key}=\"{}\"", label(val));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    fn one(&mut self, name: &str, kind: &str, help: &str, value: f64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }
}

/// `snapshot` and its `grade` as Prometheus text.
pub fn render(snapshot: &Snapshot, grade: Option<&Grade>) -> String {
    let mut out = Out(String::with_capacity(4096));
    out.one(
        "zoryx_uptime_seconds",
        "gauge",
        "Seconds since the host started.",
        snapshot.uptime.as_secs_f64(),
    );
    if let Some(cpu) = snapshot.cpu_percent {
        out.one(
            "zoryx_process_cpu_percent",
            "gauge",
            "CPU used by the process since the previous health check, in percent of one core.",
            cpu,
        );
    }
    if let Some(rss) = snapshot.rss_bytes {
        out.one(
            "zoryx_process_resident_memory_bytes",
            "gauge",
            "Resident memory of the process.",
            rss as f64,
        );
    }
    if let Some(threads) = snapshot.threads {
        out.one(
            "zoryx_process_threads",
            "gauge",
            "Threads of the process.",
            threads as f64,
        );
    }
    out.one(
        "zoryx_runtime_lag_seconds",
        "gauge",
        "How late the runtime's lag probe woke, the worst of the recent probes.",
        snapshot.lag_max_ms / 1000.0,
    );
    out.one(
        "zoryx_runtime_workers",
        "gauge",
        "Worker threads of the host's async runtime.",
        snapshot.workers as f64,
    );
    out.one(
        "zoryx_runtime_busy_workers",
        "gauge",
        "Runtime workers busy on average since the previous health check.",
        snapshot.busy_workers,
    );
    out.one(
        "zoryx_runtime_tasks",
        "gauge",
        "Tasks alive on the host's runtime.",
        snapshot.tasks as f64,
    );
    out.one(
        "zoryx_commands_total",
        "counter",
        "Commands finished (built-ins and plugins').",
        snapshot.commands as f64,
    );
    out.one(
        "zoryx_command_errors_total",
        "counter",
        "Commands that failed.",
        snapshot.errors as f64,
    );
    out.one(
        "zoryx_command_error_rate_percent",
        "gauge",
        "Failed commands in percent of those finished since the previous health check.",
        snapshot.error_rate,
    );
    if let Some(grade) = grade {
        out.family(
            "zoryx_health_tier",
            "gauge",
            "The health tier: 1 for the current one (healthy, degraded, critical).",
        );
        for tier in [Tier::Healthy, Tier::Degraded, Tier::Critical] {
            let value = if tier == grade.tier { 1.0 } else { 0.0 };
            out.sample("zoryx_health_tier", &[("tier", tier.name())], value);
        }
    }
    out.family("zoryx_shard_up", "gauge", "1 when the shard is connected.");
    for shard in &snapshot.shards {
        let id = shard.id.to_string();
        let up = if shard.state == "connected" { 1.0 } else { 0.0 };
        out.sample(
            "zoryx_shard_up",
            &[("shard", &id), ("state", &shard.state)],
            up,
        );
    }
    out.family(
        "zoryx_shard_latency_seconds",
        "gauge",
        "The shard's last heartbeat round trip.",
    );
    for shard in &snapshot.shards {
        if let Some(latency) = shard.latency_ms {
            let id = shard.id.to_string();
            out.sample(
                "zoryx_shard_latency_seconds",
                &[("shard", &id)],
                latency / 1000.0,
            );
        }
    }
    let families: [(&str, &str, &str); 6] = [
        (
            "zoryx_plugin_calls_total",
            "counter",
            "Calls into the plugin.",
        ),
        (
            "zoryx_plugin_errors_total",
            "counter",
            "Calls into the plugin that failed.",
        ),
        (
            "zoryx_plugin_blocked_total",
            "counter",
            "Polls of the plugin that held a thread past limits.blocked_thread_ms.",
        ),
        (
            "zoryx_plugin_timeouts_total",
            "counter",
            "Calls into the plugin cancelled at their time limit.",
        ),
        (
            "zoryx_plugin_call_p50_seconds",
            "gauge",
            "Median call time of the plugin since start.",
        ),
        (
            "zoryx_plugin_call_p99_seconds",
            "gauge",
            "99th percentile call time of the plugin since start.",
        ),
    ];
    for (i, (name, kind, help)) in families.iter().enumerate() {
        out.family(name, kind, help);
        for (plugin, stats) in &snapshot.plugins {
            let value = match i {
                0 => stats.calls as f64,
                1 => stats.errors as f64,
                2 => stats.blocked as f64,
                3 => stats.timed_out as f64,
                4 => stats.p50_us as f64 / 1e6,
                _ => stats.p99_us as f64 / 1e6,
            };
            out.sample(name, &[("plugin", plugin)], value);
        }
    }
    out.0
}
