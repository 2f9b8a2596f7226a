//! The task scheduler (the first-party `scheduler` plugin) through the simulator, on a clock the
//! tests move by hand: tasks run at their minute, after a restart missed runs follow each task's
//! policy, plugins schedule through the API, and mistakes are refused with a reason.

mod support;

use serde_json::{Value, json};
use tokio::sync::Mutex;
use zoryx_host::clock;
use zoryx_sim::SimEvent;

use support::bot::{TestBot, text_of};

const SCHEDULER: (&str, &str) = ("plugin-scheduler.so", "scheduler.so");
const BASIC: (&str, &str) = ("basic-v1.so", "basic.so");

/// 2026-11-30 00:00 UTC, a Monday.
const MONDAY: u64 = 1_795_996_800;

/// The clock is the process's: one test at a time moves it.
static CLOCK: Mutex<()> = Mutex::const_new(());

/// Monday at `h:m:s` UTC.
fn monday(h: u64, m: u64, s: u64) -> u64 {
    MONDAY + h * 3600 + m * 60 + s
}

fn text(name: &str, value: &str) -> Value {
    json!({"name": name, "type": 3, "value": value})
}

/// Runs `/schedule …` as `user`; the interaction's answer.
async fn slash(bot: &mut TestBot, user: u64, path: &str, options: Value) -> Value {
    let id = bot
        .sim
        .inject_slash(bot.guild(), bot.channel(), user, path, options)
        .await
        .expect("slash");
    let (kind, body) = bot.callback(id).await;
    assert_eq!(kind, 4, "{body}");
    body
}

/// Creates a message task posting `content` here on `cron`.
async fn create_message(bot: &mut TestBot, name: &str, cron: &str, content: &str, more: &[Value]) {
    let owner = bot.sim.owner().id;
    let mut options = vec![
        text("name", name),
        text("cron", cron),
        text("type", "message"),
        text("content", content),
        json!({"name": "channel", "type": 7, "value": bot.channel().to_string()}),
    ];
    options.extend_from_slice(more);
    let body = slash(bot, owner, "schedule create", Value::Array(options)).await;
    assert_eq!(
        body["embeds"][0]["title"],
        format!("Scheduled task created: {name}"),
        "{body}"
    );
    assert_eq!(body["flags"], 64, "ephemeral: {body}");
}

/// Waits for the bot to post `content` in the test channel.
async fn posted(bot: &mut TestBot, content: &str) {
    let channel = bot.channel();
    bot.wait_event(&format!("the post `{content}`"), |e| {
        matches!(e, SimEvent::BotMessage { channel_id, body, .. }
            if *channel_id == channel && body["content"] == content)
    })
    .await;
}

/// How many times the bot posted `content` in the test channel.
fn count(bot: &TestBot, content: &str) -> usize {
    bot.sim
        .messages(bot.channel())
        .iter()
        .filter(|m| m.content == content)
        .count()
}

/// The value of the field `name` of an answer's first embed.
fn field(body: &Value, name: &str) -> String {
    body["embeds"][0]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["name"] == name)
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("no field {name}: {body}"))
        .to_owned()
}

async fn info(bot: &mut TestBot, task: &str) -> Value {
    let owner = bot.sim.owner().id;
    slash(bot, owner, "schedule info", json!([text("task", task)])).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_run_at_their_minute_and_missed_runs_follow_their_policy_after_a_restart() {
    let _clock = CLOCK.lock().await;
    clock::set_manual(monday(12, 0, 30));
    let mut bot = TestBot::start(&[SCHEDULER], "").await;
    bot.wait_registered("schedule").await;

    // Created in this order, they run in this order within a minute.
    create_message(&mut bot, "news", "*/5 * * * *", "news at five", &[]).await;
    let skip = text("missed", "skip");
    create_message(
        &mut bot,
        "skipper",
        "*/5 * * * *",
        "skippable news",
        &[skip],
    )
    .await;
    create_message(&mut bot, "beat", "* * * * *", "beat", &[]).await;
    let news = info(&mut bot, "news").await;
    assert_eq!(field(&news, "Schedule"), "every 5 minutes");
    let five = monday(12, 5, 0);
    assert_eq!(
        field(&news, "Next run"),
        format!("<t:{five}:f> (<t:{five}:R>)")
    );

    // 12:04: the beat (due since 12:01) runs once; the five-minute tasks are not due. They
    // come before it, so had they run, they would have been posted first.
    clock::set_manual(monday(12, 4, 0));
    posted(&mut bot, "beat").await;
    assert_eq!(count(&bot, "news at five"), 0);
    assert_eq!(count(&bot, "skippable news"), 0);

    // 12:05: all three, at their minute.
    clock::set_manual(five);
    posted(&mut bot, "news at five").await;
    posted(&mut bot, "skippable news").await;
    posted(&mut bot, "beat").await;
    let news = info(&mut bot, "news").await;
    assert_eq!(field(&news, "Runs"), "1");
    assert_eq!(
        field(&news, "Last run"),
        format!("<t:{five}:f> (<t:{five}:R>)")
    );
    let ten = monday(12, 10, 0);
    assert_eq!(
        field(&news, "Next run"),
        format!("<t:{ten}:f> (<t:{ten}:R>)")
    );

    // Down from 12:05 to 12:31: five runs of each five-minute task are missed (12:10 …
    // 12:30). `news` runs once when the bot is back; `skipper` skips them.
    let mut bot = bot
        .restart_after(|| clock::set_manual(monday(12, 31, 0)))
        .await;
    posted(&mut bot, "news at five").await;
    posted(&mut bot, "beat").await;
    assert_eq!(count(&bot, "news at five"), 2);
    assert_eq!(
        count(&bot, "skippable news"),
        1,
        "skipped after the restart"
    );
    let news = info(&mut bot, "news").await;
    assert_eq!(field(&news, "Runs"), "2");
    assert_eq!(field(&news, "Missed runs"), "4 (run once when back)");
    let next = monday(12, 35, 0);
    assert_eq!(
        field(&news, "Next run"),
        format!("<t:{next}:f> (<t:{next}:R>)")
    );
    let skipper = info(&mut bot, "skipper").await;
    assert_eq!(field(&skipper, "Runs"), "1");
    assert_eq!(field(&skipper, "Missed runs"), "5 (skipped)");

    // Stored in the guild's database, where the restarted bot found them.
    let db = bot
        .host
        .dir
        .path()
        .join(format!("data/{}/guild.db", bot.guild()));
    assert!(db.exists(), "{}", db.display());
    bot.shutdown().await;
    clock::set_system();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_only_mistakes_refused_zones_and_plugins_through_the_api() {
    let _clock = CLOCK.lock().await;
    clock::set_manual(monday(12, 0, 30));
    let mut bot = TestBot::start(&[SCHEDULER, BASIC], "").await;
    bot.wait_registered("schedule").await;
    let owner = bot.sim.owner().id;

    // A member who may manage the server, but owns neither it nor the bot.
    let guest = bot.sim.guest().id;
    let managers = bot
        .sim
        .add_role(bot.guild(), "Managers", 1 << 5)
        .expect("role");
    bot.sim
        .add_member_role(bot.guild(), guest, managers)
        .expect("grant");
    let refused = slash(&mut bot, guest, "schedule list", Value::Null).await;
    assert!(
        text_of(&refused).contains("only a bot owner or this server's owner"),
        "{refused}"
    );

    // Mistakes, each with its reason.
    let cases = [
        ("61 * * * *", None, "minute: `61` is outside 0-59"),
        ("0 9 * *", None, "has 4 fields"),
        ("0 0 30 2 *", None, "never runs"),
        ("0 9 * * *", Some("Mars/Olympus"), "not a time zone"),
    ];
    for (cron, zone, reason) in cases {
        let mut options = vec![
            text("name", "bad"),
            text("cron", cron),
            text("type", "log"),
            text("content", "x"),
        ];
        if let Some(zone) = zone {
            options.push(text("timezone", zone));
        }
        let body = slash(&mut bot, owner, "schedule create", Value::Array(options)).await;
        assert!(text_of(&body).contains(reason), "{cron}: {body}");
    }
    let body = slash(
        &mut bot,
        owner,
        "schedule create",
        json!([
            text("name", "lost"),
            text("cron", "0 9 * * *"),
            text("type", "message"),
            text("content", "where?")
        ]),
    )
    .await;
    assert!(text_of(&body).contains("needs a channel"), "{body}");

    // The prefix form: the zone before the expression, the channel before the text.
    let line = format!(
        "!schedule create standup \"TZ=Europe/Berlin 0 9 * * mon-fri\" message <#{}> Stand-up!",
        bot.channel()
    );
    let created = bot.ask(owner, &line).await;
    assert!(
        text_of(&created).contains("Scheduled task created: standup"),
        "{created}"
    );
    let standup = info(&mut bot, "standup").await;
    assert_eq!(field(&standup, "Time zone"), "Europe/Berlin");
    assert_eq!(
        field(&standup, "Schedule"),
        "At 09:00, on Monday, Tuesday, Wednesday, Thursday, and Friday. (Europe/Berlin)"
    );
    // Tuesday 09:00 in Berlin is 08:00 UTC.
    let tuesday = MONDAY + 86_400 + 8 * 3600;
    assert_eq!(
        field(&standup, "Next run"),
        format!("<t:{tuesday}:f> (<t:{tuesday}:R>)")
    );

    // Autocomplete: task names, time zones.
    let id = bot
        .sim
        .inject_autocomplete(
            bot.guild(),
            bot.channel(),
            owner,
            "schedule info",
            ("task", "STAND"),
            Value::Null,
        )
        .await
        .expect("autocomplete");
    let (kind, body) = bot.callback(id).await;
    assert_eq!(kind, 8);
    assert_eq!(body["choices"][0]["value"], "standup", "{body}");
    let id = bot
        .sim
        .inject_autocomplete(
            bot.guild(),
            bot.channel(),
            owner,
            "schedule create",
            ("timezone", "berl"),
            Value::Null,
        )
        .await
        .expect("autocomplete");
    let (_, body) = bot.callback(id).await;
    assert_eq!(body["choices"][0]["value"], "Europe/Berlin", "{body}");

    // A plugin schedules a hook task through the API; the scheduler emits it at 12:10.
    assert_eq!(
        text_of(&bot.ask(owner, "!plan */10 * * * *").await),
        "planned"
    );
    let list = slash(&mut bot, owner, "schedule list", Value::Null).await;
    let listed = text_of(&list);
    assert!(
        listed.contains("basic-planned") && listed.contains("standup"),
        "{listed}"
    );
    let planned = info(&mut bot, "basic-planned").await;
    assert_eq!(field(&planned, "Created by"), "a plugin");
    assert_eq!(field(&planned, "Type"), "hook");
    clock::set_manual(monday(12, 10, 0));
    posted(&mut bot, "planned task basic-planned ran").await;
    assert_eq!(text_of(&bot.ask(owner, "!unplan").await), "unplanned");
    let gone = info(&mut bot, "basic-planned").await;
    assert!(
        text_of(&gone).contains("there is no task `basic-planned`"),
        "{gone}"
    );

    // Off, on, deleted.
    let off = slash(
        &mut bot,
        owner,
        "schedule toggle",
        json!([text("task", "standup")]),
    )
    .await;
    assert!(text_of(&off).contains("is now **off**"), "{off}");
    let on = slash(
        &mut bot,
        owner,
        "schedule toggle",
        json!([text("task", "#1")]),
    )
    .await;
    assert!(text_of(&on).contains("is now **on**"), "{on}");
    let deleted = slash(
        &mut bot,
        owner,
        "schedule delete",
        json!([text("task", "standup")]),
    )
    .await;
    assert!(
        text_of(&deleted).contains("Task `standup` (#1) deleted."),
        "{deleted}"
    );
    let empty = slash(&mut bot, owner, "schedule list", Value::Null).await;
    assert!(text_of(&empty).contains("No scheduled tasks"), "{empty}");

    // Without the scheduler, a plugin's request says so.
    assert!(text_of(&bot.ask(owner, "!unload scheduler").await).contains("scheduler"));
    let alone = text_of(&bot.ask(owner, "!plan 0 * * * *").await);
    assert!(
        alone.contains("not planned") && alone.contains("`scheduler` plugin"),
        "{alone}"
    );
    bot.shutdown().await;
    clock::set_system();
}
