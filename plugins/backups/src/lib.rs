//! `backups`: guild snapshots. `backupcreate` takes the server's roles, channels and categories
//! with their permission overwrites, members' roles and emojis; every snapshot carries a full
//! SHA-256 over its canonical encoding, checked on every read. `backuplist`, `backupview`,
//! `backupverify`, `backupdiff` (two snapshots, or one and the live server), `backuppin`,
//! `backupnote`, `backupdelete`, `backupexport` (a JSON file), `backupstats` and
//! `backupschedule` (automatic backups every 1–168 h with retention) manage them.

mod diff;
mod snapshot;
mod store;

use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::{Bucket, ButtonStyle, CustomId, Host, palette};

use snapshot::{Snapshot, short};
use store::Entry;

/// Backups per server unless `plugins.backups.max_per_guild` says otherwise (the seed's 25).
const MAX_PER_GUILD: u64 = 25;
/// Backups per page of `backuplist`.
const PAGE: usize = 10;
/// The longest note.
const NOTE: usize = 500;

/// The plugin; its state is all in its files.
#[derive(Default)]
pub struct Backups;

/// `plugins.backups` in `config.json`.
#[derive(Deserialize, Default)]
struct Settings {
    max_per_guild: Option<u64>,
}

/// The confirm button of `backupdelete`: which backup, for whom.
#[derive(Serialize, Deserialize)]
struct ConfirmDelete {
    id: String,
    user: u64,
}

impl CustomId for ConfirmDelete {
    const PREFIX: &'static str = "backupdelete";
}

impl Plugin for Backups {
    fn manifest() -> Manifest {
        Manifest::new("backups", env!("CARGO_PKG_VERSION"))
            .author("Zoryx")
            .description(
                "Server snapshots with checksums: create, verify, compare, export, schedule",
            )
    }

    fn register(plugin: &mut Registrar<Self>) {
        let admin = |name: &str, description: &str| {
            CommandSpec::new(name)
                .description(description)
                .category("Backups")
                .permission(Permission::Administrator)
                .dm(false)
        };
        let id = || Arg::text("id").description("The backup's id (or its first characters)");
        plugin
            .setting(
                Setting::integer("max_per_guild")
                    .range(1, 1000)
                    .default(MAX_PER_GUILD)
                    .description("Backups a server may keep"),
            )
            .command(
                admin("backupcreate", "Take a snapshot of this server now")
                    .arg(Arg::rest("label").optional().max_length(100))
                    .cooldown_per(1, Duration::from_secs(300), Bucket::Guild),
                create,
            )
            .command(
                admin("backuplist", "This server's backups")
                    .arg(Arg::integer("page").optional().range(1, 1000)),
                list,
            )
            .command(admin("backupview", "One backup's details").arg(id()), view)
            .command(
                admin(
                    "backupverify",
                    "Recompute a backup's checksum and check its structure",
                )
                .arg(id()),
                verify,
            )
            .command(
                admin(
                    "backupdiff",
                    "Compare two backups, or a backup and the server now",
                )
                .arg(id())
                .arg(
                    Arg::text("other")
                        .description("Another backup's id (default: the server now)")
                        .optional(),
                ),
                compare,
            )
            .command(
                admin(
                    "backuppin",
                    "Pin or unpin a backup (pinned ones are never deleted)",
                )
                .arg(id()),
                pin,
            )
            .command(
                admin("backupnote", "Write a note on a backup (empty: remove it)")
                    .arg(id())
                    .arg(Arg::rest("note").optional().max_length(NOTE as u16)),
                note,
            )
            .command(
                admin("backupdelete", "Delete a backup (asks first)").arg(id()),
                delete,
            )
            .command(
                admin("backupexport", "A backup as a JSON file")
                    .arg(id())
                    .permission(Permission::Owner),
                export,
            )
            .command(
                admin("backupstats", "Backups across every server").permission(Permission::Owner),
                stats,
            )
            .command(
                admin("backupschedule", "Automatic backups of this server")
                    .arg(Arg::text("action").choices(["enable", "disable", "status"]))
                    .arg(
                        Arg::integer("hours")
                            .description("Every this many hours (1-168)")
                            .optional()
                            .range(1, 168),
                    )
                    .arg(
                        Arg::integer("keep")
                            .description("Automatic backups kept (default 7)")
                            .optional()
                            .range(1, 100),
                    ),
                schedule,
            )
            .on_click(confirm_delete)
            .cron("automatic", "0 * * * *", true, automatic);
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self)
    }
}

fn unix_now(host: &Host) -> u64 {
    host.now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn guild_of(ctx: &CommandContext<Backups>) -> PluginResult<u64> {
    ctx.invocation()
        .guild_id
        .map(|g| g.0)
        .ok_or_else(|| PluginError::user("backups are of a server: use this in one"))
}

async fn max_per_guild(host: &Host) -> u64 {
    host.plugin_config::<Settings>()
        .await
        .ok()
        .flatten()
        .and_then(|s| s.max_per_guild)
        .unwrap_or(MAX_PER_GUILD)
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

fn counts(entry: &Entry) -> String {
    format!(
        "{} roles · {} channels · {} members with roles · {} emojis",
        entry.roles, entry.channels, entry.members, entry.emojis
    )
}

async fn create(ctx: CommandContext<Backups>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    let host = ctx.host();
    let entries = store::index(host, guild).await?;
    let max = max_per_guild(host).await;
    if entries.len() as u64 >= max {
        return Err(PluginError::user(format!(
            "this server has {} backups, the most it may keep ({max}); delete one first",
            entries.len()
        )));
    }
    let started = std::time::Instant::now();
    let snapshot = Snapshot::take(&host.guild(GuildId(guild)), unix_now(host)).await?;
    let label: String = ctx
        .arg::<String>("label")
        .ok()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "manual".to_owned());
    let entry = store::save(host, snapshot, label, Some(ctx.author().id.0)).await?;
    ctx.info(format!(
        "backup {} of guild {guild} created by {} in {} ms",
        entry.id,
        ctx.author().id.0,
        started.elapsed().as_millis()
    ));
    let embed = Embed::success(
        "Backup created",
        &format!("`{}` · {}\n{}", entry.id, entry.label, counts(&entry)),
    )
    .field("Checksum (SHA-256)", format!("`{}`", entry.checksum), false)
    .field("Size", size(entry.bytes), true)
    .field(
        "Took",
        format!("{} ms", started.elapsed().as_millis()),
        true,
    );
    ctx.reply(embed).await?;
    Ok(())
}

async fn list(ctx: CommandContext<Backups>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    let mut entries = store::index(ctx.host(), guild).await?;
    if entries.is_empty() {
        ctx.reply("No backups of this server yet: `backupcreate` takes one.")
            .await?;
        return Ok(());
    }
    entries.reverse();
    let pages = entries.len().div_ceil(PAGE);
    let page = usize::try_from(ctx.arg::<i64>("page").unwrap_or(1).max(1))
        .unwrap_or(1)
        .min(pages);
    let mut embed = Embed::new()
        .title("Backups of this server")
        .colour(palette::INFO)
        .description(format!(
            "{} backup(s), {} pinned, {} in all",
            entries.len(),
            entries.iter().filter(|e| e.pinned).count(),
            size(entries.iter().map(|e| e.bytes).sum())
        ))
        .footer(format!("Page {page}/{pages} · newest first"));
    for entry in entries.iter().skip((page - 1) * PAGE).take(PAGE) {
        embed = embed.field(
            format!(
                "{}{} · {}",
                if entry.pinned { "📌 " } else { "" },
                entry.id,
                entry.label
            ),
            format!(
                "<t:{}:f> · {}\n{}",
                entry.created_at,
                size(entry.bytes),
                counts(entry)
            ),
            false,
        );
    }
    ctx.reply(embed).await?;
    Ok(())
}

async fn view(ctx: CommandContext<Backups>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    let entries = store::index(ctx.host(), guild).await?;
    let entry = store::find(&entries, &ctx.arg::<String>("id")?)?.clone();
    let snapshot = store::load(ctx.host(), guild, &entry).await?;
    let roles: Vec<String> = snapshot
        .roles
        .iter()
        .filter(|r| r.id != guild)
        .take(15)
        .map(|r| format!("@{}", r.name))
        .collect();
    let categories = snapshot
        .channels
        .iter()
        .filter(|c| c.kind == zoryx_plugin_api::ChannelKind::Category)
        .count();
    let mut embed = Embed::info(
        &format!("Backup {}", entry.id),
        &format!("{} · {}", entry.label, counts(&entry)),
    )
    .field("Created", format!("<t:{}:f>", entry.created_at), true)
    .field(
        "By",
        entry
            .created_by
            .map_or_else(|| "the schedule".to_owned(), |u| format!("<@{u}>")),
        true,
    )
    .field("Size", size(entry.bytes), true)
    .field("Server", snapshot.guild.name.clone(), true)
    .field(
        "Channels",
        format!(
            "{categories} categories, {} channels",
            snapshot.channels.len() - categories
        ),
        true,
    )
    .field("Pinned", if entry.pinned { "yes" } else { "no" }, true)
    .field("Checksum (SHA-256)", format!("`{}`", entry.checksum), false)
    .field(
        "Roles",
        if roles.is_empty() {
            "none".to_owned()
        } else {
            roles.join(", ")
        },
        false,
    );
    if let Some(note) = &entry.note {
        embed = embed.field("Note", note.clone(), false);
    }
    ctx.reply(embed).await?;
    Ok(())
}

async fn verify(ctx: CommandContext<Backups>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    let entries = store::index(ctx.host(), guild).await?;
    let entry = store::find(&entries, &ctx.arg::<String>("id")?)?.clone();
    match store::load(ctx.host(), guild, &entry).await {
        Ok(snapshot) => {
            let embed = Embed::success(
                &format!("Backup {} is intact", entry.id),
                &format!(
                    "The SHA-256 of its contents matches `{}`, and its structure holds \
                     together ({} roles, {} channels, {} members).",
                    short(&entry.checksum),
                    snapshot.roles.len(),
                    snapshot.channels.len(),
                    snapshot.members.len()
                ),
            );
            ctx.reply(embed).await?;
        }
        Err(PluginError::User(why)) => {
            ctx.reply(Embed::error(&format!("Backup {} failed", entry.id), &why))
                .await?;
        }
        Err(other) => return Err(other),
    }
    Ok(())
}

async fn compare(ctx: CommandContext<Backups>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    let host = ctx.host();
    let entries = store::index(host, guild).await?;
    let first = store::find(&entries, &ctx.arg::<String>("id")?)?.clone();
    let old = store::load(host, guild, &first).await?;
    let (new, against) = match ctx.arg::<String>("other").ok().filter(|o| o != "live") {
        Some(other) => {
            let second = store::find(&entries, &other)?.clone();
            (
                store::load(host, guild, &second).await?,
                format!("backup {}", second.id),
            )
        }
        None => (
            Snapshot::take(&host.guild(GuildId(guild)), unix_now(host)).await?,
            "the server now".to_owned(),
        ),
    };
    let changes = diff::diff(&old, &new);
    let title = format!("Backup {} → {against}", first.id);
    if changes.is_empty() {
        ctx.reply(Embed::success(&title, "No differences.")).await?;
        return Ok(());
    }
    let block = |lines: &[String]| -> String {
        let mut text = String::new();
        for (i, line) in lines.iter().enumerate() {
            if text.len() + line.len() > 950 {
                text.push_str(&format!("… and {} more", lines.len() - i));
                break;
            }
            text.push_str(line);
            text.push('\n');
        }
        if text.is_empty() {
            "none".to_owned()
        } else {
            text
        }
    };
    let embed = Embed::info(
        &title,
        &format!(
            "{} added, {} removed, {} changed",
            changes.added.len(),
            changes.removed.len(),
            changes.changed.len()
        ),
    )
    .field("➕ Added", block(&changes.added), false)
    .field("➖ Removed", block(&changes.removed), false)
    .field("✏️ Changed", block(&changes.changed), false);
    ctx.reply(embed).await?;
    Ok(())
}

/// Changes one entry of the guild's index.
async fn update_entry(
    ctx: &CommandContext<Backups>,
    change: impl FnOnce(&mut Entry) -> PluginResult<String>,
) -> PluginResult {
    let guild = guild_of(ctx)?;
    let mut entries = store::index(ctx.host(), guild).await?;
    let id = store::find(&entries, &ctx.arg::<String>("id")?)?.id.clone();
    let Some(entry) = entries.iter_mut().find(|e| e.id == id) else {
        return Err(PluginError::internal("the backup vanished"));
    };
    let answer = change(entry)?;
    store::write_index(ctx.host(), guild, &entries).await?;
    ctx.reply(answer).await?;
    Ok(())
}

async fn pin(ctx: CommandContext<Backups>) -> PluginResult {
    update_entry(&ctx, |entry| {
        entry.pinned = !entry.pinned;
        Ok(if entry.pinned {
            format!("📌 Backup `{}` is pinned: it is never deleted.", entry.id)
        } else {
            format!("Backup `{}` is no longer pinned.", entry.id)
        })
    })
    .await
}

async fn note(ctx: CommandContext<Backups>) -> PluginResult {
    let text: Option<String> = ctx
        .arg::<String>("note")
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    update_entry(&ctx, move |entry| {
        entry.note = text;
        Ok(match &entry.note {
            Some(_) => format!("Note saved on backup `{}`.", entry.id),
            None => format!("Note removed from backup `{}`.", entry.id),
        })
    })
    .await
}

async fn delete(ctx: CommandContext<Backups>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    let entries = store::index(ctx.host(), guild).await?;
    let entry = store::find(&entries, &ctx.arg::<String>("id")?)?;
    if entry.pinned {
        return Err(PluginError::user(format!(
            "backup `{}` is pinned; `backuppin {}` unpins it first",
            entry.id, entry.id
        )));
    }
    let confirm = ConfirmDelete {
        id: entry.id.clone(),
        user: ctx.author().id.0,
    }
    .button("Delete it")?
    .style(ButtonStyle::Danger);
    let message = Message::new()
        .embed(Embed::warning(
            &format!("Delete backup {}?", entry.id),
            &format!(
                "{} · <t:{}:f> · {}\nThis cannot be undone.",
                entry.label,
                entry.created_at,
                counts(entry)
            ),
        ))
        .button(confirm)
        .expire_components(Duration::from_secs(60));
    ctx.reply(message).await?;
    Ok(())
}

async fn confirm_delete(ctx: ComponentContext<Backups>, confirm: ConfirmDelete) -> PluginResult {
    if ctx.interaction().user.id.0 != confirm.user {
        ctx.reply(Message::text("Only the one who asked can confirm this.").ephemeral())
            .await?;
        return Ok(());
    }
    let Some(guild) = ctx.interaction().guild_id.map(|g| g.0) else {
        return Ok(());
    };
    let entries = store::index(&ctx, guild).await?;
    let answer = match entries.iter().find(|e| e.id == confirm.id) {
        None => format!("Backup `{}` is already gone.", confirm.id),
        Some(entry) if entry.pinned => format!("Backup `{}` was pinned meanwhile; kept.", entry.id),
        Some(entry) => {
            store::delete(&ctx, guild, &entry.id).await?;
            ctx.info(format!(
                "backup {} of guild {guild} deleted by {}",
                entry.id, confirm.user
            ));
            format!("🗑️ Backup `{}` deleted.", entry.id)
        }
    };
    ctx.update(Message::text(answer)).await
}

async fn export(ctx: CommandContext<Backups>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    let entries = store::index(ctx.host(), guild).await?;
    let entry = store::find(&entries, &ctx.arg::<String>("id")?)?.clone();
    // Checked before it leaves: a broken backup is not handed out as if it were good.
    store::load(ctx.host(), guild, &entry).await?;
    let raw = store::raw(ctx.host(), guild, &entry.id)
        .await?
        .ok_or_else(|| PluginError::user("its file is missing"))?;
    let bytes = serde_json::to_vec_pretty(&raw)?;
    let message = Message::text(format!(
        "Backup `{}` ({}), checksum `{}`.",
        entry.id,
        size(bytes.len() as u64),
        short(&entry.checksum)
    ))
    .file(format!("backup-{guild}-{}.json", entry.id), bytes);
    if let Err(limit) = message.check() {
        return Err(PluginError::user(format!(
            "backup `{}` is too large to send as a file: {limit}",
            entry.id
        )));
    }
    ctx.reply(message).await?;
    Ok(())
}

async fn stats(ctx: CommandContext<Backups>) -> PluginResult {
    let host = ctx.host();
    let (mut count, mut bytes, mut pinned, mut newest, mut servers, mut scheduled) =
        (0, 0, 0, 0, 0, 0);
    for guild in store::guilds(host).await? {
        let entries = store::index(host, guild).await?;
        if !entries.is_empty() {
            servers += 1;
        }
        count += entries.len();
        bytes += entries.iter().map(|e| e.bytes).sum::<u64>();
        pinned += entries.iter().filter(|e| e.pinned).count();
        newest = entries.iter().map(|e| e.created_at).fold(newest, u64::max);
        if store::schedule(host, guild).await?.every_hours.is_some() {
            scheduled += 1;
        }
    }
    let embed = Embed::info("Backups across every server", "")
        .field("Backups", count.to_string(), true)
        .field("Servers", servers.to_string(), true)
        .field("Size", size(bytes), true)
        .field("Pinned", pinned.to_string(), true)
        .field("Automatic in", format!("{scheduled} server(s)"), true)
        .field(
            "Newest",
            if newest == 0 {
                "—".to_owned()
            } else {
                format!("<t:{newest}:R>")
            },
            true,
        );
    ctx.reply(embed).await?;
    Ok(())
}

async fn schedule(ctx: CommandContext<Backups>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    let host = ctx.host();
    let mut current = store::schedule(host, guild).await?;
    let action: String = ctx.arg("action")?;
    let answer = match action.as_str() {
        "enable" => {
            let hours: i64 = ctx.arg("hours").map_err(|_| {
                PluginError::user("say how often: `backupschedule enable HOURS` (1-168)")
            })?;
            current.every_hours = Some(u32::try_from(hours).unwrap_or(24));
            current.keep = ctx
                .arg::<i64>("keep")
                .ok()
                .and_then(|k| u32::try_from(k).ok())
                .unwrap_or(if current.keep == 0 { 7 } else { current.keep });
            store::set_schedule(host, guild, &current).await?;
            format!(
                "⏰ Automatic backups every {} h; the newest {} are kept (pinned ones always).",
                hours, current.keep
            )
        }
        "disable" => {
            current.every_hours = None;
            store::set_schedule(host, guild, &current).await?;
            "Automatic backups are off; the ones taken stay.".to_owned()
        }
        _ => match current.every_hours {
            Some(hours) => format!(
                "Automatic backups every {hours} h, keeping {}; last {}.",
                current.keep,
                current
                    .last_run
                    .map_or_else(|| "never yet".to_owned(), |t| format!("<t:{t}:R>"))
            ),
            None => {
                "Automatic backups are off: `backupschedule enable HOURS` turns them on.".to_owned()
            }
        },
    };
    ctx.reply(answer).await?;
    Ok(())
}

/// Every hour: the automatic backups that are due, then retention.
async fn automatic(ctx: PluginContext<Backups>) -> PluginResult {
    let host = ctx.host();
    let now = unix_now(host);
    for guild in store::guilds(host).await? {
        let mut plan = store::schedule(host, guild).await?;
        let Some(hours) = plan.every_hours else {
            continue;
        };
        // A minute's slack: the hourly tick does not land on the exact second.
        let due = plan
            .last_run
            .is_none_or(|last| now + 60 >= last + u64::from(hours) * 3600);
        if !due {
            continue;
        }
        if let Err(error) = automatic_one(host, guild, &plan, now).await {
            ctx.warn(format!("automatic backup of guild {guild} failed: {error}"));
            continue;
        }
        plan.last_run = Some(now);
        store::set_schedule(host, guild, &plan).await?;
    }
    Ok(())
}

async fn automatic_one(host: &Host, guild: u64, plan: &store::Schedule, now: u64) -> PluginResult {
    let max = max_per_guild(host).await;
    // Room first: the oldest unpinned automatic backups past the ones kept go.
    let entries = store::index(host, guild).await?;
    let automatic: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.created_by.is_none() && !e.pinned)
        .collect();
    let keep = usize::try_from(plan.keep.max(1)).unwrap_or(1);
    let mut excess = (automatic.len() + 1).saturating_sub(keep);
    let full = (entries.len() as u64 + 1).saturating_sub(max);
    excess = excess.max(usize::try_from(full).unwrap_or(0));
    for old in automatic.iter().take(excess) {
        store::delete(host, guild, &old.id).await?;
    }
    if store::index(host, guild).await?.len() as u64 >= max {
        return Err(PluginError::user(format!(
            "the server has {max} backups that are not automatic or are pinned"
        )));
    }
    let snapshot = Snapshot::take(&host.guild(GuildId(guild)), now).await?;
    store::save(host, snapshot, "automatic".to_owned(), None).await?;
    Ok(())
}

zoryx_plugin_api::export_plugin!(Backups);
