//! The framework diagnostics commands of the seed's `framework_diagnostics` cog:
//! `fw_diagnostics`, `fw_health`, `fw_history`, `fw_errors`, `fw_alert_channel` (bot owners).
//! The figures come from [`crate::diagnostics`].

use std::sync::Arc;
use std::time::SystemTime;

use zoryx_plugin_api::{Arg, Embed, Message};

use super::{BuiltinCall, Builtins, alerting};
use crate::alerts::Topic;
use crate::diagnostics::{Diagnostics, Snapshot, Tier, chart};
use crate::discord::embeds::{colour, embed};

/// Hours `fw_history` covers unless asked, and at most.
const HOURS_DEFAULT: i64 = 6;
const HOURS_MAX: i64 = 24 * 7;
/// Checks listed by `fw_history`.
const LISTED: usize = 10;
/// Plugins shown by `fw_diagnostics`.
const PLUGINS_SHOWN: usize = 10;

pub(super) fn register(builtins: &mut Builtins) {
    let owner = |name: &str, description: &str| {
        super::owner_command(name, description, "Framework Diagnostics")
    };
    builtins
        .add(
            owner(
                "fw_diagnostics",
                "Uptime, latency, CPU, memory, the runtime, commands and every plugin's calls",
            ),
            |call| Box::pin(diagnostics(call)),
        )
        .add(
            owner("fw_health", "The bot's health tier now, and why"),
            |call| Box::pin(health(call)),
        )
        .add(
            owner(
                "fw_history",
                "Health checks over the last hours, with a graph",
            )
            .arg(
                Arg::integer("hours")
                    .description("How many hours back (default 6, at most 168)")
                    .range(1, HOURS_MAX)
                    .optional(),
            ),
            |call| Box::pin(history(call)),
        )
        .add(owner("fw_errors", "The last command errors"), |call| {
            Box::pin(errors(call))
        })
        .add(
            alerting::spec(
                "fw_alert_channel",
                "Framework Diagnostics",
                "framework health",
            ),
            |call| Box::pin(alerting::set(call, Topic::Health)),
        );
}

/// The diagnostics, or the answer saying why there are none.
fn source(call: &BuiltinCall) -> Result<Arc<Diagnostics>, Message> {
    match &call.bot.services.diagnostics {
        Some(diagnostics) if diagnostics.enabled() => Ok(Arc::clone(diagnostics)),
        Some(_) => Err(embed(
            colour::WARNING,
            "Framework diagnostics off",
            "`framework.enable_framework_diagnostics` (or `framework.load_cogs`) is off in \
             config.json: no health checks, history or alerts.",
        )),
        None => Err(embed(
            colour::WARNING,
            "Not available",
            "Framework diagnostics are not running in this host.",
        )),
    }
}

fn opt(value: Option<f64>, unit: &str) -> String {
    value.map_or("n/a".to_owned(), |v| format!("{v:.1}{unit}"))
}

fn micros(us: u64) -> String {
    if us >= 1_000_000 {
        format!("{:.2}s", us as f64 / 1e6)
    } else if us >= 1_000 {
        format!("{:.1}ms", us as f64 / 1e3)
    } else {
        format!("{us}µs")
    }
}

fn shards_line(snapshot: &Snapshot) -> String {
    if snapshot.shards.is_empty() {
        return "not connected".to_owned();
    }
    snapshot
        .shards
        .iter()
        .map(|s| match s.latency_ms {
            Some(latency) => format!("#{} {} {latency:.0}ms", s.id, s.state),
            None => format!("#{} {}", s.id, s.state),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn diagnostics(call: BuiltinCall) -> Result<Message, String> {
    let diagnostics = match source(&call) {
        Ok(d) => d,
        Err(answer) => return Ok(answer),
    };
    let (snapshot, grade) = diagnostics.now().await;
    let stats = call.stats();
    let plugins = call.manager().list().await;
    let loaded = plugins.iter().filter(|p| p.loaded).count();
    let mut calls: Vec<_> = snapshot
        .plugins
        .iter()
        .filter(|(_, s)| s.calls > 0)
        .collect();
    calls.sort_by_key(|(_, s)| std::cmp::Reverse(s.calls));
    let plugin_lines: Vec<String> = calls
        .iter()
        .take(PLUGINS_SHOWN)
        .map(|(name, s)| {
            format!(
                "{name}: {} calls, {} errors, p50 {}, p99 {}, {} blocked",
                s.calls,
                s.errors,
                micros(s.p50_us),
                micros(s.p99_us),
                s.blocked
            )
        })
        .collect();
    let out = Embed::new()
        .title("🔧 Framework Diagnostics")
        .colour(grade.tier.colour())
        .field("Uptime", super::info::uptime(snapshot.uptime), true)
        .field("Health", grade.tier.label(), true)
        .field("Servers", stats.guilds.to_string(), true)
        .field(
            "System",
            format!(
                "```CPU: {}\nMemory: {}\nThreads: {}```",
                opt(snapshot.cpu_percent, " % of a core"),
                opt(snapshot.rss_mb(), " MB"),
                snapshot
                    .threads
                    .map_or("n/a".to_owned(), |t| t.to_string())
            ),
            true,
        )
        .field(
            "Runtime",
            format!(
                "```Workers: {} ({:.2} busy)\nTasks: {} ({} queued)\nLoop lag: {:.1}ms (avg {:.1}ms)```",
                snapshot.workers,
                snapshot.busy_workers,
                snapshot.tasks,
                snapshot.queued,
                snapshot.lag_max_ms,
                snapshot.lag_avg_ms
            ),
            true,
        )
        .field(
            "Commands",
            format!(
                "```Run: {}\nFailed: {}\nRate: {:.2}/s\nError rate: {:.1}% (since the last check)```",
                snapshot.commands,
                snapshot.errors,
                snapshot.commands_per_sec,
                snapshot.error_rate
            ),
            false,
        )
        .field("Gateway", shards_line(&snapshot), false)
        .field(
            "Extensions",
            format!("{loaded} loaded of {}", plugins.len()),
            true,
        )
        .field(
            "Health checks",
            format!(
                "{} run, every {}s",
                diagnostics.checks(),
                diagnostics.config().interval_seconds
            ),
            true,
        )
        .field(
            "Plugin calls",
            if plugin_lines.is_empty() {
                "No plugin has been called yet.".to_owned()
            } else {
                crate::discord::convert::clip(&plugin_lines.join("\n"), 1000)
            },
            false,
        );
    Ok(Message::new().embed(out))
}

async fn health(call: BuiltinCall) -> Result<Message, String> {
    let diagnostics = match source(&call) {
        Ok(d) => d,
        Err(answer) => return Ok(answer),
    };
    let (_, grade) = diagnostics.now().await;
    let config = diagnostics.config();
    let reasons = if grade.reasons.is_empty() {
        "Every figure is below its threshold.".to_owned()
    } else {
        grade.lines()
    };
    let last = diagnostics
        .last()
        .map_or("none yet".to_owned(), |(snapshot, grade)| {
            let ago = SystemTime::now()
                .duration_since(snapshot.at)
                .map_or(0, |d| d.as_secs());
            format!("{} {ago}s ago", grade.tier.label())
        });
    let alerts = call
        .manager()
        .dispatcher()
        .alerts()
        .channel(Topic::Health)
        .map_or("none (`fw_alert_channel`)".to_owned(), |c| {
            format!("<#{}>", c.0)
        });
    let out = Embed::new()
        .title(format!("🩺 Health: {}", grade.tier.label()))
        .colour(grade.tier.colour())
        .description(reasons)
        .field(
            "Thresholds (degraded / critical)",
            format!(
                "```Error rate: {} / {} %\nLoop lag: {} / {} ms\nMemory: {} / {} MB\nGateway latency: {} / {} ms```",
                config.error_rate_degraded,
                config.error_rate_critical,
                config.lag_degraded_ms,
                config.lag_critical_ms,
                config.memory_degraded_mb,
                config.memory_critical_mb,
                config.latency_degraded_ms,
                config.latency_critical_ms
            ),
            false,
        )
        .field("Last check", last, true)
        .field("Alerts", alerts, true);
    Ok(Message::new().embed(out))
}

async fn history(call: BuiltinCall) -> Result<Message, String> {
    let diagnostics = match source(&call) {
        Ok(d) => d,
        Err(answer) => return Ok(answer),
    };
    let hours: Option<i64> = call.args.get("hours").map_err(|e| e.to_string())?;
    let hours = hours.unwrap_or(HOURS_DEFAULT).clamp(1, HOURS_MAX);
    let hours = u32::try_from(hours).unwrap_or(6);
    let rows = diagnostics.history(hours, 20_000).await?;
    let mut out = Embed::new().title("📈 Health History").colour(colour::INFO);
    if rows.is_empty() {
        return Ok(Message::new().embed(out.description(format!(
            "No health check in the last {hours} h yet: one runs every {}s.",
            diagnostics.config().interval_seconds
        ))));
    }
    let count = |tier: Tier| rows.iter().filter(|r| r.tier == tier).count();
    out = out.description(format!(
        "{} checks in the last {hours} h: {} healthy, {} degraded, {} critical.",
        rows.len(),
        count(Tier::Healthy),
        count(Tier::Degraded),
        count(Tier::Critical)
    ));
    let now = crate::diagnostics::history::unix(SystemTime::now());
    let lines: Vec<String> = rows
        .iter()
        .rev()
        .take(LISTED)
        .map(|row| {
            let icon = match row.tier {
                Tier::Healthy => "✅",
                Tier::Degraded => "⚠️",
                Tier::Critical => "🚨",
            };
            format!(
                "{icon} {}m ago · CPU {} · {} · lag {:.0}ms · errors {:.1}%",
                (now - row.at).max(0) / 60,
                opt(row.cpu_percent, "%"),
                opt(row.rss_mb, " MB"),
                row.lag_ms,
                row.error_rate
            )
        })
        .collect();
    out = out.field(
        "Latest checks",
        crate::discord::convert::clip(&lines.join("\n"), 1000),
        false,
    );
    let panels = chart::panels(&rows);
    let span = rows
        .last()
        .zip(rows.first())
        .map_or(0.0, |(last, first)| (last.at - first.at) as f64);
    let mut message = Message::new();
    match chart::render(&panels, span) {
        Ok(png) => {
            let scales: Vec<String> = panels
                .iter()
                .map(|p| format!("{} ({}): 0 – {} {}", p.name, p.colour_name, p.top, p.unit))
                .collect();
            out = out.field(
                "Graph (top to bottom, oldest left)",
                scales.join("\n"),
                false,
            );
            message = message.file("health.png", png);
        }
        Err(error) => {
            out = out.field("Graph", error.to_string(), false);
        }
    }
    Ok(message.embed(out))
}

async fn errors(call: BuiltinCall) -> Result<Message, String> {
    let errors = call.manager().dispatcher().recent_errors();
    if errors.is_empty() {
        return Ok(embed(
            colour::SUCCESS,
            "✅ No command errors",
            "No command has failed since the bot started.",
        )
        .ephemeral());
    }
    let now = SystemTime::now();
    let lines: Vec<String> = errors
        .iter()
        .rev()
        .take(15)
        .map(|e| {
            let ago = now.duration_since(e.at).map_or(0, |d| d.as_secs());
            let whose = e
                .plugin
                .as_deref()
                .map_or("built-in".to_owned(), |p| format!("plugin {p}"));
            format!(
                "`{ago}s ago` **{}** ({whose}) — {}",
                e.command,
                crate::discord::convert::clip(&e.error, 80)
            )
        })
        .collect();
    let mut out = Embed::new()
        .title("⚠️ Recent Command Errors")
        .colour(colour::WARNING)
        .description(format!(
            "{} error(s) kept (the last {}).",
            errors.len(),
            crate::runtime::dispatch::RECENT_ERRORS
        ))
        .field("Errors (newest first)", lines.join("\n"), false);
    if errors.len() > 15 {
        out = out.footer(format!("Showing 15 of {}", errors.len()));
    }
    Ok(Message::new().embed(out).ephemeral())
}
