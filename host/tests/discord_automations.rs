//! Server automations (the first-party `automations` plugin) through the simulator: `/hooks`
//! creates, lists, shows, toggles and deletes them (a form when settings are missing), the
//! welcome and goodbye templates act on joins and leaves with their conditions and cooldowns,
//! announcements run through the task scheduler, and a permission the bot lacks turns the one
//! automation off with an alert. The load test: 1,000 joins and 10,000 messages with the
//! filter and leveling on, nothing lost.

mod support;

use serde_json::{Value, json};
use tokio::sync::Mutex;
use zoryx_host::clock;
use zoryx_sim::SimEvent;

use support::bot::{TestBot, text_of};

const AUTOMATIONS: (&str, &str) = ("plugin-automations.so", "automations.so");
const SCHEDULER: (&str, &str) = ("plugin-scheduler.so", "scheduler.so");

/// 2026-11-30 00:00 UTC, a Monday.
const MONDAY: u64 = 1_795_996_800;

/// The clock is the process's: one test at a time moves it.
static CLOCK: Mutex<()> = Mutex::const_new(());

/// Waits for the bot's next message in `channel` whose text has `needle`; its body.
async fn posted(bot: &mut TestBot, channel: u64, needle: &str) -> Value {
    let what = format!("a message with `{needle}` in {channel}");
    match bot
        .wait_event(&what, |e| {
            matches!(e, SimEvent::BotMessage { channel_id, body, .. }
                if *channel_id == channel && text_of(body).contains(needle))
        })
        .await
    {
        SimEvent::BotMessage { body, .. } => body,
        _ => unreachable!("matched a message"),
    }
}

/// The bot's messages in `channel` whose text has `needle`.
fn count(bot: &TestBot, channel: u64, needle: &str) -> usize {
    bot.sim
        .messages(channel)
        .iter()
        .filter(|m| text_of(&m.payload).contains(needle))
        .count()
}

/// Calls of the automations plugin started so far.
fn calls(bot: &TestBot) -> u64 {
    let pool = bot.host.manager.dispatcher().shared().pool();
    pool.stats("automations").calls
}

/// Waits until the automations plugin has started `calls` calls and finished all it started:
/// the events sent before are dealt with (each read the clock when it came).
async fn settle(bot: &TestBot, calls: u64) {
    settle_within(bot, calls, support::bot::WAIT).await;
}

/// As [`settle`], waiting at most `wait`.
async fn settle_within(bot: &TestBot, calls: u64, wait: std::time::Duration) {
    let pool = bot.host.manager.dispatcher().shared().pool();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let now = pool.stats("automations");
        if now.calls >= calls && now.timed >= now.calls {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the plugin never dealt with the events: {now:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_are_created_listed_toggled_and_deleted_and_welcome_greets() {
    let mut bot = TestBot::start(&[AUTOMATIONS], "").await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let (guild, general) = (bot.guild(), bot.channel());
    let members = bot.sim.add_role(guild, "Members", 0).expect("role");

    let refused = bot.ask(guest, "!hooks list").await;
    assert_eq!(
        refused["embeds"][0]["title"], "Permission denied",
        "{refused}"
    );
    let templates = text_of(&bot.ask(owner, "!hooks templates").await);
    for name in [
        "welcome",
        "reaction_roles",
        "dynamic_voice",
        "voice_tracker",
        "tickets",
    ] {
        assert!(
            templates.contains(&format!("`{name}`")),
            "{name}: {templates}"
        );
    }
    let keys = text_of(&bot.ask(owner, "!hooks templates welcome").await);
    assert!(
        keys.contains("`channel` (needed)") && keys.contains("`dm`"),
        "{keys}"
    );

    // Mistakes are named, and nothing is kept.
    let typo = text_of(
        &bot.ask(owner, "!hooks create welcome greet chanel=#general")
            .await,
    );
    assert!(typo.contains("did you mean `channel`"), "{typo}");
    let missing = text_of(
        &bot.ask(owner, "!hooks create welcome greet role=@Members")
            .await,
    );
    assert!(missing.contains("`channel` is needed"), "{missing}");
    let nowhere = text_of(
        &bot.ask(owner, "!hooks create welcome greet channel=#nowhere")
            .await,
    );
    assert!(nowhere.contains("no channel `#nowhere`"), "{nowhere}");

    let created = bot
        .ask(
            owner,
            "!hooks create welcome greet channel=#general role=@Members \
             message=\"Hello {mention}, welcome to {server}!\" dm=\"Hi {user}, read the rules\"",
        )
        .await;
    let text = text_of(&created);
    assert!(text.contains("Automation created: greet"), "{text}");
    assert!(
        text.contains(&format!("<#{general}>")) && text.contains(&format!("<@&{members}>")),
        "{text}"
    );

    // A member joins: greeted with the filled-in message, given the role, sent the DM.
    let ada = bot.sim.add_user("ada");
    bot.sim.add_member(guild, ada.id).expect("join");
    let greeting = posted(&mut bot, general, &format!("Hello <@{}>", ada.id)).await;
    assert_eq!(greeting["embeds"][0]["title"], "Welcome!");
    let name = bot.sim.guild_name(guild).expect("name");
    assert!(
        text_of(&greeting).contains(&format!("welcome to {name}!")),
        "{greeting}"
    );
    let deadline = tokio::time::Instant::now() + support::bot::WAIT;
    loop {
        let member = bot.sim.member(guild, ada.id).expect("member");
        if member["roles"]
            .as_array()
            .is_some_and(|r| r.contains(&json!(members.to_string())))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no role given: {member}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    bot.wait_event("the DM", |e| {
        matches!(e, SimEvent::BotMessage { body, .. } if text_of(body).contains("Hi ada, read the rules"))
    })
    .await;

    settle(&bot, calls(&bot)).await;
    let list = text_of(&bot.ask(owner, "!hooks list").await);
    assert!(
        list.contains("#1 greet") && list.contains("runs 1"),
        "{list}"
    );
    let info = text_of(&bot.ask(owner, "!hooks info greet").await);
    assert!(
        info.contains("Welcome · 🟢 on") && info.contains("`role` = <@&"),
        "{info}"
    );
    let twice = text_of(
        &bot.ask(owner, "!hooks create goodbye greet channel=#general")
            .await,
    );
    assert!(twice.contains("named `greet` already"), "{twice}");

    // Off: a join is not greeted; on again: the next one is. (A goodbye automation's message
    // marks when the events before it have been looked at.)
    bot.ask(
        owner,
        "!hooks create goodbye bye channel=#general message=\"{user} left\"",
    )
    .await;
    let off = text_of(&bot.ask(owner, "!hooks toggle greet").await);
    assert!(off.contains("is off"), "{off}");
    let bob = bot.sim.add_user("bob");
    bot.sim.add_member(guild, bob.id).expect("join");
    bot.sim.remove_member(guild, ada.id).expect("leave");
    posted(&mut bot, general, "ada left").await;
    let on = text_of(&bot.ask(owner, "!hooks toggle #1").await);
    assert!(on.contains("is on"), "{on}");
    let cy = bot.sim.add_user("cy");
    bot.sim.add_member(guild, cy.id).expect("join");
    posted(&mut bot, general, &format!("Hello <@{}>", cy.id)).await;
    assert_eq!(count(&bot, general, &format!("Hello <@{}>", bob.id)), 0);

    let deleted = text_of(&bot.ask(owner, "!hooks delete greet").await);
    assert!(deleted.contains("deleted"), "{deleted}");
    bot.ask(owner, "!hooks delete bye").await;
    let none = text_of(&bot.ask(owner, "!hooks list").await);
    assert!(none.contains("No automations here yet"), "{none}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slash_create_without_settings_asks_with_a_form() {
    let mut bot = TestBot::start(&[AUTOMATIONS], "").await;
    let owner = bot.sim.owner().id;
    let options = json!([
        {"name": "template", "type": 3, "value": "goodbye"},
        {"name": "name", "type": 3, "value": "farewell"}
    ]);
    let asked = bot
        .sim
        .inject_slash(bot.guild(), bot.channel(), owner, "hooks create", options)
        .await
        .expect("slash");
    let (kind, modal) = bot.callback(asked).await;
    assert_eq!(kind, 9, "a form: {modal}");
    assert!(
        modal["custom_id"]
            .as_str()
            .is_some_and(|c| c.ends_with(":goodbye:farewell")),
        "{modal}"
    );
    let first = &modal["components"][0]["components"][0];
    assert_eq!(first["custom_id"], "channel", "{modal}");
    assert_eq!(first["required"], true);
    let submitted = bot
        .sim
        .inject_modal_submit(asked, &[("channel", "general"), ("message", "Bye {user}")])
        .await
        .expect("submit");
    let (_, answer) = bot.callback(submitted).await;
    assert!(
        text_of(&answer).contains("Automation created: farewell"),
        "{answer}"
    );
    let leaver = bot.sim.add_user("dee");
    bot.sim.add_member(bot.guild(), leaver.id).expect("join");
    bot.sim
        .remove_member(bot.guild(), leaver.id)
        .expect("leave");
    let channel = bot.channel();
    posted(&mut bot, channel, "Bye dee").await;
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goodbye_keeps_its_hours_and_its_cooldown() {
    let _clock = CLOCK.lock().await;
    clock::set_manual(MONDAY + 10 * 3600);
    let mut bot = TestBot::start(&[AUTOMATIONS], "").await;
    let owner = bot.sim.owner().id;
    let (guild, general) = (bot.guild(), bot.channel());
    let created = text_of(
        &bot.ask(
            owner,
            "!hooks create goodbye bye channel=#general message=\"{user} left\" cooldown=60 \
             hours=9-17 days=mon-fri",
        )
        .await,
    );
    assert!(created.contains("Automation created: bye"), "{created}");
    let leave = |bot: &TestBot, name: &str| {
        let user = bot.sim.add_user(name);
        bot.sim.add_member(guild, user.id).expect("join");
        bot.sim.remove_member(guild, user.id).expect("leave");
    };
    leave(&bot, "first");
    posted(&mut bot, general, "first left").await;
    clock::set_manual(MONDAY + 10 * 3600 + 30);
    let before = calls(&bot);
    leave(&bot, "second");
    settle(&bot, before + 2).await;
    clock::set_manual(MONDAY + 10 * 3600 + 120);
    leave(&bot, "third");
    posted(&mut bot, general, "third left").await;
    let seen: Vec<String> = bot
        .sim
        .messages(general)
        .iter()
        .map(|m| text_of(&m.payload))
        .collect();
    assert_eq!(
        count(&bot, general, "second left"),
        0,
        "inside the cooldown: {seen:#?}"
    );
    clock::set_manual(MONDAY + 18 * 3600);
    let before = calls(&bot);
    leave(&bot, "fourth");
    settle(&bot, before + 2).await;
    clock::set_manual(MONDAY + 5 * 86_400 + 10 * 3600);
    let before = calls(&bot);
    leave(&bot, "fifth");
    settle(&bot, before + 2).await;
    clock::set_manual(MONDAY + 7 * 86_400 + 10 * 3600);
    leave(&bot, "sixth");
    posted(&mut bot, general, "sixth left").await;
    assert_eq!(count(&bot, general, "fourth left"), 0, "after hours");
    assert_eq!(count(&bot, general, "fifth left"), 0, "on a Saturday");
    // Counted once the run is over.
    settle(&bot, calls(&bot)).await;
    let list = text_of(&bot.ask(owner, "!hooks list").await);
    assert!(
        list.contains("#1 bye") && list.contains("runs 3 ·"),
        "{list}"
    );
    bot.shutdown().await;
    clock::set_system();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announcements_run_through_the_scheduler() {
    let _clock = CLOCK.lock().await;
    clock::set_manual(MONDAY + 8 * 3600 + 59 * 60);
    let mut bot = TestBot::start(&[SCHEDULER, AUTOMATIONS], "").await;
    let owner = bot.sim.owner().id;
    let general = bot.channel();
    let created = text_of(
        &bot.ask(
            owner,
            "!hooks create announcements standup cron=\"0 9 * * 1-5\" channel=#general \
             message=\"Stand-up in 5 minutes\"",
        )
        .await,
    );
    assert!(
        created.contains("Scheduled as task `automation-1`"),
        "{created}"
    );
    clock::set_manual(MONDAY + 9 * 3600);
    posted(&mut bot, general, "Stand-up in 5 minutes").await;
    let tasks = text_of(&bot.ask(owner, "!schedule list").await);
    assert!(tasks.contains("automation-1"), "{tasks}");
    // Off: the task goes; deleting it afterwards is fine too.
    bot.ask(owner, "!hooks toggle standup").await;
    let tasks = text_of(&bot.ask(owner, "!schedule list").await);
    assert!(!tasks.contains("automation-1"), "{tasks}");
    let deleted = text_of(&bot.ask(owner, "!hooks delete standup").await);
    assert!(deleted.contains("deleted"), "{deleted}");
    // Without the scheduler loaded, creating one says so and keeps nothing.
    bot.shutdown().await;
    clock::set_system();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_permission_turns_the_automation_off_with_an_alert() {
    let mut bot = TestBot::start(&[AUTOMATIONS], "").await;
    let owner = bot.sim.owner().id;
    let guild = bot.guild();
    let alerts = bot.sim.add_channel(guild, "alerts").expect("channel");
    let members = bot.sim.add_role(guild, "Members", 0).expect("role");
    let set = text_of(&bot.ask(owner, &format!("!hooks alerts <#{alerts}>")).await);
    assert!(set.contains(&format!("<#{alerts}>")), "{set}");
    bot.ask(
        owner,
        &format!("!hooks create welcome greet channel=#general role=<@&{members}>"),
    )
    .await;
    // Announcements without the scheduler: refused, nothing kept.
    let refused = text_of(
        &bot.ask(
            owner,
            "!hooks create announcements news cron=\"0 9 * * *\" channel=#general message=hi",
        )
        .await,
    );
    assert!(refused.contains("could not be set up"), "{refused}");
    let list = text_of(&bot.ask(owner, "!hooks list").await);
    assert!(!list.contains("news"), "{list}");

    // The bot loses Manage Roles (and Administrator).
    let role = bot.sim.bot_role(guild).expect("the bot's role");
    let view_send_embed = (1 << 10) | (1 << 11) | (1 << 14);
    bot.sim
        .set_role_permissions(guild, role, view_send_embed)
        .expect("permissions");
    let eve = bot.sim.add_user("eve");
    bot.sim.add_member(guild, eve.id).expect("join");
    let alert = posted(&mut bot, alerts, "turned off").await;
    assert!(text_of(&alert).contains("Manage Roles"), "{alert}");
    let info = text_of(&bot.ask(owner, "!hooks info greet").await);
    assert!(
        info.contains("off: ") && info.contains("Manage Roles"),
        "{info}"
    );
    // Off means off: the next join is not even greeted, and no second alert comes.
    let fay = bot.sim.add_user("fay");
    bot.sim.add_member(guild, fay.id).expect("join");
    bot.ask(owner, "!hooks list").await;
    assert_eq!(count(&bot, alerts, "turned off"), 1);
    bot.shutdown().await;
}

/// The runs `!hooks list` shows for automation `name`.
fn runs_of(list: &str, name: &str) -> u64 {
    list.lines()
        .skip_while(|l| !l.ends_with(&format!(" {name}:")) && !l.contains(&format!(" {name}: ")))
        .find_map(|l| {
            let after = l.split("runs ").nth(1)?;
            after.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_joins_and_ten_thousand_messages_lose_nothing() {
    let mut bot = TestBot::start(&[AUTOMATIONS], "").await;
    let owner = bot.sim.owner().id;
    let (guild, general) = (bot.guild(), bot.channel());
    let chat = bot.sim.add_channel(guild, "chat").expect("channel");
    for line in [
        "!hooks create welcome hi channel=#general message=\"Hi {user}\"",
        "!hooks create filter clean words=badword action=delete only_channels=#chat",
        "!hooks create leveling xp xp_cooldown=0 only_channels=#chat",
    ] {
        let created = text_of(&bot.ask(owner, line).await);
        assert!(created.contains("Automation created"), "{created}");
    }
    let started = std::time::Instant::now();
    let before = calls(&bot);
    let mut users = Vec::new();
    for i in 0..1000 {
        let user = bot.sim.add_user(&format!("member{i}"));
        bot.sim.add_member(guild, user.id).expect("join");
        users.push(user.id);
    }
    for i in 0..10_000_usize {
        let author = users[i % 100];
        let text = if i % 10 == 0 {
            format!("message {i} with badword")
        } else {
            format!("message {i}")
        };
        bot.sim
            .inject_message(chat, author, &text)
            .await
            .expect("post");
    }
    // A burst far above a real server's: each message waits for the database behind the
    // ones before it.
    settle_within(&bot, before + 11_000, std::time::Duration::from_secs(300)).await;
    let took = started.elapsed();
    let list = text_of(&bot.ask(owner, "!hooks list").await);
    assert_eq!(runs_of(&list, "hi"), 1000, "{list}");
    assert_eq!(runs_of(&list, "clean"), 1000, "{list}");
    assert_eq!(runs_of(&list, "xp"), 10_000, "{list}");
    assert_eq!(count(&bot, general, "Hi member"), 1000);
    let left = bot.sim.messages(chat);
    assert!(left.iter().all(|m| !m.content.contains("badword")));
    assert_eq!(
        left.iter()
            .filter(|m| m.content.starts_with("message "))
            .count(),
        9000
    );
    eprintln!("1,000 joins and 10,000 messages dealt with in {took:?}");
    bot.shutdown().await;
}
