//! `shardmonitor`: the seed's shard monitor on the host's shard figures (`Host::shards`).
//! `shardmonitor` is a dashboard with Overview, Health, Latency and Events tabs and Refresh;
//! `sharddetails ID`, `shardhealth`, `shardalerts [#channel] [threshold]` and
//! `shardreset [ID|-1]` (all for the bot's owners). Every minute it samples each shard's
//! latency and event counts (an hour is kept) and checks the health rules (see [`health`]);
//! problems are posted to the alert channel, the same problem of a shard at most once per
//! 15 minutes. `framework.enable_shard_monitor` (or `ENABLE_SHARD_MONITOR`) false turns it off.

mod health;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::{ButtonStyle, CustomId, Host, ShardInfo, palette};

use health::{Level, check, level};

/// Minutes of samples kept per shard.
const KEEP: usize = 60;
/// The same problem of a shard is posted at most this often.
const ALERT_EVERY_MS: u64 = 15 * 60 * 1000;
/// Consecutive failures that make a warning unless `shardalerts` sets another number.
const THRESHOLD: u64 = 3;
/// The key of the alert settings (global scope).
const ALERTS: &str = "alerts";

/// One minute's sample of a shard.
#[derive(Clone, Copy, Debug)]
struct Sample {
    at_ms: u64,
    latency_ms: Option<f64>,
    events: u64,
}

/// Where alerts go, and the failure threshold.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct AlertSettings {
    channel: Option<u64>,
    threshold: Option<u64>,
}

/// The plugin: an hour of samples per shard and when each problem was last posted.
#[derive(Default)]
pub struct ShardMonitor {
    samples: Mutex<HashMap<u32, VecDeque<Sample>>>,
    alerted: Mutex<HashMap<(u32, &'static str), u64>>,
}

/// A dashboard tab, for whom.
#[derive(Serialize, Deserialize)]
struct Tab {
    tab: String,
    user: u64,
}

impl CustomId for Tab {
    const PREFIX: &'static str = "shardmonitor";
}

fn now_ms(host: &Host) -> u64 {
    host.now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Whether the operator turned the monitor off.
fn turned_off(host: &Host) -> bool {
    host.config_value("framework.enable_shard_monitor")
        .is_some_and(|v| v == serde_json::Value::Bool(false))
}

fn off() -> PluginError {
    PluginError::user(
        "the shard monitor is turned off (`framework.enable_shard_monitor`, or \
         ENABLE_SHARD_MONITOR)",
    )
}

async fn alert_settings(host: &Host) -> AlertSettings {
    host.storage()
        .get::<AlertSettings>(zoryx_plugin_api::Scope::Global, ALERTS)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

fn total_events(shard: &ShardInfo) -> u64 {
    shard.events.values().sum()
}

fn ago(now: u64, at: Option<u64>) -> String {
    match at {
        Some(at) => {
            let secs = now.saturating_sub(at) / 1000;
            if secs < 120 {
                format!("{secs} s ago")
            } else if secs < 7200 {
                format!("{} min ago", secs / 60)
            } else {
                format!("{} h ago", secs / 3600)
            }
        }
        None => "never".to_owned(),
    }
}

fn latency(shard: &ShardInfo) -> String {
    shard
        .latency_ms
        .map_or_else(|| "—".to_owned(), |l| format!("{l:.0} ms"))
}

impl ShardMonitor {
    /// Events per second of `shard` over its last samples (`None` before two samples).
    fn rate(&self, shard: &ShardInfo, now: u64) -> Option<f64> {
        let samples = self.samples.lock().ok()?;
        let first = samples.get(&shard.id)?.front()?;
        let seconds = now.saturating_sub(first.at_ms) as f64 / 1000.0;
        let events = total_events(shard).saturating_sub(first.events);
        (seconds >= 1.0).then(|| events as f64 / seconds)
    }

    /// Min, average and max latency of the kept samples.
    fn latency_range(&self, shard: u32) -> Option<(f64, f64, f64, usize)> {
        let samples = self.samples.lock().ok()?;
        let values: Vec<f64> = samples
            .get(&shard)?
            .iter()
            .filter_map(|s| s.latency_ms)
            .collect();
        if values.is_empty() {
            return None;
        }
        let min = values.iter().copied().fold(f64::MAX, f64::min);
        let max = values.iter().copied().fold(0.0, f64::max);
        let avg = values.iter().sum::<f64>() / values.len() as f64;
        Some((min, avg, max, values.len()))
    }

    fn record(&self, shards: &[ShardInfo], now: u64) {
        if let Ok(mut samples) = self.samples.lock() {
            for shard in shards {
                let list = samples.entry(shard.id).or_default();
                list.push_back(Sample {
                    at_ms: now,
                    latency_ms: shard.latency_ms,
                    events: total_events(shard),
                });
                while list.len() > KEEP {
                    list.pop_front();
                }
            }
        }
    }

    fn forget(&self, shard: Option<u32>) {
        if let Ok(mut samples) = self.samples.lock() {
            match shard {
                Some(id) => {
                    samples.remove(&id);
                }
                None => samples.clear(),
            }
        }
    }
}

impl Plugin for ShardMonitor {
    fn manifest() -> Manifest {
        Manifest::new("shardmonitor", env!("CARGO_PKG_VERSION"))
            .author("Zoryx")
            .description("Gateway shard health: latency, events, connections, alerts")
    }

    fn register(plugin: &mut Registrar<Self>) {
        let owner = |name: &str, description: &str| {
            CommandSpec::new(name)
                .description(description)
                .category("Shards")
                .permission(Permission::Owner)
        };
        plugin
            .command(
                owner(
                    "shardmonitor",
                    "The shard dashboard: overview, health, latency, events",
                )
                .cooldown(1, Duration::from_secs(10)),
                dashboard,
            )
            .command(
                owner(
                    "sharddetails",
                    "One shard's guilds, members, latency, connections, events",
                )
                .arg(
                    Arg::integer("id")
                        .description("The shard id")
                        .range(0, 100_000),
                ),
                details,
            )
            .command(
                owner(
                    "shardhealth",
                    "Every shard's health: healthy, warning or critical",
                )
                .cooldown(1, Duration::from_secs(30)),
                health_report,
            )
            .command(
                owner(
                    "shardalerts",
                    "Where shard problems are posted, and the failure threshold",
                )
                .arg(
                    Arg::channel("channel")
                        .description("The channel (none: show the settings)")
                        .optional(),
                )
                .arg(
                    Arg::integer("threshold")
                        .description("Consecutive connection failures that warn (1-20)")
                        .optional()
                        .range(1, 20),
                ),
                alerts,
            )
            .command(
                owner(
                    "shardreset",
                    "Forget a shard's counts (-1 or none: every shard)",
                )
                .arg(Arg::integer("id").optional().range(-1, 100_000)),
                reset,
            )
            .on_click(switch_tab)
            .cron("check", "* * * * *", false, check_shards);
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self::default())
    }
}

/// Samples every shard and posts new problems to the alert channel.
async fn check_shards(ctx: PluginContext<ShardMonitor>) -> PluginResult {
    let host = ctx.host();
    if turned_off(host) {
        return Ok(());
    }
    let shards = host.shards().await?;
    let now = now_ms(host);
    let monitor = ctx.data();
    monitor.record(&shards, now);
    let settings = alert_settings(host).await;
    let Some(channel) = settings.channel else {
        return Ok(());
    };
    let threshold = settings.threshold.unwrap_or(THRESHOLD);
    let mut lines = Vec::new();
    let mut worst = Level::Healthy;
    for shard in &shards {
        for issue in check(shard, now, threshold) {
            let due = monitor.alerted.lock().is_ok_and(|mut alerted| {
                let last = alerted.get(&(shard.id, issue.key)).copied();
                let due = last.is_none_or(|at| now.saturating_sub(at) >= ALERT_EVERY_MS);
                if due {
                    alerted.insert((shard.id, issue.key), now);
                }
                due
            });
            if due {
                worst = worst.max(issue.level);
                lines.push(format!(
                    "{} Shard {}: {}",
                    issue.level.icon(),
                    shard.id,
                    issue.text
                ));
            }
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    let embed = Embed::new()
        .title(format!("Shard alert: {}", worst.name()))
        .description(lines.join("\n"))
        .colour(if worst == Level::Critical {
            palette::ERROR
        } else {
            palette::WARNING
        });
    host.send(ChannelId(channel), Message::new().embed(embed))
        .await
        .map(drop)
}

fn overview(shards: &[ShardInfo], now: u64) -> Embed {
    let guilds: u64 = shards.iter().map(|s| s.guilds).sum();
    let members: u64 = shards.iter().map(|s| s.members).sum();
    let connected = shards.iter().filter(|s| s.state == "connected").count();
    let latencies: Vec<f64> = shards.iter().filter_map(|s| s.latency_ms).collect();
    let average = if latencies.is_empty() {
        "—".to_owned()
    } else {
        format!(
            "{:.0} ms",
            latencies.iter().sum::<f64>() / latencies.len() as f64
        )
    };
    let mut embed = Embed::info(
        "Shard monitor",
        &format!(
            "**{connected}/{}** shards connected · {guilds} servers · {members} members · \
             average latency {average}",
            shards.len()
        ),
    );
    for shard in shards.iter().take(20) {
        embed = embed.field(
            format!("Shard {}", shard.id),
            format!(
                "{} · {} · {} servers\nlast event {}",
                shard.state,
                latency(shard),
                shard.guilds,
                ago(now, shard.last_event_unix_ms)
            ),
            true,
        );
    }
    embed
}

fn health_embed(shards: &[ShardInfo], now: u64, threshold: u64) -> Embed {
    let mut counts = BTreeMap::new();
    let mut lines = Vec::new();
    for shard in shards {
        let issues = check(shard, now, threshold);
        let level = level(&issues);
        *counts.entry(level).or_insert(0) += 1;
        let why = if issues.is_empty() {
            "healthy".to_owned()
        } else {
            issues
                .iter()
                .map(|i| i.text.clone())
                .collect::<Vec<_>>()
                .join("; ")
        };
        lines.push(format!("{} Shard {}: {why}", level.icon(), shard.id));
    }
    let worst = counts.keys().max().copied().unwrap_or(Level::Healthy);
    Embed::new()
        .title(format!("Shard health: {}", worst.name()))
        .description(lines.join("\n"))
        .colour(match worst {
            Level::Healthy => palette::SUCCESS,
            Level::Warning => palette::WARNING,
            Level::Critical => palette::ERROR,
        })
        .footer(format!(
            "{} healthy · {} warning · {} critical · failure threshold {threshold}",
            counts.get(&Level::Healthy).unwrap_or(&0),
            counts.get(&Level::Warning).unwrap_or(&0),
            counts.get(&Level::Critical).unwrap_or(&0),
        ))
}

fn latency_embed(monitor: &ShardMonitor, shards: &[ShardInfo]) -> Embed {
    let mut embed = Embed::info(
        "Shard latency",
        "Heartbeat round trips: now, and min / average / max over the last hour's samples.",
    );
    for shard in shards.iter().take(20) {
        let range = monitor.latency_range(shard.id).map_or_else(
            || "no samples yet".to_owned(),
            |(min, avg, max, n)| format!("{min:.0} / {avg:.0} / {max:.0} ms ({n} samples)"),
        );
        embed = embed.field(
            format!("Shard {}", shard.id),
            format!("now {}\n{range}", latency(shard)),
            true,
        );
    }
    embed
}

fn events_embed(monitor: &ShardMonitor, shards: &[ShardInfo], now: u64) -> Embed {
    let mut embed = Embed::info(
        "Shard events",
        "Events received since the start or the last reset.",
    );
    for shard in shards.iter().take(20) {
        let by_kind: Vec<String> = shard
            .events
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect();
        let rate = monitor
            .rate(shard, now)
            .map_or_else(String::new, |r| format!(" · {r:.2}/s"));
        embed = embed.field(
            format!("Shard {}", shard.id),
            format!(
                "{} events{rate}\n{}",
                total_events(shard),
                if by_kind.is_empty() {
                    "none yet".to_owned()
                } else {
                    by_kind.join(", ")
                }
            ),
            true,
        );
    }
    embed
}

/// The dashboard on `tab` for `user`, with its buttons.
async fn page(
    ctx_host: &Host,
    monitor: &ShardMonitor,
    tab: &str,
    user: u64,
) -> PluginResult<Message> {
    let shards = ctx_host.shards().await?;
    let now = now_ms(ctx_host);
    let threshold = alert_settings(ctx_host)
        .await
        .threshold
        .unwrap_or(THRESHOLD);
    let embed = match tab {
        "health" => health_embed(&shards, now, threshold),
        "latency" => latency_embed(monitor, &shards),
        "events" => events_embed(monitor, &shards, now),
        _ => overview(&shards, now),
    };
    let mut message = Message::new().embed(embed.footer(format!("Updated <t:{}:T>", now / 1000)));
    for (name, label) in [
        ("overview", "Overview"),
        ("health", "Health"),
        ("latency", "Latency"),
        ("events", "Events"),
    ] {
        let button = Tab {
            tab: name.to_owned(),
            user,
        }
        .button(label)?
        .style(if name == tab {
            ButtonStyle::Primary
        } else {
            ButtonStyle::Secondary
        });
        message = message.button(button);
    }
    let refresh = Tab {
        tab: format!("refresh-{tab}"),
        user,
    }
    .button("Refresh")?
    .style(ButtonStyle::Success);
    Ok(message
        .button(refresh)
        .expire_components(Duration::from_secs(180)))
}

async fn dashboard(ctx: CommandContext<ShardMonitor>) -> PluginResult {
    if turned_off(ctx.host()) {
        return Err(off());
    }
    let message = page(ctx.host(), ctx.data(), "overview", ctx.author().id.0).await?;
    ctx.reply(message).await?;
    Ok(())
}

async fn switch_tab(ctx: ComponentContext<ShardMonitor>, tab: Tab) -> PluginResult {
    if !ctx.only_for(tab.user).await? {
        return Ok(());
    }
    let name = tab
        .tab
        .strip_prefix("refresh-")
        .unwrap_or(&tab.tab)
        .to_owned();
    let host: &Host = &ctx;
    let message = page(host, ctx.data(), &name, tab.user).await?;
    ctx.update(message).await
}

async fn details(ctx: CommandContext<ShardMonitor>) -> PluginResult {
    if turned_off(ctx.host()) {
        return Err(off());
    }
    let id: i64 = ctx.arg("id")?;
    let shards = ctx.host().shards().await?;
    let Some(shard) = shards.iter().find(|s| i64::from(s.id) == id) else {
        let ids: Vec<String> = shards.iter().map(|s| s.id.to_string()).collect();
        return Err(PluginError::user(format!(
            "this process runs no shard {id}; it runs {}",
            if ids.is_empty() {
                "none yet".to_owned()
            } else {
                ids.join(", ")
            }
        )));
    };
    let now = now_ms(ctx.host());
    let threshold = alert_settings(ctx.host())
        .await
        .threshold
        .unwrap_or(THRESHOLD);
    let issues = check(shard, now, threshold);
    let by_kind: Vec<String> = shard
        .events
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    let embed = Embed::info(
        &format!(
            "Shard {}{}",
            shard.id,
            shard.total.map_or_else(String::new, |t| format!(" of {t}"))
        ),
        &format!("{} {}", level(&issues).icon(), shard.state),
    )
    .field("Servers", shard.guilds.to_string(), true)
    .field("Members", shard.members.to_string(), true)
    .field("Latency", latency(shard), true)
    .field(
        "Connected",
        shard.connected_since_unix_ms.map_or_else(
            || "no".to_owned(),
            |at| format!("since <t:{}:R>", at / 1000),
        ),
        true,
    )
    .field(
        "Connections",
        format!(
            "{} connects · {} disconnects · {} resumes · {} failing",
            shard.connects, shard.disconnects, shard.resumes, shard.failing
        ),
        false,
    )
    .field(
        "Last disconnect",
        ago(now, shard.last_disconnect_unix_ms),
        true,
    )
    .field("Last event", ago(now, shard.last_event_unix_ms), true)
    .field("Events", by_kind.join(", "), false)
    .field(
        "Health",
        if issues.is_empty() {
            "healthy".to_owned()
        } else {
            issues
                .iter()
                .map(|i| i.text.clone())
                .collect::<Vec<_>>()
                .join("; ")
        },
        false,
    );
    ctx.reply(embed).await?;
    Ok(())
}

async fn health_report(ctx: CommandContext<ShardMonitor>) -> PluginResult {
    if turned_off(ctx.host()) {
        return Err(off());
    }
    let shards = ctx.host().shards().await?;
    let threshold = alert_settings(ctx.host())
        .await
        .threshold
        .unwrap_or(THRESHOLD);
    ctx.reply(health_embed(&shards, now_ms(ctx.host()), threshold))
        .await?;
    Ok(())
}

async fn alerts(ctx: CommandContext<ShardMonitor>) -> PluginResult {
    let host = ctx.host();
    let mut settings = alert_settings(host).await;
    let channel = ctx.arg::<ChannelId>("channel").ok();
    let threshold = ctx.arg::<i64>("threshold").ok();
    if channel.is_none() && threshold.is_none() {
        let text = format!(
            "Shard alerts go to {}; {} consecutive connection failures warn.",
            settings
                .channel
                .map_or_else(|| "no channel (set one)".to_owned(), |c| format!("<#{c}>")),
            settings.threshold.unwrap_or(THRESHOLD)
        );
        ctx.reply(text).await?;
        return Ok(());
    }
    if let Some(channel) = channel {
        settings.channel = Some(channel.0);
    }
    if let Some(threshold) = threshold {
        settings.threshold = u64::try_from(threshold).ok();
    }
    host.storage()
        .set(zoryx_plugin_api::Scope::Global, ALERTS, &settings)
        .await?;
    ctx.reply(Embed::success(
        "Shard alerts",
        &format!(
            "Problems are posted in {} (each at most once per 15 minutes); {} consecutive \
             connection failures warn, {} are critical.",
            settings
                .channel
                .map_or_else(|| "no channel".to_owned(), |c| format!("<#{c}>")),
            settings.threshold.unwrap_or(THRESHOLD),
            settings.threshold.unwrap_or(THRESHOLD) + 2
        ),
    ))
    .await?;
    Ok(())
}

async fn reset(ctx: CommandContext<ShardMonitor>) -> PluginResult {
    let shard = match ctx.arg::<i64>("id") {
        Ok(-1) | Err(_) => None,
        Ok(id) => Some(u32::try_from(id).map_err(|_| PluginError::user("no such shard"))?),
    };
    ctx.host().reset_shard_stats(shard).await?;
    ctx.data().forget(shard);
    if let Ok(mut alerted) = ctx.data().alerted.lock() {
        alerted.retain(|(id, _), _| shard.is_some_and(|s| s != *id));
    }
    ctx.reply(match shard {
        Some(id) => format!("Shard {id}'s counts were reset."),
        None => "Every shard's counts were reset.".to_owned(),
    })
    .await?;
    Ok(())
}

zoryx_plugin_api::export_plugin!(ShardMonitor);
