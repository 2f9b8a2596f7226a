//! Automations (the first-party `automations` plugin) that open channels, count voice time and
//! relay messages, through the simulator: ticket panels open private channels and close them
//! with a transcript, voice time is counted across moves, the AFK channel and a restart, bridges
//! relay to Discord webhooks and to endpoints the operator allows, and hubs make voice rooms.
//! A permission the bot lacks turns the automation off with an alert.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc};
use zoryx_host::clock;
use zoryx_sim::SimEvent;

use support::bot::{TestBot, text_of};

const AUTOMATIONS: (&str, &str) = ("plugin-automations.so", "automations.so");

/// 2026-11-30 00:00 UTC, a Monday.
const MONDAY: u64 = 1_795_996_800;

/// The clock is the process's: one test at a time.
static CLOCK: Mutex<()> = Mutex::const_new(());

/// Monday at `h:m` UTC.
fn monday(h: u64, m: u64) -> u64 {
    MONDAY + h * 3600 + m * 60
}

/// Permission bits.
const VIEW: u64 = 1 << 10;
const SEND: u64 = 1 << 11;
const MANAGE_CHANNELS: u64 = 1 << 4;
const ATTACH: u64 = 1 << 15;
const HISTORY: u64 = 1 << 16;
const EMBED: u64 = 1 << 14;
const MOVE_MEMBERS: u64 = 1 << 24;
const MANAGE_ROLES: u64 = 1 << 28;
const CONNECT: u64 = 1 << 20;

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

/// `!hooks create …` as the owner; the creation answer.
async fn create(bot: &mut TestBot, line: &str) -> Value {
    let owner = bot.sim.owner().id;
    let body = bot.ask(owner, &format!("!hooks create {line}")).await;
    let name = line.split_whitespace().nth(1).expect("a name");
    assert_eq!(
        body["embeds"][0]["title"],
        format!("Automation created: {name}"),
        "{body}"
    );
    body
}

async fn info(bot: &mut TestBot, name: &str) -> Value {
    let owner = bot.sim.owner().id;
    bot.ask(owner, &format!("!hooks info {name}")).await
}

/// Waits until automation `name` counts `runs` runs and `failures` failures (events are
/// handled apart from commands); its info then.
async fn wait_counts(bot: &mut TestBot, name: &str, runs: u64, failures: u64) -> Value {
    let want = (runs.to_string(), failures.to_string());
    for _ in 0..200 {
        let body = info(bot, name).await;
        if (field(&body, "Runs"), field(&body, "Failures")) == want {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let body = info(bot, name).await;
    panic!("`{name}` never counted {runs} run(s) and {failures} failure(s): {body}");
}

/// Calls of the automations plugin finished so far.
fn calls_finished(bot: &TestBot) -> u64 {
    bot.host
        .manager
        .table()
        .plugins
        .get("automations")
        .map_or(0, |g| g.call_stats().timed)
}

/// Waits until the automations plugin has finished `calls` calls.
async fn wait_calls(bot: &TestBot, calls: u64) {
    for _ in 0..400 {
        if calls_finished(bot) >= calls {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the automations plugin never finished {calls} calls");
}

/// A request to the simulator's REST API as the bot (what a plugin would ask through the
/// host): the answer's JSON.
async fn rest(bot: &TestBot, method: reqwest::Method, path: &str, body: Value) -> Value {
    let answer = reqwest::Client::new()
        .request(method, format!("{}/api/v10{path}", bot.sim.base_url()))
        .header("Authorization", format!("Bot {}", bot.sim.token()))
        .json(&body)
        .send()
        .await
        .expect("the simulator answers");
    assert!(answer.status().is_success(), "{path}: {}", answer.status());
    answer.json().await.expect("JSON")
}

/// The first channel id in `text` (`<#123>`).
fn channel_in(text: &str) -> u64 {
    let start = text.find("<#").expect("a channel") + 2;
    let end = start + text[start..].find('>').expect("closed");
    text[start..end].parse().expect("an id")
}

/// The custom id of the first button of a message with one, in `channel`, starting with
/// `prefix`: (message, custom id).
fn button(bot: &TestBot, channel: u64, prefix: &str) -> (u64, String) {
    bot.sim
        .messages(channel)
        .into_iter()
        .find_map(|m| {
            let id = m.payload["components"][0]["components"][0]["custom_id"].as_str()?;
            id.starts_with(prefix).then(|| (m.id, id.to_owned()))
        })
        .unwrap_or_else(|| panic!("no `{prefix}` button in channel {channel}"))
}

/// Clicks `custom_id` on `message` as `user`; the answer (type, data).
async fn click(bot: &mut TestBot, message: u64, user: u64, custom_id: &str) -> (u8, Value) {
    let id = bot
        .sim
        .inject_component(message, user, custom_id, Vec::new())
        .await
        .expect("click");
    bot.callback(id).await
}

/// The overwrite of `target` on a channel as the simulator holds it: (allow, deny).
fn overwrite(channel: &Value, target: u64) -> (u64, u64) {
    let o = channel["permission_overwrites"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| o["id"].as_str().and_then(|id| id.parse().ok()) == Some(target))
        .unwrap_or_else(|| panic!("no overwrite for {target}: {channel}"));
    let bits = |v: &Value| v.as_str().and_then(|s| s.parse().ok()).expect("bits");
    (bits(&o["allow"]), bits(&o["deny"]))
}

/// Waits until `done` holds (state the simulator reaches once the bot has acted).
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..400 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

fn channel_named(bot: &TestBot, name: &str) -> Option<u64> {
    let guild = bot.guild();
    bot.sim
        .channels(guild)
        .into_iter()
        .find(|c| bot.sim.channel_name(*c).as_deref() == Some(name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_open_private_channels_refuse_extra_ones_and_close_with_a_transcript() {
    let _clock = CLOCK.lock().await;
    clock::set_system();
    let mut bot = TestBot::start(&[AUTOMATIONS], "").await;
    let guild = bot.guild();
    let (general, guest) = (bot.channel(), bot.sim.guest().id);
    let logs = bot.sim.add_channel(guild, "ticket-logs").expect("channel");
    let staff = bot.sim.add_role(guild, "Staff", 0).expect("role");

    let created = create(
        &mut bot,
        "tickets support channel=#general staff=@Staff log=#ticket-logs \
         text=\"Stuck? Ask us.\" button=\"Get help\"",
    )
    .await;
    assert!(
        field(&created, "Set up").contains("**Get help**"),
        "{created}"
    );

    // The panel: the text and the button, carrying the automation's number only.
    let (panel, open) = button(&bot, general, "automations-ticket-open:");
    assert_eq!(open, r#"automations-ticket-open:{"a":1}"#);
    let shown = bot.sim.message(panel).expect("panel").payload;
    assert_eq!(
        shown["embeds"][0]["description"], "Stuck? Ask us.",
        "{shown}"
    );
    assert_eq!(shown["components"][0]["components"][0]["label"], "Get help");

    // A click opens a channel only the guest, the staff and the bot see.
    let (kind, answer) = click(&mut bot, panel, guest, &open).await;
    assert_eq!(kind, 4, "{answer}");
    assert_eq!(answer["flags"], 64, "ephemeral: {answer}");
    let text = text_of(&answer);
    assert!(text.starts_with("Your ticket is open: <#"), "{text}");
    let ticket = channel_in(&text);
    let channel = bot.sim.channel(ticket).expect("the ticket channel");
    assert_eq!(channel["name"], "ticket-guest", "{channel}");
    let member = VIEW | SEND | HISTORY | ATTACH;
    assert_eq!(
        overwrite(&channel, guild),
        (0, VIEW),
        "@everyone: {channel}"
    );
    assert_eq!(overwrite(&channel, guest), (member, 0), "{channel}");
    assert_eq!(overwrite(&channel, staff), (member, 0), "{channel}");
    let bot_id = bot.sim.bot_user().id;
    assert_eq!(
        overwrite(&channel, bot_id),
        (VIEW | SEND | MANAGE_CHANNELS | HISTORY, 0),
        "{channel}"
    );
    // Its welcome pings the guest and the staff, with the Close button.
    let (welcome, close) = button(&bot, ticket, "automations-ticket-close:");
    let welcomed = bot.sim.message(welcome).expect("welcome");
    assert_eq!(welcomed.content, format!("<@{guest}> <@&{staff}>"));

    // One open ticket per member: a second click is refused.
    let (_, again) = click(&mut bot, panel, guest, &open).await;
    assert_eq!(again["flags"], 64, "{again}");
    assert_eq!(
        text_of(&again),
        format!("You have 1 open ticket already (<#{ticket}>): close it before opening another.")
    );
    assert_eq!(
        bot.sim
            .channels(guild)
            .into_iter()
            .filter(|c| bot.sim.channel_name(*c).as_deref() == Some("ticket-guest"))
            .count(),
        1
    );

    // The conversation, with a file.
    bot.sim
        .inject_message(ticket, guest, "my printer is on fire")
        .await
        .expect("message");
    bot.sim
        .inject_files(ticket, guest, "here it is", &[("fire.png", 2048)])
        .await
        .expect("file");

    // A member who is neither the guest nor staff cannot close it.
    let stranger = bot.sim.add_user("stranger").id;
    bot.sim.add_member(guild, stranger).expect("member");
    let (_, refused) = click(&mut bot, welcome, stranger, &close).await;
    assert_eq!(
        text_of(&refused),
        format!("Only <@{guest}>, the staff or an administrator can close this ticket.")
    );
    assert!(bot.sim.channel(ticket).is_some());

    // The guest closes it: the transcript goes to the log channel as a file, the channel goes.
    let (kind, closing) = click(&mut bot, welcome, guest, &close).await;
    assert_eq!(kind, 4, "{closing}");
    assert!(
        text_of(&closing).starts_with(&format!("🔒 Ticket closed by <@{guest}>")),
        "{closing}"
    );
    bot.wait_event(
        "the ticket channel's deletion",
        |e| matches!(e, SimEvent::ChannelDeleted { channel_id, .. } if *channel_id == ticket),
    )
    .await;
    assert!(bot.sim.channel(ticket).is_none());
    let logged = bot
        .sim
        .messages(logs)
        .into_iter()
        .last()
        .expect("the transcript");
    assert!(
        logged.content.starts_with(&format!(
            "Transcript of ticket `#ticket-guest` of <@{guest}>"
        )),
        "{}",
        logged.content
    );
    let files = bot.sim.attachments(logged.id);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].filename, "transcript-ticket-guest.txt");
    let transcript =
        String::from_utf8(files[0].data.as_deref().expect("bytes").to_vec()).expect("text");
    assert!(
        transcript.starts_with("Transcript of #ticket-guest\n"),
        "{transcript}"
    );
    let printer = transcript
        .find(&format!("] guest ({guest}): my printer is on fire\n"))
        .expect(&transcript);
    let file = transcript
        .find(&format!(
            "] guest ({guest}): here it is\n    attachment fire.png: https://"
        ))
        .expect(&transcript);
    let greeting = transcript
        .find(&format!(
            "] Zoryx ({bot_id}): <@{guest}> <@&{staff}> [1 embed]"
        ))
        .expect(&transcript);
    assert!(
        greeting < printer && printer < file,
        "oldest first: {transcript}"
    );

    // Closed, the guest may open another; the runs were counted: open, close, open.
    let (_, reopened) = click(&mut bot, panel, guest, &open).await;
    assert!(
        text_of(&reopened).starts_with("Your ticket is open"),
        "{reopened}"
    );
    let counts = wait_counts(&mut bot, "support", 3, 0).await;
    assert!(field(&counts, "Settings").contains("`staff`"), "{counts}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_panel_without_manage_channels_turns_off_with_an_alert() {
    let _clock = CLOCK.lock().await;
    clock::set_system();
    let mut bot = TestBot::start(&[AUTOMATIONS], "").await;
    let guild = bot.guild();
    let (general, guest) = (bot.channel(), bot.sim.guest().id);
    create(&mut bot, "tickets help channel=#general staff=@Moderator").await;
    let (panel, open) = button(&bot, general, "automations-ticket-open:");

    // The bot keeps what it needs to talk, not Manage Channels.
    let role = bot.sim.bot_role(guild).expect("bot role");
    bot.sim
        .set_role_permissions(
            guild,
            role,
            VIEW | SEND | EMBED | ATTACH | HISTORY | MANAGE_ROLES,
        )
        .expect("permissions");
    let channels = bot.sim.channels(guild).len();
    let (kind, answer) = click(&mut bot, panel, guest, &open).await;
    assert_eq!(kind, 4);
    assert_eq!(answer["flags"], 64, "{answer}");
    assert_eq!(
        text_of(&answer),
        "Your ticket could not be opened: the bot cannot create a channel: it lacks the Manage \
         Channels permission. The server's administrators have been told, and the ticket panel \
         is off until they fix it."
    );
    assert_eq!(bot.sim.channels(guild).len(), channels, "no channel made");

    // Turned off, with the reason, in the server's alert channel.
    let alert = bot.nth_alert("Automation `help` turned off", 1).await;
    assert!(
        alert.contains("lacks the Manage Channels permission"),
        "{alert}"
    );
    let shown = info(&mut bot, "help").await;
    let status = shown["embeds"][0]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(
        status.contains("off: the bot cannot create a channel: it lacks the Manage Channels"),
        "{shown}"
    );
    assert_eq!(field(&shown, "Failures"), "1");

    // Off, the panel says so.
    let (_, closed) = click(&mut bot, panel, guest, &open).await;
    assert_eq!(
        text_of(&closed),
        "Tickets are closed right now: the server's administrators turned them off."
    );
    clock::set_system();
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voice_time_is_counted_across_moves_and_a_restart_and_not_in_the_afk_channel() {
    let _clock = CLOCK.lock().await;
    clock::set_manual(monday(12, 0));
    let mut bot = TestBot::start(&[AUTOMATIONS], "").await;
    let guild = bot.guild();
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let lounge = bot.sim.add_voice_channel(guild, "Lounge").expect("voice");
    let games = bot.sim.add_voice_channel(guild, "Games").expect("voice");
    let afk = bot.sim.add_voice_channel(guild, "AFK").expect("voice");
    let edited = rest(
        &bot,
        reqwest::Method::PATCH,
        &format!("/guilds/{guild}"),
        json!({"afk_channel_id": afk.to_string()}),
    )
    .await;
    assert_eq!(edited["afk_channel_id"], afk.to_string(), "{edited}");
    create(&mut bot, "voice_tracker voice").await;

    // 12:00 in; 12:30 another channel: still counting; 13:00 to AFK: one hour.
    bot.sim
        .inject_voice_join(guild, lounge, guest)
        .await
        .expect("join");
    wait_counts(&mut bot, "voice", 1, 0).await;
    clock::set_manual(monday(12, 30));
    let before = calls_finished(&bot);
    bot.sim
        .inject_voice_move(guild, games, guest)
        .await
        .expect("move");
    // Handled before the clock moves on and the next update comes (listeners of two updates
    // would otherwise run at once, in either order).
    wait_calls(&bot, before + 1).await;
    clock::set_manual(monday(13, 0));
    bot.sim
        .inject_voice_move(guild, afk, guest)
        .await
        .expect("afk");
    wait_counts(&mut bot, "voice", 2, 0).await;
    // 13:20 back from AFK, and the owner joins; 13:50 the guest leaves: half an hour more.
    clock::set_manual(monday(13, 20));
    bot.sim
        .inject_voice_move(guild, lounge, guest)
        .await
        .expect("back");
    bot.sim
        .inject_voice_join(guild, games, owner)
        .await
        .expect("join");
    wait_counts(&mut bot, "voice", 4, 0).await;
    clock::set_manual(monday(13, 50));
    bot.sim
        .inject_voice_leave(guild, guest)
        .await
        .expect("leave");
    wait_counts(&mut bot, "voice", 5, 0).await;

    let top = bot.ask(owner, "!voicetop").await;
    assert_eq!(top["embeds"][0]["title"], "Time in voice", "{top}");
    assert_eq!(
        top["embeds"][0]["description"],
        format!("**1.** <@{guest}> — 1 h 30 min\n**2.** <@{owner}> — 30 min 🎙️"),
        "the owner's stretch counts up to now: {top}"
    );
    let mine = text_of(&bot.ask(owner, "!voicetime").await);
    assert!(
        mine.contains(&format!(
            "<@{owner}> has spent **30 min** in voice here: #2 of 2."
        )),
        "{mine}"
    );
    assert!(mine.contains("In voice now"), "{mine}");

    // Down for an hour: the owner, still in voice, keeps counting from their join.
    let mut bot = bot
        .restart_after(|| clock::set_manual(monday(14, 50)))
        .await;
    let theirs = text_of(&bot.ask(guest, &format!("!voicetime {owner}")).await);
    assert!(
        theirs.contains(&format!(
            "<@{owner}> has spent **1 h 30 min** in voice here: #1 of 2."
        )),
        "{theirs}"
    );
    clock::set_manual(monday(15, 20));
    bot.sim
        .inject_voice_leave(guild, owner)
        .await
        .expect("leave");
    wait_counts(&mut bot, "voice", 6, 0).await;
    let top = bot.ask(guest, "!voicetop").await;
    assert_eq!(
        top["embeds"][0]["description"],
        format!("**1.** <@{owner}> — 2 h 00 min\n**2.** <@{guest}> — 1 h 30 min"),
        "{top}"
    );
    assert_eq!(
        top["embeds"][0]["footer"]["text"],
        "Page 1/1 · 2 member(s) · 🎙️ in voice now"
    );
    clock::set_system();
    bot.shutdown().await;
}

/// A local endpoint: what it was sent, one JSON body per request.
async fn endpoint() -> (u16, mpsc::UnboundedReceiver<Value>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(body);
                "thanks"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, rx)
}

/// Waits for a webhook message into `channel`; its body as sent.
async fn relayed(bot: &mut TestBot, channel: u64) -> Value {
    match bot
        .wait_event(
            "a webhook message",
            |e| matches!(e, SimEvent::WebhookMessage { channel_id, .. } if *channel_id == channel),
        )
        .await
    {
        SimEvent::WebhookMessage { body, .. } => body,
        _ => unreachable!("matched a WebhookMessage"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridges_relay_to_discord_webhooks_and_to_allowed_endpoints_only() {
    let _clock = CLOCK.lock().await;
    clock::set_manual(monday(12, 0));
    let (port, mut received) = endpoint().await;
    // A port nothing allows (nothing listens there either).
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let config = format!(r#""http": {{"allow": {{"automations": ["127.0.0.1:{port}"]}}}}"#);
    let mut bot = TestBot::start(&[AUTOMATIONS], &config).await;
    let guild = bot.guild();
    let guest = bot.sim.guest().id;
    let lobby = bot.sim.add_channel(guild, "lobby").expect("channel");
    let mirror = bot.sim.add_channel(guild, "mirror").expect("channel");
    let hook = rest(
        &bot,
        reqwest::Method::POST,
        &format!("/channels/{mirror}/webhooks"),
        json!({"name": "Relay"}),
    )
    .await;
    let (hook_id, token) = (
        hook["id"].as_str().expect("id").to_owned(),
        hook["token"].as_str().expect("token").to_owned(),
    );
    let url = format!("https://discord.com/api/webhooks/{hook_id}/{token}");
    create(
        &mut bot,
        &format!("bridge relay channel=#lobby webhook={url}"),
    )
    .await;
    create(
        &mut bot,
        &format!("bridge out channel=#lobby webhook=http://127.0.0.1:{port}/hook"),
    )
    .await;
    create(
        &mut bot,
        &format!("bridge nowhere channel=#lobby webhook=http://127.0.0.1:{closed}/hook"),
    )
    .await;

    // A message in the lobby: relayed under the author's name, mass mentions defused, the file's
    // URL after the text.
    let posted = bot
        .sim
        .inject_files(lobby, guest, "hello @everyone", &[("notes.txt", 12)])
        .await
        .expect("message");
    let body = relayed(&mut bot, mirror).await;
    assert_eq!(body["username"], "guest", "{body}");
    let content = body["content"].as_str().expect("content");
    let (text, file) = content.split_once('\n').expect("two lines");
    assert_eq!(text, "hello @\u{200b}everyone");
    assert!(
        file.starts_with("https://") && file.ends_with("/notes.txt"),
        "{content}"
    );

    // The endpoint gets the message as JSON.
    let sent = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("in time")
        .expect("a body");
    assert_eq!(sent["guild"], guild.to_string(), "{sent}");
    assert_eq!(sent["channel"], lobby.to_string());
    assert_eq!(sent["message"], posted.to_string());
    assert_eq!(
        sent["author"],
        json!({"id": guest.to_string(), "name": "guest"})
    );
    assert_eq!(sent["content"], "hello @everyone");
    assert_eq!(sent["attachments"][0]["filename"], "notes.txt");
    assert_eq!(sent["attachments"][0]["size"], 12);
    assert_eq!(sent["timestamp"], "2026-11-30T12:00:00Z");

    // A host the operator did not allow: a failure that says which key to set; still on.
    let refused = wait_counts(&mut bot, "nowhere", 0, 1).await;
    let error = field(&refused, "Last error");
    assert!(
        error.contains("may not reach `127.0.0.1`") && error.contains("http.allow.automations"),
        "{error}"
    );
    assert!(
        refused["embeds"][0]["description"]
            .as_str()
            .unwrap_or_default()
            .contains("🟢 on"),
        "{refused}"
    );
    wait_counts(&mut bot, "relay", 1, 0).await;
    wait_counts(&mut bot, "out", 1, 0).await;

    // Past 2,000 characters the relay is cut.
    let long = "x".repeat(1990) + " and more words past the limit";
    bot.sim
        .inject_message(lobby, guest, &long)
        .await
        .expect("message");
    let body = relayed(&mut bot, mirror).await;
    let content = body["content"].as_str().expect("content");
    assert_eq!(content.chars().count(), 2000, "{content}");
    assert!(content.ends_with('…'));
    let sent = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("in time")
        .expect("a body");
    assert_eq!(
        sent["content"].as_str().map(|c| c.chars().count()),
        Some(2000)
    );

    // A bridge into its own channel relays once: its relay, a webhook's message, comes back
    // to nobody.
    create(
        &mut bot,
        &format!("bridge echo channel=#mirror webhook={url}"),
    )
    .await;
    bot.sim
        .inject_message(mirror, guest, "echo once")
        .await
        .expect("message");
    relayed(&mut bot, mirror).await;
    bot.sim
        .inject_message(mirror, guest, "and again")
        .await
        .expect("message");
    relayed(&mut bot, mirror).await;
    let echoes = bot
        .sim
        .messages(mirror)
        .into_iter()
        .filter(|m| m.content == "echo once")
        .count();
    assert_eq!(echoes, 2, "the guest's message and one relay");
    wait_counts(&mut bot, "echo", 2, 0).await;
    clock::set_system();
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hubs_make_rooms_that_go_when_they_empty() {
    let _clock = CLOCK.lock().await;
    clock::set_system();
    let mut bot = TestBot::start(&[AUTOMATIONS], "").await;
    let guild = bot.guild();
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let hub = bot.sim.add_voice_channel(guild, "Hub").expect("voice");
    create(&mut bot, "dynamic_voice rooms hub=Hub").await;

    // Joining the hub: a room of the guest's, where they are moved, theirs to manage. The plugin
    // deals with both updates (the join, and the move it made) before anyone else moves: two
    // updates of one member handled out of order would count them where they no longer are.
    let pool = bot.host.manager.dispatcher().shared().pool();
    let before = pool.stats("automations").calls;
    bot.sim
        .inject_voice_join(guild, hub, guest)
        .await
        .expect("join");
    until("the guest's move to a room", || {
        bot.sim
            .voice_channel(guild, guest)
            .is_some_and(|c| c != hub)
    })
    .await;
    let deadline = tokio::time::Instant::now() + support::bot::WAIT;
    loop {
        let now = pool.stats("automations");
        if now.calls >= before + 2 && now.timed >= now.calls {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{now:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let room = channel_named(&bot, "guest's room").expect("the room");
    assert_eq!(bot.sim.voice_channel(guild, guest), Some(room));
    let channel = bot.sim.channel(room).expect("room");
    assert_eq!(channel["type"], 2, "{channel}");
    assert_eq!(
        overwrite(&channel, guest),
        (MANAGE_CHANNELS | MOVE_MEMBERS, 0)
    );

    // The owner comes in; the guest leaves: the room stays (past the 3 s it waits before
    // deleting an empty room); the owner leaves: it goes.
    bot.sim
        .inject_voice_join(guild, room, owner)
        .await
        .expect("join");
    bot.sim
        .inject_voice_leave(guild, guest)
        .await
        .expect("leave");
    tokio::time::sleep(Duration::from_millis(3500)).await;
    wait_counts(&mut bot, "rooms", 1, 0).await;
    assert!(bot.sim.channel(room).is_some());
    bot.sim
        .inject_voice_leave(guild, owner)
        .await
        .expect("leave");
    bot.wait_event(
        "the room's deletion",
        |e| matches!(e, SimEvent::ChannelDeleted { channel_id, .. } if *channel_id == room),
    )
    .await;
    wait_counts(&mut bot, "rooms", 2, 0).await;
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_without_move_members_turns_off_with_an_alert() {
    let _clock = CLOCK.lock().await;
    clock::set_system();
    let mut bot = TestBot::start(&[AUTOMATIONS], "").await;
    let guild = bot.guild();
    let guest = bot.sim.guest().id;
    let hub = bot.sim.add_voice_channel(guild, "Hub").expect("voice");
    create(
        &mut bot,
        "dynamic_voice rooms hub=Hub name=\"{user} talks\"",
    )
    .await;
    let role = bot.sim.bot_role(guild).expect("bot role");
    bot.sim
        .set_role_permissions(
            guild,
            role,
            VIEW | SEND | EMBED | CONNECT | MANAGE_CHANNELS | MANAGE_ROLES,
        )
        .expect("permissions");

    bot.sim
        .inject_voice_join(guild, hub, guest)
        .await
        .expect("join");
    let alert = bot.nth_alert("Automation `rooms` turned off", 1).await;
    assert!(
        alert.contains("lacks the Move Members permission"),
        "{alert}"
    );
    // Nothing was made; the guest stays in the hub.
    assert_eq!(channel_named(&bot, "guest talks"), None);
    assert_eq!(bot.sim.voice_channel(guild, guest), Some(hub));
    let shown = info(&mut bot, "rooms").await;
    assert_eq!(field(&shown, "Failures"), "1");
    bot.shutdown().await;
}
