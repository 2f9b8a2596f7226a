//! `shardmanager`: the seed's shard manager commands on the host's cluster IPC
//! (`Host::clusters`, `Host::ipc_status`, `Host::broadcast`), all for the bot's owners:
//! `clusters` (every cluster with its figures and health, the global totals; 10 s cooldown),
//! `ipcstatus` (the link: mode, address, connected clusters and heartbeats; 10 s cooldown) and
//! `broadcastmsg <message>` (a text to every other cluster).
//!
//! A broadcast from another cluster arrives as the `cluster_broadcast` hook: it is logged and,
//! when `plugins.shardmanager.broadcast_channel` names a channel, posted there. The commands
//! answer "shard manager is off" unless `ENABLE_SHARD_MANAGER` (or
//! `framework.enable_shard_manager`) is on.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::{ClusterBroadcast, ClusterInfo, ClusterOverview, IpcStatus, palette};

/// The blurple of the seed's embeds.
const BLURPLE: u32 = 0x5865f2;

/// `plugins.shardmanager` in `config.json`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Where broadcasts from other clusters are posted (none: only logged).
    pub broadcast_channel: Option<u64>,
}

/// The plugin (no state of its own).
#[derive(Default)]
pub struct ShardManager;

impl Plugin for ShardManager {
    fn manifest() -> Manifest {
        Manifest::new("shardmanager", env!("CARGO_PKG_VERSION"))
            .author("Zoryx")
            .description("Clusters of one bot: figures, the IPC link, broadcasts")
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
                    "clusters",
                    "Every cluster of the bot with its figures and health, and the totals",
                )
                .cooldown(1, Duration::from_secs(10)),
                clusters,
            )
            .command(
                owner(
                    "ipcstatus",
                    "The cluster link: mode, address, connected clusters, heartbeats",
                )
                .cooldown(1, Duration::from_secs(10)),
                ipc_status,
            )
            .command(
                owner("broadcastmsg", "Send a message to every other cluster").arg(
                    Arg::rest("message")
                        .description("The message (500 characters at most)")
                        .max_length(500),
                ),
                broadcast,
            )
            .on_hook(0, received);
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self)
    }
}

fn duration(seconds: u64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("{h}:{m:02}:{s:02}")
    }
}

fn ids(ids: &[u64]) -> String {
    ids.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One cluster's field: its name with health, its figures in a code block.
fn cluster_field(cluster: &ClusterInfo) -> (String, String) {
    let mut name = format!("{} {}", cluster.health.emoji(), cluster.name);
    if cluster.is_self {
        name.push_str(" (this)");
    } else if cluster.is_server {
        name.push_str(" (server)");
    }
    let mut lines = Vec::new();
    match &cluster.stats {
        Some(stats) => {
            lines.push(format!("Guilds:    {}", stats.guilds));
            lines.push(format!("Members:   {}", stats.members));
            lines.push(format!(
                "Shards:    {} of {} ({})",
                stats.shard_ids.len(),
                stats.shard_count,
                ids(&stats.shard_ids)
            ));
            lines.push(format!(
                "Latency:   {}",
                stats
                    .latency_ms
                    .map_or_else(|| "—".to_owned(), |l| format!("{l:.1} ms"))
            ));
            lines.push(format!("Uptime:    {}", duration(stats.uptime_seconds)));
        }
        None => lines.push("No figures yet".to_owned()),
    }
    if !cluster.is_self {
        lines.push(format!(
            "Heartbeat: {:.0} s ago",
            cluster.heartbeat_age_seconds
        ));
    }
    (name, format!("```\n{}\n```", lines.join("\n")))
}

fn link_line(status: &IpcStatus) -> String {
    if status.mode == "server" {
        format!(
            "```\nListening: {}:{}\nClients:   {}\n```",
            status.host,
            status.port,
            status.peers.len()
        )
    } else {
        format!(
            "```\nServer:    {}:{}\nStatus:    {}\n```",
            status.host,
            status.port,
            if status.connected {
                "connected"
            } else {
                "disconnected"
            }
        )
    }
}

/// The `clusters` embed.
pub fn clusters_embed(overview: &ClusterOverview, status: &IpcStatus) -> Embed {
    let mut embed = Embed::new()
        .title("🌐 Shard Cluster Overview")
        .description(format!(
            "**Mode: `{}` | This cluster: `{}`**",
            overview.mode, overview.this_cluster
        ))
        .colour(BLURPLE);
    // Discord allows 25 fields: 23 clusters, the totals and the link.
    for cluster in overview.clusters.iter().take(23) {
        let (name, value) = cluster_field(cluster);
        embed = embed.field(name, value, true);
    }
    let t = &overview.totals;
    embed = embed.field(
        "📊 Global Totals",
        format!(
            "```\nClusters: {}\nGuilds:   {}\nMembers:  {}\nShards:   {}\n```",
            t.clusters, t.guilds, t.members, t.shards
        ),
        false,
    );
    let title = if status.mode == "server" {
        "🔌 IPC Server Status"
    } else {
        "🔌 IPC Client Status"
    };
    embed.field(title, link_line(status), false)
}

async fn clusters(ctx: CommandContext<ShardManager>) -> PluginResult {
    let host = ctx.host();
    let overview = host.clusters().await?;
    let status = host.ipc_status().await?;
    ctx.reply(Message::new().embed(clusters_embed(&overview, &status)))
        .await?;
    Ok(())
}

/// The `ipcstatus` embed.
pub fn status_embed(status: &IpcStatus) -> Embed {
    let mut embed = Embed::new()
        .title("🔌 IPC System Status")
        .colour(BLURPLE)
        .field(
            "⚙️ Configuration",
            format!(
                "```\nMode:    {}\nCluster: {}\nHost:    {}\nPort:    {}\nSecret:  set (never shown)\nStats:   every {} s\n```",
                status.mode, status.cluster, status.host, status.port, status.stats_interval_seconds
            ),
            false,
        );
    if status.mode == "server" {
        let peers: Vec<String> = status
            .peers
            .iter()
            .map(|p| format!("{}: heartbeat {:.0} s ago", p.name, p.heartbeat_age_seconds))
            .collect();
        embed = embed.field(
            format!("📡 Server — {} client(s)", status.peers.len()),
            format!(
                "```\n{}\n```",
                if peers.is_empty() {
                    "No clients connected".to_owned()
                } else {
                    peers.join("\n")
                }
            ),
            false,
        );
    } else {
        embed = embed.field(
            "📡 Client Connection",
            format!(
                "```\nConnected: {}\nTarget:    {}:{}\nServer:    {}\n```",
                if status.connected { "yes" } else { "no" },
                status.host,
                status.port,
                status.server.as_deref().unwrap_or("—")
            ),
            false,
        );
    }
    embed = embed.field(
        "💓 Heartbeats",
        format!(
            "```\nEvery:   {:.0} s (clients)\nTimeout: {:.0} s (server)\n```",
            status.heartbeat_interval_seconds, status.heartbeat_timeout_seconds
        ),
        false,
    );
    if let Some(error) = &status.last_error {
        embed = embed.field("⚠️ Last Error", format!("```\n{error}\n```"), false);
    }
    embed
}

async fn ipc_status(ctx: CommandContext<ShardManager>) -> PluginResult {
    let status = ctx.host().ipc_status().await?;
    ctx.reply(Message::new().embed(status_embed(&status)))
        .await?;
    Ok(())
}

async fn broadcast(ctx: CommandContext<ShardManager>) -> PluginResult {
    let text = ctx.arg::<String>("message")?;
    let text = text.trim();
    if text.is_empty() {
        return Err(PluginError::user("Give the message to broadcast."));
    }
    let author = ctx.author();
    let delivered = ctx
        .host()
        .broadcast_as(text, Some(author.name.clone()), Some(author.id.0))
        .await?;
    let text = zoryx_plugin_api::cluster::cut_broadcast(text);
    let embed = Embed::new()
        .title("📢 Broadcast Sent")
        .description(format!("```\n{text}\n```"))
        .colour(palette::SUCCESS)
        .field(
            "📡 Delivered To",
            format!("```\n{delivered} cluster(s)\n```"),
            false,
        );
    ctx.reply(Message::new().embed(embed)).await?;
    Ok(())
}

/// The post of a received broadcast.
pub fn received_embed(broadcast: &ClusterBroadcast) -> Embed {
    let mut embed = Embed::new()
        .title(format!("📢 Broadcast from {}", broadcast.source))
        .description(format!("```\n{}\n```", broadcast.message))
        .colour(BLURPLE);
    if let Some(author) = &broadcast.author {
        let who = match broadcast.author_id {
            Some(id) => format!("{author} ({id})"),
            None => author.clone(),
        };
        embed = embed.footer(format!("Sent by {who}"));
    }
    embed
}

/// A broadcast from another cluster: logged, and posted where the operator said.
async fn received(ctx: PluginContext<ShardManager>, broadcast: ClusterBroadcast) -> PluginResult {
    ctx.info(format!(
        "broadcast from {} ({}): {}",
        broadcast.source,
        broadcast.author.as_deref().unwrap_or("unknown"),
        broadcast.message
    ));
    let host = ctx.host();
    let settings: Settings = host.plugin_config().await?.unwrap_or_default();
    if let Some(channel) = settings.broadcast_channel {
        host.send(
            ChannelId(channel),
            Message::new().embed(received_embed(&broadcast)),
        )
        .await?;
    }
    Ok(())
}

zoryx_plugin_api::export_plugin!(ShardManager);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_seed() {
        assert_eq!(duration(59), "0:00:59");
        assert_eq!(duration(3_725), "1:02:05");
        assert_eq!(duration(90_061), "1d 01:01:01");
    }

    #[test]
    fn a_received_broadcast_names_its_source_and_author() {
        let broadcast: ClusterBroadcast = serde_json::from_value(serde_json::json!({
            "message": "hi", "source": "beta", "author": "owner", "author_id": 7
        }))
        .expect("payload");
        let embed = serde_json::to_value(received_embed(&broadcast)).expect("json");
        assert_eq!(embed["title"], "📢 Broadcast from beta");
        assert_eq!(embed["footer"], "Sent by owner (7)");
    }
}
