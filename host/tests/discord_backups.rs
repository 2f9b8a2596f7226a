//! Guild snapshots (the first-party `backups` plugin) through the simulator: taken from the
//! server as Discord shows it, checked by their full SHA-256 on every read (a changed file is
//! refused with the reason), compared with the live server, pinned, noted, exported as a file,
//! deleted after a confirmation, and taken automatically on a schedule with retention.

mod support;

use serde_json::Value;
use zoryx_host::clock;

use support::bot::{TestBot, text_of};

const BACKUPS: (&str, &str) = ("plugin-backups.so", "backups.so");

/// 2026-11-30 00:00 UTC.
const MONDAY: u64 = 1_795_996_800;

/// The backup id in a `backupcreate` answer (the first `code` span).
fn created_id(body: &Value) -> String {
    let text = text_of(body);
    let start = text.find('`').expect("an id") + 1;
    let end = start + text[start..].find('`').expect("closed");
    text[start..end].to_owned()
}

fn snapshot_file(bot: &TestBot, id: &str) -> std::path::PathBuf {
    bot.host
        .dir
        .path()
        .join(format!("data/plugins/backups/{}/{id}.json", bot.guild()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_are_checked_compared_pinned_exported_and_deleted() {
    let mut bot = TestBot::start(&[BACKUPS], "").await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let guild = bot.guild();

    // Members of a server without Administrator are refused.
    let refused = bot.ask(guest, "!backupcreate").await;
    assert_eq!(
        refused["embeds"][0]["title"], "Permission denied",
        "{refused}"
    );

    // The server: a role given to the guest, a category with a channel denying @everyone.
    let mods = bot.sim.add_role(guild, "Mods", 1 << 13).expect("role");
    bot.sim.add_member_role(guild, guest, mods).expect("grant");
    let created = bot.ask(owner, "!backupcreate before the clean-up").await;
    assert_eq!(created["embeds"][0]["title"], "Backup created", "{created}");
    let id = created_id(&created);
    assert_eq!(id.len(), 12, "{id}");
    let text = text_of(&created);
    assert!(text.contains("before the clean-up"), "{text}");
    // Every role (the simulator's server has @everyone, Admin, Mods and the bot's), every
    // channel, and the guest and the operator with their roles.
    let stored: Value =
        serde_json::from_slice(&std::fs::read(snapshot_file(&bot, &id)).expect("stored"))
            .expect("json");
    let roles: Vec<&str> = stored["snapshot"]["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(roles.contains(&"Mods"), "{roles:?}");
    let members = stored["snapshot"]["members"].as_array().expect("members");
    let guest_roles = members
        .iter()
        .find(|m| m["user"] == guest)
        .map(|m| m["roles"].clone())
        .expect("the guest's roles");
    assert_eq!(guest_roles, serde_json::json!([mods]));
    assert_eq!(stored["checksum"].as_str().map(str::len), Some(64));

    // Listed, shown, verified.
    let list = text_of(&bot.ask(owner, "!backuplist").await);
    assert!(list.contains(&id) && list.contains("1 backup(s)"), "{list}");
    let view = text_of(&bot.ask(owner, &format!("!backupview {}", &id[..6])).await);
    assert!(
        view.contains("@Mods") && view.contains(stored["checksum"].as_str().expect("sum")),
        "{view}"
    );
    let verified = bot.ask(owner, &format!("!backupverify {id}")).await;
    assert_eq!(
        verified["embeds"][0]["title"],
        format!("Backup {id} is intact"),
        "{verified}"
    );

    // The server changes; the comparison with it names what changed.
    bot.sim.remove_role(guild, mods).expect("remove role");
    bot.sim
        .add_channel(guild, "announcements")
        .expect("channel");
    let diff = text_of(&bot.ask(owner, &format!("!backupdiff {id}")).await);
    assert!(diff.contains("role @Mods"), "{diff}");
    assert!(diff.contains("channel #announcements"), "{diff}");
    assert!(diff.contains("member roles: 1 member(s) differ"), "{diff}");
    let second = created_id(&bot.ask(owner, "!backupcreate after").await);
    let between = text_of(&bot.ask(owner, &format!("!backupdiff {id} {second}")).await);
    assert!(between.contains("1 added, 1 removed"), "{between}");

    // A file changed while the bot was down is refused with the reason, by verify and by
    // every read.
    let path = snapshot_file(&bot, &second);
    let original = std::fs::read_to_string(&path).expect("read");
    let tampered_text = original.replacen("announcements", "announce", 1);
    assert_ne!(tampered_text, original);
    let mut bot = bot
        .restart_after(|| std::fs::write(&path, &tampered_text).expect("tamper"))
        .await;
    let tampered = bot.ask(owner, &format!("!backupverify {second}")).await;
    assert_eq!(
        tampered["embeds"][0]["title"],
        format!("Backup {second} failed"),
        "{tampered}"
    );
    assert!(
        text_of(&tampered).contains("checksum does not match"),
        "{tampered}"
    );
    let view = text_of(&bot.ask(owner, &format!("!backupview {second}")).await);
    assert!(view.contains("cannot be trusted"), "{view}");
    let mut bot = bot
        .restart_after(|| std::fs::write(&path, &original).expect("put the file back"))
        .await;
    let verified = bot.ask(owner, &format!("!backupverify {second}")).await;
    assert!(text_of(&verified).contains("is intact"), "{verified}");

    // Notes and pins; a pinned backup is not deleted.
    let noted = text_of(
        &bot.ask(owner, &format!("!backupnote {id} taken before the raid"))
            .await,
    );
    assert!(noted.contains("Note saved"), "{noted}");
    assert!(
        text_of(&bot.ask(owner, &format!("!backupview {id}")).await)
            .contains("taken before the raid")
    );
    assert!(text_of(&bot.ask(owner, &format!("!backuppin {id}")).await).contains("is pinned"));
    let kept = text_of(&bot.ask(owner, &format!("!backupdelete {id}")).await);
    assert!(kept.contains("is pinned"), "{kept}");

    // Export: the sealed snapshot as a JSON file.
    let exported = text_of(&bot.ask(owner, &format!("!backupexport {id}")).await);
    assert!(exported.contains(&format!("Backup `{id}`")), "{exported}");
    let file = format!("backup-{guild}-{id}.json");
    assert!(
        bot.sim.requests().iter().any(|r| r
            .files
            .iter()
            .any(|(_, name, size)| *name == file && *size > 100)),
        "no upload of {file}"
    );
    let stats = text_of(&bot.ask(owner, "!backupstats").await);
    assert!(stats.contains("Backups") && stats.contains('2'), "{stats}");

    // Delete asks first; its button passes the command's gate (a member without Administrator
    // is refused), and only the one who asked may confirm.
    let (_, message, body) = bot.asked(owner, &format!("!backupdelete {second}")).await;
    let custom_id = body["components"][0]["components"][0]["custom_id"]
        .as_str()
        .expect("button")
        .to_owned();
    let by_guest = bot
        .sim
        .inject_component(message, guest, &custom_id, vec![])
        .await;
    let (_, answer) = bot.callback(by_guest.expect("click")).await;
    assert_eq!(
        answer["embeds"][0]["title"], "Permission denied",
        "{answer}"
    );
    let click = bot
        .sim
        .inject_component(message, owner, &custom_id, vec![])
        .await
        .expect("click");
    let (kind, answer) = bot.callback(click).await;
    assert_eq!(kind, 7, "the question is replaced: {answer}");
    assert!(
        text_of(&answer).contains(&format!("Backup `{second}` deleted")),
        "{answer}"
    );
    assert!(!snapshot_file(&bot, &second).exists());
    let list = text_of(&bot.ask(owner, "!backuplist").await);
    assert!(list.contains("1 backup(s), 1 pinned"), "{list}");

    // The dashboard: an overview, and tabs that change the message in place.
    let (_, dashboard, body) = bot.asked(owner, "!backup").await;
    let overview = text_of(&body);
    assert!(overview.contains("1 of at most 25, 1 pinned"), "{overview}");
    let buttons: Vec<String> = body["components"][0]["components"]
        .as_array()
        .expect("buttons")
        .iter()
        .filter_map(|b| b["custom_id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(buttons.len(), 5, "{body}");
    let audit = buttons
        .iter()
        .find(|b| b.contains("audit"))
        .expect("an Audit tab");
    let click = bot
        .sim
        .inject_component(dashboard, owner, audit, vec![])
        .await
        .expect("click");
    let (kind, page) = bot.callback(click).await;
    assert_eq!(kind, 7);
    let log = text_of(&page);
    for action in [
        "**create**",
        "**pin**",
        "**note**",
        "**export**",
        "**delete**",
    ] {
        assert!(log.contains(action), "{action}: {log}");
    }
    let compare = buttons
        .iter()
        .find(|b| b.contains("compare"))
        .expect("a Compare tab");
    let click = bot
        .sim
        .inject_component(dashboard, owner, compare, vec![])
        .await
        .expect("click");
    let (_, page) = bot.callback(click).await;
    assert!(
        text_of(&page).contains(&format!("Since backup {id}")),
        "{page}"
    );
    // Another administrator may open their own dashboard, not press the buttons of this one.
    let admins = bot.sim.add_role(guild, "Admins", 1 << 3).expect("role");
    bot.sim
        .add_member_role(guild, guest, admins)
        .expect("grant");
    let click = bot
        .sim
        .inject_component(dashboard, guest, audit, vec![])
        .await
        .expect("click");
    let (_, refused) = bot.callback(click).await;
    assert!(
        text_of(&refused).contains("Only the requester can use this menu"),
        "{refused}"
    );
    assert_eq!(refused["flags"], 64, "privately: {refused}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_backups_run_on_their_schedule_and_keep_the_newest() {
    clock::set_manual(MONDAY + 30 * 60);
    let mut bot = TestBot::start(&[BACKUPS], "").await;
    let owner = bot.sim.owner().id;
    let pinned = created_id(&bot.ask(owner, "!backupcreate keep me").await);
    bot.ask(owner, &format!("!backuppin {pinned}")).await;
    let on = text_of(&bot.ask(owner, "!backupschedule enable 2 2").await);
    assert!(on.contains("every 2 h") && on.contains("newest 2"), "{on}");

    // The hourly check at 01:00 takes the first (none taken yet); 02:00 is too soon; 03:00,
    // 05:00 and 07:00 take more, and only the newest two automatic ones stay.
    let index = bot
        .host
        .dir
        .path()
        .join(format!("data/plugins/backups/{}/index.json", bot.guild()));
    let automatic = |path: &std::path::Path| -> Vec<u64> {
        let entries: Vec<Value> = std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        entries
            .iter()
            .filter(|e| e["created_by"].is_null())
            .filter_map(|e| e["created_at"].as_u64())
            .collect()
    };
    for (hour, expected) in [(1, 1), (3, 2), (5, 2), (7, 2)] {
        clock::set_manual(MONDAY + hour * 3600);
        let at = MONDAY + hour * 3600;
        let deadline = tokio::time::Instant::now() + support::bot::WAIT;
        while !automatic(&index).contains(&at) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no backup at {hour}:00"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(automatic(&index).len(), expected, "at {hour}:00");
    }
    let kept = automatic(&index);
    assert_eq!(kept, vec![MONDAY + 5 * 3600, MONDAY + 7 * 3600]);
    let list = text_of(&bot.ask(owner, "!backuplist").await);
    assert!(list.contains("3 backup(s), 1 pinned"), "{list}");
    let status = text_of(&bot.ask(owner, "!backupschedule status").await);
    assert!(status.contains("every 2 h"), "{status}");
    bot.shutdown().await;
    clock::set_system();
}

/// The exported file of backup `id`: what the bot uploaded with its `backupexport` reply.
async fn exported(bot: &mut TestBot, id: &str) -> Vec<u8> {
    let owner = bot.sim.owner().id;
    let (_, reply, body) = bot.asked(owner, &format!("!backupexport {id}")).await;
    assert!(text_of(&body).contains(&format!("Backup `{id}`")), "{body}");
    let files = bot.sim.attachments(reply);
    let data = files
        .first()
        .and_then(|f| f.data.clone())
        .expect("the export's bytes");
    data.to_vec()
}

/// Posts `!backupimport` with `file` attached in `channel` and waits for the answer.
async fn import(bot: &mut TestBot, channel: u64, name: &str, file: &[u8]) -> String {
    let owner = bot.sim.owner().id;
    let asked = bot
        .sim
        .inject_file_data(channel, owner, "!backupimport", &[(name, file)])
        .await
        .expect("post");
    text_of(&bot.reply_to(asked).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_is_imported_after_its_checks_even_into_another_server() {
    let mut bot = TestBot::start(&[BACKUPS], "").await;
    let owner = bot.sim.owner().id;
    let guild = bot.guild();
    bot.sim.add_role(guild, "Mods", 1 << 13).expect("role");
    bot.sim.add_emoji(guild, "party").expect("emoji");
    let id = created_id(&bot.ask(owner, "!backupcreate").await);
    let file = exported(&mut bot, &id).await;
    let here = bot.channel();

    // The same file again is recognised.
    let again = import(&mut bot, here, "backup.json", &file).await;
    assert!(
        again.contains(&format!("already here, as backup `{id}`")),
        "{again}"
    );

    // A changed byte, a file that is not a backup, a file too large: refused, nothing kept.
    let text = String::from_utf8(file.clone()).expect("utf8");
    assert!(text.contains("\"Mods\""));
    let tampered = text.replace("\"Mods\"", "\"Admins\"");
    let refused = import(&mut bot, here, "backup.json", tampered.as_bytes()).await;
    assert!(
        refused.contains("`backup.json` cannot be imported: its checksum does not match"),
        "{refused}"
    );
    let refused = import(&mut bot, here, "notes.txt", b"not a backup").await;
    assert!(refused.contains("does not read as a snapshot"), "{refused}");
    let big = vec![b' '; (8 << 20) + 1];
    let refused = import(&mut bot, here, "huge.json", &big).await;
    assert!(refused.contains("at most 8192 KiB"), "{refused}");
    let list = text_of(&bot.ask(owner, "!backuplist").await);
    assert!(list.contains("1 backup(s)"), "{list}");

    // Into a new server (the old one is gone): kept there, verified, and restored by name.
    let other = bot.sim.add_guild("Rebuilt");
    let general = bot.sim.channels(other)[0];
    let imported = import(&mut bot, general, "backup.json", &file).await;
    assert!(imported.contains("imported"), "{imported}");
    let start = imported.find("Backup ").expect("id") + "Backup ".len();
    let new_id = imported[start..start + 12].to_owned();
    let index: Vec<Value> = serde_json::from_slice(
        &std::fs::read(
            bot.host
                .dir
                .path()
                .join(format!("data/plugins/backups/{other}/index.json")),
        )
        .expect("the other server's index"),
    )
    .expect("json");
    assert_eq!(index.len(), 1);
    assert_eq!(
        index[0]["label"],
        format!("imported from {}", bot.sim.guild_name(guild).expect("name"))
    );
    let asked = bot
        .sim
        .inject_message(general, owner, &format!("!backupverify {new_id}"))
        .await
        .expect("post");
    let verified = text_of(&bot.reply_to(asked).await);
    assert!(verified.contains("is intact"), "{verified}");
    let asked = bot
        .sim
        .inject_message(
            general,
            owner,
            &format!("!backuprestore {new_id} roles emojis"),
        )
        .await
        .expect("post");
    let plan = bot.reply_to(asked).await;
    let text = text_of(&plan);
    assert!(
        text.contains("to create") && text.contains("Emojis"),
        "{text}"
    );
    let message = bot
        .sim
        .messages(general)
        .iter()
        .rev()
        .find(|m| m.reply_to == Some(asked))
        .map(|m| m.id)
        .expect("the plan's message");
    let confirm = plan["components"][0]["components"][0]["custom_id"]
        .as_str()
        .expect("the Restore button")
        .to_owned();
    let click = bot
        .sim
        .inject_component(message, owner, &confirm, vec![])
        .await
        .expect("click");
    bot.callback(click).await;
    let title = format!("Backup {new_id} restored");
    bot.wait_event(&title, |e| {
        matches!(e, zoryx_sim::SimEvent::MessageEdited { body, .. } if body["embeds"][0]["title"] == title.as_str())
    })
    .await;
    let names: Vec<Value> = bot
        .sim
        .roles(other)
        .iter()
        .map(|r| r["name"].clone())
        .collect();
    assert!(names.contains(&Value::from("Mods")), "{names:?}");
    let emojis: Vec<Value> = bot
        .sim
        .emojis(other)
        .iter()
        .map(|e| e["name"].clone())
        .collect();
    assert_eq!(emojis, vec![Value::from("party")]);
    bot.shutdown().await;
}
