//! The backups page of the host's web dashboard: a server's backups (the bot's servers as tabs),
//! its schedule, and take / pin / note / verify / delete, as the commands do them.

use zoryx_plugin_api::panel::{
    Block, Field, Form, Panel, PanelAction, PanelButton, PanelContext, TableRow, server_tabs, time,
};
use zoryx_plugin_api::{Host, PluginError, PluginResult};

use crate::store::{self, Entry};
use crate::{Backups, counts, delete_backup, size, take_backup, tally};

/// The page: the chosen server's backups, after the action taken, if any.
pub(crate) async fn show(ctx: PanelContext<Backups>) -> PluginResult<Panel> {
    let host: &Host = &ctx;
    let mut panel = Panel::new("Server backups");
    let kept = store::guilds(host).await.unwrap_or_default();
    let Some((chosen, tabs)) = server_tabs(host, ctx.request(), &kept).await? else {
        panel.push(Block::text(
            "The bot is in no server yet, and no backups are kept.",
        ));
        return Ok(panel);
    };
    panel.push(tabs);
    if let Some(action) = ctx.action() {
        let (ok, text) = match act(host, chosen, ctx.request().user_id, action).await {
            Ok(text) => (true, text),
            Err(PluginError::User(why)) => (false, why),
            Err(other) => (false, other.to_string()),
        };
        panel.push(Block::notice(ok, text));
    }
    let mut entries = store::index(host, chosen).await?;
    entries.reverse();
    let schedule = store::schedule(host, chosen).await.unwrap_or_default();
    panel.push(Block::fields([
        ("Backups", tally(host, &entries).await),
        ("Size", size(entries.iter().map(|e| e.bytes).sum())),
        (
            "Newest",
            entries
                .first()
                .map_or_else(|| "none".to_owned(), |e| time(e.created_at)),
        ),
        (
            "Automatic",
            schedule.every_hours.map_or_else(
                || "off (`backupschedule enable HOURS` turns it on)".to_owned(),
                |h| format!("every {h} h, keeping the newest {}", schedule.keep),
            ),
        ),
    ]));
    if ctx.can_act() {
        panel.push(
            Form::new("create", "Take a backup now")
                .field(
                    Field::text("label", "Label")
                        .max_length(100)
                        .help("Optional; \"manual\" when empty."),
                )
                .into(),
        );
    }
    let rows = entries.iter().map(row).collect();
    panel.push(Block::table(
        ["Backup", "Label", "Taken", "By", "Size", "Contents", "Note"],
        rows,
        "No backups of this server yet.",
    ));
    panel.push(Block::text(
        "Restores run from Discord (`backuprestore ID`): they show the plan first and report \
         their progress in the channel.",
    ));
    Ok(panel)
}

fn row(entry: &Entry) -> TableRow {
    TableRow::new([
        format!("{}{}", if entry.pinned { "📌 " } else { "" }, entry.id),
        entry.label.clone(),
        time(entry.created_at),
        entry
            .created_by
            .map_or_else(|| "the schedule".to_owned(), |u| u.to_string()),
        size(entry.bytes),
        counts(entry),
        entry.note.clone().unwrap_or_default(),
    ])
    .button(PanelButton::new("Verify", "verify").value("id", &entry.id))
    .button(
        PanelButton::new(if entry.pinned { "Unpin" } else { "Pin" }, "pin").value("id", &entry.id),
    )
    .button(
        PanelButton::new("Delete", "delete")
            .value("id", &entry.id)
            .confirm(format!(
                "Delete backup {}? This cannot be undone.",
                entry.id
            ))
            .danger(),
    )
}

/// Does `action` on `guild`'s backups for `user`; what happened.
async fn act(host: &Host, guild: u64, user: u64, action: &PanelAction) -> PluginResult<String> {
    let id = || {
        action
            .value("id")
            .ok_or_else(|| PluginError::user("which backup?"))
    };
    match action.name.as_str() {
        "create" => {
            let entry =
                take_backup(host, guild, action.value("label").map(str::to_owned), user).await?;
            Ok(format!(
                "Backup {} taken: {} ({}).",
                entry.id,
                counts(&entry),
                size(entry.bytes)
            ))
        }
        "delete" => delete_backup(host, guild, id()?, user).await,
        "pin" => {
            let mut entries = store::index(host, guild).await?;
            let key = store::find(&entries, id()?)?.id.clone();
            let Some(entry) = entries.iter_mut().find(|e| e.id == key) else {
                return Err(PluginError::user("the backup vanished"));
            };
            entry.pinned = !entry.pinned;
            let answer = if entry.pinned {
                format!("Backup {key} is pinned: it is never deleted.")
            } else {
                format!("Backup {key} is no longer pinned.")
            };
            let detail = format!("{key}{}", if entry.pinned { " (pinned)" } else { "" });
            store::write_index(host, guild, &entries).await?;
            store::audit(host, guild, Some(user), "pin", detail).await;
            Ok(answer)
        }
        "verify" => {
            let entries = store::index(host, guild).await?;
            let entry = store::find(&entries, id()?)?;
            let snapshot = store::load(host, guild, entry).await?;
            Ok(format!(
                "Backup {} is intact: its SHA-256 matches and its structure holds together \
                 ({} roles, {} channels, {} members).",
                entry.id,
                snapshot.roles.len(),
                snapshot.channels.len(),
                snapshot.members.len()
            ))
        }
        other => Err(PluginError::user(format!("no action `{other}` here"))),
    }
}
