//! `backups`: guild snapshots. `backupcreate` takes the server's settings, roles, channels and
//! categories with their permission overwrites, members' roles, emojis and the bot's own
//! settings for the server; every snapshot carries a full SHA-256 over its canonical encoding,
//! checked on every read. `backuplist`, `backupview`, `backupverify`, `backupdiff` (two
//! snapshots, or one and the live server), `backuppin`, `backupnote`, `backupdelete`,
//! `backupexport` (a JSON file), `backupimport` (one back, verified first), `backupstats` and
//! `backupschedule` (automatic backups every 1–168 h with retention) manage them;
//! `backuprestore` brings a backup back, resumably (see [`restore`]).

mod diff;
mod panel;
mod restore;
mod snapshot;
mod store;

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::{Attachment, Bucket, ButtonStyle, CustomId, Host, palette};

use snapshot::{Snapshot, short};
use store::Entry;

/// Backups per server unless `plugins.backups.max_per_guild` says otherwise (the seed's 25).
const MAX_PER_GUILD: u64 = 25;
/// Backups per page of `backuplist`.
const PAGE: usize = 10;
/// The longest note.
const NOTE: usize = 500;

/// The plugin: its backups are in its files; in memory only which restores are under way.
#[derive(Default)]
pub struct Backups {
    /// Servers with a restore to continue.
    pending: Mutex<HashSet<u64>>,
    /// Servers whose restore runs in a call right now.
    running: Mutex<HashSet<u64>>,
    /// Servers whose restore was cancelled.
    cancelled: Mutex<HashSet<u64>>,
}

impl Backups {
    fn set(set: &Mutex<HashSet<u64>>, guild: u64, on: bool) {
        if let Ok(mut set) = set.lock() {
            if on {
                set.insert(guild);
            } else {
                set.remove(&guild);
            }
        }
    }

    fn has(set: &Mutex<HashSet<u64>>, guild: u64) -> bool {
        set.lock().is_ok_and(|s| s.contains(&guild))
    }
}

/// The buttons of a restore: go ahead, or stop (short keys: a custom id holds 100 characters).
#[derive(Serialize, Deserialize)]
struct RestoreButton {
    /// `confirm` or `cancel`.
    action: String,
    id: String,
    /// The parts as [`restore::Parts::code`] writes them.
    #[serde(rename = "p")]
    parts: String,
    #[serde(rename = "u")]
    user: u64,
}

impl CustomId for RestoreButton {
    const PREFIX: &'static str = "backuprestore";
}

/// A tab of the `backup` dashboard, for whom.
#[derive(Serialize, Deserialize)]
struct Tab {
    tab: String,
    user: u64,
}

impl CustomId for Tab {
    const PREFIX: &'static str = "backup";
}

/// The dashboard's tabs: custom id name and label.
const TABS: [(&str, &str); 4] = [
    ("overview", "Overview"),
    ("backups", "Backups"),
    ("compare", "Compare"),
    ("audit", "Audit"),
];

/// How long one call works on a restore before leaving the rest to the next.
const SLICE: Duration = Duration::from_secs(2);
/// How long the confirming click works on it (its time limit is 30 s).
const IN_CLICK: Duration = Duration::from_secs(20);
/// How long one run of the background task works on it (its limit is 300 s).
const IN_TASK: Duration = Duration::from_secs(240);

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
                admin(
                    "backup",
                    "The backups dashboard: overview, backups, compare, audit",
                ),
                dashboard,
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
                admin(
                    "backupimport",
                    "Add a backup from an exported JSON file (checked before it is kept)",
                )
                .arg(Arg::attachment("file").description("A file `backupexport` made")),
                import,
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
            .command(
                admin(
                    "backuprestore",
                    "Restore a backup: the plan first, then a button",
                )
                .arg(id())
                .arg(
                    Arg::rest("parts")
                        .description(
                            "roles, channels, members, settings, emojis, or all (the default)",
                        )
                        .optional(),
                ),
                restore_plan,
            )
            .panel("backups", "Backups", panel::show)
            .on_click(confirm_delete)
            .on_click(switch_tab)
            .on_click(restore_click)
            .every("restore", Duration::from_secs(1), continue_restores)
            .cron("automatic", "0 * * * *", true, automatic);
    }

    async fn init(host: Host) -> PluginResult<Self> {
        // Restores the bot stopped in the middle of go on where they stopped.
        let plugin = Self::default();
        for guild in store::guilds(&host).await.unwrap_or_default() {
            if let Ok(Some(journal)) = restore::journal(&host, guild).await
                && journal.status == "running"
            {
                Self::set(&plugin.pending, guild, true);
            }
        }
        Ok(plugin)
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

/// `3 of at most 25, 1 pinned`: a server's backups against its most.
async fn tally(host: &Host, entries: &[Entry]) -> String {
    format!(
        "{} of at most {}, {} pinned",
        entries.len(),
        max_per_guild(host).await,
        entries.iter().filter(|e| e.pinned).count()
    )
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

/// Takes a backup of `guild` now for `by`, labelled `label` ("manual" when empty), within the
/// server's most; audited. The command and the dashboard panel both take them here.
async fn take_backup(
    host: &Host,
    guild: u64,
    label: Option<String>,
    by: u64,
) -> PluginResult<Entry> {
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
    let label = label
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "manual".to_owned());
    let entry = store::save(host, guild, snapshot, label, Some(by)).await?;
    store::audit(
        host,
        guild,
        Some(by),
        "create",
        format!("{} ({})", entry.id, entry.label),
    )
    .await;
    host.info(format!(
        "backup {} of guild {guild} created by {by} in {} ms",
        entry.id,
        started.elapsed().as_millis()
    ));
    Ok(entry)
}

/// Deletes backup `id` of `guild` for `by`, unless it is pinned; what happened, in words.
async fn delete_backup(host: &Host, guild: u64, id: &str, by: u64) -> PluginResult<String> {
    let entries = store::index(host, guild).await?;
    Ok(match entries.iter().find(|e| e.id == id) {
        None => format!("Backup `{id}` is already gone."),
        Some(entry) if entry.pinned => format!("Backup `{}` is pinned; kept.", entry.id),
        Some(entry) => {
            store::delete(host, guild, &entry.id).await?;
            store::audit(host, guild, Some(by), "delete", entry.id.clone()).await;
            host.info(format!(
                "backup {} of guild {guild} deleted by {by}",
                entry.id
            ));
            format!("🗑️ Backup `{}` deleted.", entry.id)
        }
    })
}

async fn create(ctx: CommandContext<Backups>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    let host = ctx.host();
    let started = std::time::Instant::now();
    let label = ctx.arg::<String>("label").ok();
    let entry = take_backup(host, guild, label, ctx.author().id.0).await?;
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
            entry.title(),
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
    let detail = format!(
        "{}{}",
        entry.id,
        if entry.pinned { " (pinned)" } else { "" }
    );
    store::write_index(ctx.host(), guild, &entries).await?;
    let action = ctx
        .invocation()
        .command
        .trim_start_matches("backup")
        .to_owned();
    store::audit(ctx.host(), guild, Some(ctx.author().id.0), &action, detail).await;
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

/// The server of a button press by `asker`, who alone may use the buttons they asked for;
/// anyone else is told so (privately) and gets `None`.
async fn asker_only(ctx: &ComponentContext<Backups>, asker: u64) -> PluginResult<Option<u64>> {
    if !ctx.only_for(asker).await? {
        return Ok(None);
    }
    Ok(ctx.interaction().guild_id.map(|g| g.0))
}

async fn confirm_delete(ctx: ComponentContext<Backups>, confirm: ConfirmDelete) -> PluginResult {
    let Some(guild) = asker_only(&ctx, confirm.user).await? else {
        return Ok(());
    };
    let answer = delete_backup(&ctx, guild, &confirm.id, confirm.user).await?;
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
    store::audit(
        ctx.host(),
        guild,
        Some(ctx.author().id.0),
        "export",
        entry.id,
    )
    .await;
    Ok(())
}

/// The largest export `backupimport` reads.
const MAX_IMPORT_BYTES: u64 = 8 << 20;

async fn import(ctx: CommandContext<Backups>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    let host = ctx.host();
    let file: Attachment = ctx.arg("file")?;
    let entries = store::index(host, guild).await?;
    let max = max_per_guild(host).await;
    if entries.len() as u64 >= max {
        return Err(PluginError::user(format!(
            "this server has {} backups, the most it may keep ({max}); delete one first",
            entries.len()
        )));
    }
    let bytes = host.download_attachment(&file, MAX_IMPORT_BYTES).await?;
    let snapshot = snapshot::unseal(&bytes).map_err(|why| {
        PluginError::user(format!("`{}` cannot be imported: {why}", file.filename))
    })?;
    let checksum = snapshot.checksum()?;
    if let Some(same) = entries.iter().find(|e| e.checksum == checksum) {
        return Err(PluginError::user(format!(
            "`{}` is already here, as backup `{}`",
            file.filename, same.id
        )));
    }
    let label = if snapshot.guild.id == guild {
        "imported".to_owned()
    } else {
        let name: String = snapshot.guild.name.chars().take(60).collect();
        format!("imported from {name}")
    };
    let entry = store::save(host, guild, snapshot, label, Some(ctx.author().id.0)).await?;
    store::audit(
        host,
        guild,
        Some(ctx.author().id.0),
        "import",
        format!("{} ({})", entry.id, file.filename),
    )
    .await;
    let embed = Embed::success(
        &format!("Backup {} imported", entry.id),
        &format!(
            "From `{}`, taken <t:{}:f>. Checksum verified: `{}`.\nRestore it with \
             `backuprestore {}`.",
            file.filename,
            entry.created_at,
            short(&entry.checksum),
            entry.id
        ),
    )
    .field("Holds", counts(&entry), false);
    ctx.reply(embed).await?;
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
    if action != "status" {
        store::audit(
            host,
            guild,
            Some(ctx.author().id.0),
            "schedule",
            answer.clone(),
        )
        .await;
    }
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
        store::audit(
            host,
            guild,
            None,
            "delete",
            format!("{} (retention)", old.id),
        )
        .await;
    }
    if store::index(host, guild).await?.len() as u64 >= max {
        return Err(PluginError::user(format!(
            "the server has {max} backups that are not automatic or are pinned"
        )));
    }
    let snapshot = Snapshot::take(&host.guild(GuildId(guild)), now).await?;
    let entry = store::save(host, guild, snapshot, "automatic".to_owned(), None).await?;
    store::audit(
        host,
        guild,
        None,
        "create",
        format!("{} (automatic)", entry.id),
    )
    .await;
    Ok(())
}

async fn restore_plan(ctx: CommandContext<Backups>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    let host = ctx.host();
    let entries = store::index(host, guild).await?;
    let entry = store::find(&entries, &ctx.arg::<String>("id")?)?.clone();
    let parts = restore::Parts::parse(&ctx.arg::<String>("parts").unwrap_or_default())?;
    if Backups::has(&ctx.data().running, guild) || Backups::has(&ctx.data().pending, guild) {
        return Err(PluginError::user(
            "a restore is under way in this server already",
        ));
    }
    let snapshot = store::load(host, guild, &entry).await?;
    let plan = restore::plan(&host.guild(GuildId(guild)), &snapshot, parts).await?;
    let mut embed = Embed::warning(
        &format!("Restore backup {}?", entry.id),
        &format!(
            "{} · <t:{}:f>\nRestoring: {}. Nothing has changed yet.",
            entry.label,
            entry.created_at,
            parts.describe()
        ),
    )
    .field(
        "Roles",
        format!(
            "{} to create, {} to update{}",
            plan.create_roles,
            plan.update_roles,
            if plan.positions {
                ", order restored"
            } else {
                ""
            }
        ),
        true,
    )
    .field(
        "Channels",
        format!(
            "{} to create, {} to update",
            plan.create_channels, plan.update_channels
        ),
        true,
    )
    .field(
        "Member roles",
        format!(
            "{} member(s) to give roles back to; {} no longer here",
            plan.members, plan.members_gone
        ),
        true,
    );
    if parts.settings {
        embed = embed.field(
            "Settings",
            if plan.settings.is_empty() {
                "as in the backup".to_owned()
            } else {
                format!("{} to update", plan.settings.join(" and "))
            },
            true,
        );
    }
    if parts.emojis {
        embed = embed.field("Emojis", format!("{} to create", plan.emojis), true);
    }
    if plan.managed > 0 {
        embed = embed.field(
            "Left alone",
            format!("{} role(s) managed by integrations", plan.managed),
            false,
        );
    }
    if plan.steps.is_empty() {
        ctx.reply(Embed::success(
            &format!("Backup {} matches the server", entry.id),
            "Nothing to restore.",
        ))
        .await?;
        return Ok(());
    }
    let button = |action: &str| RestoreButton {
        action: action.to_owned(),
        id: entry.id.clone(),
        parts: parts.code(),
        user: ctx.author().id.0,
    };
    let message = Message::new()
        .embed(embed.footer(format!("{} step(s)", plan.steps.len())))
        .button(
            button("confirm")
                .button("Restore")?
                .style(ButtonStyle::Danger),
        )
        .button(
            button("cancel")
                .button("Cancel")?
                .style(ButtonStyle::Secondary),
        )
        .expire_components(Duration::from_secs(120));
    ctx.reply(message).await?;
    Ok(())
}

/// The progress embed of a restore.
fn progress(journal: &restore::Journal, started: u64, now: u64) -> Embed {
    let total = journal.steps.len().max(1);
    let done = journal.next.min(total);
    let title = match journal.status.as_str() {
        "done" => format!("Backup {} restored", journal.backup),
        "cancelled" => format!("Restore of backup {} cancelled", journal.backup),
        _ => format!("Restoring backup {}…", journal.backup),
    };
    let elapsed = now.saturating_sub(started);
    let left = if done == 0 || journal.status != "running" {
        String::new()
    } else {
        let per = elapsed as f64 / done as f64;
        format!(", about {:.0} s left", per * (total - done) as f64)
    };
    let mut embed = Embed::new()
        .title(title)
        .colour(match journal.status.as_str() {
            "done" => palette::SUCCESS,
            "cancelled" => palette::WARNING,
            _ => palette::INFO,
        })
        .description(format!(
            "Step {done} of {total}{left}\n{} created, {} updated, {} skipped",
            journal.created,
            journal.updated,
            journal.skipped.len()
        ));
    if !journal.skipped.is_empty() {
        let mut text = String::new();
        for line in &journal.skipped {
            if text.len() + line.len() > 900 {
                text.push('…');
                break;
            }
            text.push_str(line);
            text.push('\n');
        }
        embed = embed.field("Skipped", text, false);
    }
    embed
}

async fn restore_click(ctx: ComponentContext<Backups>, click: RestoreButton) -> PluginResult {
    let Some(guild) = asker_only(&ctx, click.user).await? else {
        return Ok(());
    };
    let plugin = ctx.data();
    if click.action == "cancel" {
        if Backups::has(&plugin.running, guild) || Backups::has(&plugin.pending, guild) {
            Backups::set(&plugin.cancelled, guild, true);
            ctx.reply(Message::text("Stopping the restore after the current step.").ephemeral())
                .await?;
        } else {
            ctx.update(Message::text("Restore cancelled: nothing was changed."))
                .await?;
        }
        return Ok(());
    }
    if Backups::has(&plugin.running, guild) || Backups::has(&plugin.pending, guild) {
        ctx.reply(Message::text("A restore is under way in this server already.").ephemeral())
            .await?;
        return Ok(());
    }
    let host: &Host = &ctx;
    let entries = store::index(host, guild).await?;
    let entry = store::find(&entries, &click.id)?.clone();
    let parts = restore::Parts::from_code(&click.parts);
    let snapshot = store::load(host, guild, &entry).await?;
    let plan = restore::plan(&host.guild(GuildId(guild)), &snapshot, parts).await?;
    let now = unix_now(host);
    let mut journal = restore::Journal {
        backup: entry.id.clone(),
        steps: plan.steps,
        status: "running".to_owned(),
        started_at: now,
        user: click.user,
        ..restore::Journal::default()
    };
    restore::map_existing(&host.guild(GuildId(guild)), &snapshot, &mut journal).await?;
    restore::save_journal(host, guild, &journal).await?;
    store::audit(
        host,
        guild,
        Some(click.user),
        "restore",
        format!(
            "{} started: {}, {} steps",
            entry.id,
            parts.describe(),
            journal.steps.len()
        ),
    )
    .await;
    ctx.info(format!(
        "restore of backup {} in guild {guild} started by {} ({} steps)",
        entry.id,
        click.user,
        journal.steps.len()
    ));
    let cancel = RestoreButton {
        action: "cancel".to_owned(),
        ..click
    }
    .button("Cancel")?
    .style(ButtonStyle::Secondary);
    ctx.update(
        Message::new()
            .embed(Embed::info(
                &format!("Restoring backup {}", entry.id),
                "Started: the progress is below.",
            ))
            .disable_components(),
    )
    .await?;
    // The progress message, edited in place until the end (also by the background task, after
    // this click's call is over).
    let channel = ctx.interaction().channel_id;
    let message = host
        .send(
            channel,
            Message::new()
                .embed(progress(&journal, now, now))
                .button(cancel),
        )
        .await?;
    journal.progress = Some((channel.0, message.0));
    Backups::set(&plugin.pending, guild, true);
    work_on(plugin, host, guild, &snapshot, journal, IN_CLICK).await
}

/// Works on `guild`'s restore for up to `budget`, updating its progress message between slices.
async fn work_on(
    plugin: &Backups,
    host: &Host,
    guild: u64,
    snapshot: &snapshot::Snapshot,
    mut journal: restore::Journal,
    budget: Duration,
) -> PluginResult {
    {
        let Ok(mut running) = plugin.running.lock() else {
            return Ok(());
        };
        if !running.insert(guild) {
            return Ok(());
        }
    }
    let started = std::time::Instant::now();
    let result = async {
        loop {
            let cancelled = || Backups::has(&plugin.cancelled, guild);
            if let Err(error) =
                restore::run(host, guild, snapshot, &mut journal, SLICE, &cancelled).await
            {
                // A passing error (a rate limit past the host's retries): the next run goes on
                // from the same step.
                host.warn(format!(
                    "restore of backup {}: {error}; trying again",
                    journal.backup
                ));
                break;
            }
            if journal.status != "running" {
                // Over before anyone reads the message that says so: a new restore may start.
                Backups::set(&plugin.pending, guild, false);
                Backups::set(&plugin.cancelled, guild, false);
                Backups::set(&plugin.running, guild, false);
            }
            if let Some((channel, message)) = journal.progress {
                let embed = progress(&journal, journal.started_at, unix_now(host));
                let mut edit = Message::new().embed(embed);
                if journal.status != "running" {
                    edit = edit.disable_components();
                }
                if let Err(error) = host
                    .edit_message(ChannelId(channel), MessageId(message), edit)
                    .await
                {
                    host.warn(format!("the restore's progress message: {error}"));
                }
            }
            if journal.status != "running" || started.elapsed() >= budget {
                break;
            }
        }
        Ok::<(), PluginError>(())
    }
    .await;
    if journal.status != "running" {
        store::audit(
            host,
            guild,
            Some(journal.user),
            "restore",
            format!(
                "{} {}: {} created, {} updated, {} skipped",
                journal.backup,
                journal.status,
                journal.created,
                journal.updated,
                journal.skipped.len()
            ),
        )
        .await;
        host.info(format!(
            "restore of backup {} in guild {guild} {}: {} created, {} updated, {} skipped",
            journal.backup,
            journal.status,
            journal.created,
            journal.updated,
            journal.skipped.len()
        ));
    }
    Backups::set(&plugin.running, guild, false);
    result
}

/// Every second: the restores still under way (one the bot stopped in the middle of, or one too
/// long for the click that started it).
async fn continue_restores(ctx: PluginContext<Backups>) -> PluginResult {
    let plugin = ctx.data();
    let pending: Vec<u64> = plugin
        .pending
        .lock()
        .map(|p| p.iter().copied().collect())
        .unwrap_or_default();
    for guild in pending {
        if Backups::has(&plugin.running, guild) {
            continue;
        }
        let host: &Host = &ctx;
        let Some(journal) = restore::journal(host, guild).await? else {
            Backups::set(&plugin.pending, guild, false);
            continue;
        };
        if journal.status != "running" {
            Backups::set(&plugin.pending, guild, false);
            continue;
        }
        let entries = store::index(host, guild).await?;
        let snapshot = match entries.iter().find(|e| e.id == journal.backup) {
            Some(entry) => store::load(host, guild, entry).await?,
            None => {
                let mut journal = journal;
                journal.status = "cancelled".to_owned();
                journal.skipped.push("the backup was deleted".to_owned());
                restore::save_journal(host, guild, &journal).await?;
                Backups::set(&plugin.pending, guild, false);
                continue;
            }
        };
        work_on(plugin, host, guild, &snapshot, journal, IN_TASK).await?;
    }
    Ok(())
}

/// The dashboard on `tab`, with its buttons (the current tab highlighted, Refresh).
async fn dashboard_page(host: &Host, guild: u64, tab: &str, user: u64) -> PluginResult<Message> {
    let entries = store::index(host, guild).await?;
    let mut embed = match tab {
        "backups" => {
            let mut embed = Embed::new().title("Backups").colour(palette::INFO);
            if entries.is_empty() {
                embed = embed.description("None yet: `backupcreate` takes one.");
            }
            for entry in entries.iter().rev().take(PAGE) {
                embed = embed.field(
                    entry.title(),
                    format!(
                        "<t:{}:R> · {} · {}",
                        entry.created_at,
                        size(entry.bytes),
                        counts(entry)
                    ),
                    false,
                );
            }
            embed
        }
        "compare" => match entries.last() {
            None => Embed::info("Compare", "No backup to compare with yet."),
            Some(newest) => {
                let old = store::load(host, guild, newest).await?;
                let now = Snapshot::take(&host.guild(GuildId(guild)), unix_now(host)).await?;
                let changes = diff::diff(&old, &now);
                let mut lines: Vec<String> = changes
                    .added
                    .iter()
                    .map(|l| format!("➕ {l}"))
                    .chain(changes.removed.iter().map(|l| format!("➖ {l}")))
                    .chain(changes.changed.iter().map(|l| format!("✏️ {l}")))
                    .collect();
                let more = lines.len().saturating_sub(15);
                lines.truncate(15);
                if more > 0 {
                    lines.push(format!("… and {more} more (`backupdiff {}`)", newest.id));
                }
                Embed::info(
                    &format!("Since backup {} (<t:{}:R>)", newest.id, newest.created_at),
                    &if changes.is_empty() {
                        "The server matches it.".to_owned()
                    } else {
                        lines.join("\n")
                    },
                )
            }
        },
        "audit" => {
            let log = store::audit_log(host, guild).await?;
            let lines: Vec<String> = log
                .iter()
                .rev()
                .take(15)
                .map(|a| {
                    format!(
                        "<t:{}:R> {} **{}** {}",
                        a.at,
                        a.user
                            .map_or_else(|| "schedule".to_owned(), |u| format!("<@{u}>")),
                        a.action,
                        a.detail
                    )
                })
                .collect();
            Embed::info(
                "Audit",
                &if lines.is_empty() {
                    "Nothing yet.".to_owned()
                } else {
                    lines.join("\n")
                },
            )
        }
        _ => {
            let plan = store::schedule(host, guild).await?;
            let restoring = match restore::journal(host, guild).await? {
                Some(j) if j.status == "running" => {
                    format!("backup {}: step {} of {}", j.backup, j.next, j.steps.len())
                }
                Some(j) => format!(
                    "last: backup {} {} <t:{}:R>",
                    j.backup, j.status, j.started_at
                ),
                None => "none yet".to_owned(),
            };
            let newest = entries.last().map_or_else(
                || "none yet".to_owned(),
                |e| format!("{} · {} · <t:{}:R>", e.id, e.label, e.created_at),
            );
            Embed::info("Backups of this server", "")
                .field("Backups", tally(host, &entries).await, true)
                .field("Size", size(entries.iter().map(|e| e.bytes).sum()), true)
                .field("Newest", newest, false)
                .field(
                    "Automatic",
                    plan.every_hours.map_or_else(
                        || "off".to_owned(),
                        |h| format!("every {h} h, keeping {}", plan.keep),
                    ),
                    true,
                )
                .field("Restore", restoring, true)
        }
    };
    embed = embed.footer("Backups dashboard · only you can use these buttons");
    let mut message = Message::new().embed(embed);
    for (name, label) in TABS {
        let style = if name == tab {
            ButtonStyle::Primary
        } else {
            ButtonStyle::Secondary
        };
        let button = Tab {
            tab: name.to_owned(),
            user,
        }
        .button(label)?
        .style(style);
        message = message.button(button);
    }
    let refresh = Tab {
        tab: format!("{tab}!"),
        user,
    }
    .button("Refresh")?
    .style(ButtonStyle::Success);
    Ok(message
        .button(refresh)
        .expire_components(Duration::from_secs(180)))
}

async fn dashboard(ctx: CommandContext<Backups>) -> PluginResult {
    let guild = guild_of(&ctx)?;
    let page = dashboard_page(ctx.host(), guild, "overview", ctx.author().id.0).await?;
    ctx.reply(page).await?;
    Ok(())
}

async fn switch_tab(ctx: ComponentContext<Backups>, tab: Tab) -> PluginResult {
    let Some(guild) = asker_only(&ctx, tab.user).await? else {
        return Ok(());
    };
    let name = tab.tab.trim_end_matches('!');
    let page = dashboard_page(&ctx, guild, name, tab.user).await?;
    ctx.update(page).await
}

zoryx_plugin_api::export_plugin!(Backups);
