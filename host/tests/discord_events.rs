//! Plugin-api 1.3's events end to end: the simulator plays users and moderators, the host
//! turns the gateway's events into plugin-api events, and the fixture plugin's listeners (all
//! of them through the JSON path) report what they saw as `saw ...` messages in the channel
//! its `!watch` was asked in. In-process and isolated.

mod support;

use serde_json::{Value, json};
use support::Mode;
use support::bot::{TestBot, WAIT, text_of};
use zoryx_sim::SimEvent;

/// A bot with the fixture plugin watching the default channel, and the reports it made that
/// nobody has asked for yet (a report may come before the reply to the action that caused it).
struct Watch {
    bot: TestBot,
    reports: Vec<String>,
}

impl Watch {
    async fn start(mode: Mode) -> Self {
        let config = match mode {
            Mode::InProcess => "",
            Mode::Isolated => r#""isolation": {"plugins": ["*"]}"#,
        };
        let mut bot = TestBot::start(&[("basic-v1.so", "basic.so")], config).await;
        let owner = bot.sim.owner().id;
        let reply = bot.ask(owner, "!watch").await;
        assert_eq!(text_of(&reply), "watching");
        Self {
            bot,
            reports: Vec::new(),
        }
    }

    /// The next simulator event; `saw ...` reports are kept aside on the way.
    async fn next(&mut self, what: &str) -> SimEvent {
        let event = match tokio::time::timeout(WAIT, self.bot.events.recv()).await {
            Ok(Ok(event)) => event,
            Ok(Err(error)) => panic!("simulator events ended waiting for {what}: {error}"),
            Err(_) => panic!(
                "timed out waiting for {what}; reports so far: {:?}",
                self.reports
            ),
        };
        if let SimEvent::BotMessage { body, .. } = &event {
            let text = text_of(body);
            if text.starts_with("saw ") {
                self.reports.push(text);
            }
        }
        event
    }

    /// The first report starting with `saw {prefix}` (earlier ones of other events stay).
    async fn saw(&mut self, prefix: &str) -> String {
        let wanted = format!("saw {prefix}");
        loop {
            if let Some(i) = self.reports.iter().position(|r| r.starts_with(&wanted)) {
                return self.reports.remove(i);
            }
            self.next(&format!("a report `{wanted}`")).await;
        }
    }

    /// Carries out one raw action through the fixture's `!act`; returns the outcome JSON.
    async fn act(&mut self, action: Value) -> Value {
        let owner = self.bot.sim.owner().id;
        let asked = self
            .bot
            .sim
            .inject_message(self.bot.channel(), owner, &format!("!act {action}"))
            .await
            .expect("inject");
        loop {
            if let SimEvent::BotMessage {
                reply_to: Some(id),
                body,
                ..
            } = self.next("the outcome of !act").await
                && id == asked
            {
                let text = text_of(&body);
                return serde_json::from_str(&text)
                    .unwrap_or_else(|_| panic!("the action was refused: {text}"));
            }
        }
    }

    async fn shutdown(self) {
        self.bot.shutdown().await;
    }
}

fn role_named(watch: &Watch, name: &str) -> u64 {
    watch
        .bot
        .sim
        .roles(watch.bot.guild())
        .iter()
        .find(|r| r["name"] == name)
        .and_then(|r| r["id"].as_str()?.parse().ok())
        .unwrap_or_else(|| panic!("no role {name}"))
}

async fn messages_carry_files_replies_roles_edits_and_bulk_deletes(mode: Mode) {
    let mut w = Watch::start(mode).await;
    let (channel, guest, owner) = (w.bot.channel(), w.bot.sim.guest().id, w.bot.sim.owner().id);

    let files = w
        .bot
        .sim
        .inject_files(
            channel,
            guest,
            "inspect files",
            &[("cat.png", 2048), ("notes.txt", 12)],
        )
        .await
        .expect("files");
    assert_eq!(
        w.saw(&format!("message {files}")).await,
        format!("saw message {files} files=cat.png:2048,notes.txt:12 reply_to= roles=")
    );
    let reply = w
        .bot
        .sim
        .inject_reply(channel, owner, "inspect reply", files)
        .await
        .expect("reply");
    let admin = role_named(&w, "Admin");
    assert_eq!(
        w.saw(&format!("message {reply}")).await,
        format!("saw message {reply} files= reply_to={files} roles={admin}")
    );

    w.bot
        .sim
        .inject_edit(files, guest, "edited text")
        .await
        .expect("edit");
    assert_eq!(
        w.saw(&format!("message_update {files}")).await,
        format!(
            "saw message_update {files} in {channel} content=edited text author=guest \
             edited=true files=2"
        )
    );

    let outcome = w
        .act(json!({"bulk_delete": {"channel": channel, "messages": [files, reply]}}))
        .await;
    assert_eq!(outcome, json!("done"));
    assert_eq!(
        w.saw("message_bulk_delete").await,
        format!("saw message_bulk_delete {files},{reply} in {channel}")
    );
    w.shutdown().await;
}

async fn reactions_of_users_are_seen_and_the_bots_own_are_not(mode: Mode) {
    let mut w = Watch::start(mode).await;
    let (channel, guest) = (w.bot.channel(), w.bot.sim.guest().id);
    let message = w
        .bot
        .sim
        .inject_message(channel, guest, "react to me")
        .await
        .expect("message");

    // The bot's own reaction comes back from the gateway, but not to the plugins.
    let outcome = w
        .act(json!({"react": {"channel": channel, "message": message, "emoji": "👍"}}))
        .await;
    assert_eq!(outcome, json!("done"));
    w.bot
        .sim
        .inject_reaction(channel, message, guest, "👍")
        .await
        .expect("reaction");
    let seen = w.saw("reaction_add").await;
    assert_eq!(
        seen,
        format!("saw reaction_add 👍 by {guest} on {message} in {channel} member=guest")
    );

    let party = w.bot.sim.add_emoji(w.bot.guild(), "party").expect("emoji");
    w.bot
        .sim
        .inject_reaction(channel, message, guest, &format!("party:{party}"))
        .await
        .expect("custom reaction");
    assert_eq!(
        w.saw("reaction_add").await,
        format!("saw reaction_add party:{party} by {guest} on {message} in {channel} member=guest")
    );

    // Discord sends no member with a removal.
    w.bot
        .sim
        .inject_unreaction(channel, message, guest, "👍")
        .await
        .expect("unreaction");
    assert_eq!(
        w.saw("reaction_remove").await,
        format!("saw reaction_remove 👍 by {guest} on {message} in {channel} member=-")
    );
    w.shutdown().await;
}

async fn member_updates_carry_nick_and_roles(mode: Mode) {
    let mut w = Watch::start(mode).await;
    let (guild, guest) = (w.bot.guild(), w.bot.sim.guest().id);
    let moderator = role_named(&w, "Moderator");
    w.bot
        .sim
        .add_member_role(guild, guest, moderator)
        .expect("role");
    assert_eq!(
        w.saw("member_update").await,
        format!("saw member_update guest nick=- roles={moderator}")
    );
    let outcome = w
        .act(json!({"set_nickname": {"guild": guild, "user": guest, "nick": "Visitor"}}))
        .await;
    assert_eq!(outcome, json!("done"));
    assert_eq!(
        w.saw("member_update").await,
        format!("saw member_update guest nick=Visitor roles={moderator}")
    );
    w.shutdown().await;
}

async fn voice_joins_moves_and_leaves(mode: Mode) {
    let mut w = Watch::start(mode).await;
    let (guild, guest) = (w.bot.guild(), w.bot.sim.guest().id);
    let lounge = w.bot.sim.add_voice_channel(guild, "Lounge").expect("voice");
    let stage = w.bot.sim.add_voice_channel(guild, "Stage").expect("voice");
    w.saw(&format!("channel_create {stage} Stage Voice")).await;

    w.bot
        .sim
        .inject_voice_join(guild, lounge, guest)
        .await
        .expect("join");
    assert_eq!(
        w.saw("voice").await,
        format!("saw voice {guest} joined {lounge}")
    );
    w.bot
        .sim
        .inject_voice_move(guild, stage, guest)
        .await
        .expect("move");
    assert_eq!(
        w.saw("voice").await,
        format!("saw voice {guest} moved {lounge}->{stage}")
    );
    w.bot
        .sim
        .inject_voice_leave(guild, guest)
        .await
        .expect("leave");
    assert_eq!(
        w.saw("voice").await,
        format!("saw voice {guest} left {stage}")
    );
    w.shutdown().await;
}

async fn channels_and_categories_are_created_changed_and_deleted(mode: Mode) {
    let mut w = Watch::start(mode).await;
    let guild = w.bot.guild();
    let news = w.bot.sim.add_channel(guild, "news").expect("channel");
    assert_eq!(
        w.saw("channel_create").await,
        format!("saw channel_create {news} news Text topic=-")
    );
    w.act(json!({"edit_channel": {"channel": news, "spec": {"topic": "What happened"}}}))
        .await;
    assert_eq!(
        w.saw("channel_update").await,
        format!("saw channel_update {news} news Text topic=What happened")
    );
    let created = w.act(
        json!({"create_channel": {"guild": guild, "spec": {"name": "Staff", "kind": "category"}}}),
    )
    .await;
    let staff = created["channel"]["id"].as_u64().expect("category id");
    assert_eq!(
        w.saw("channel_create").await,
        format!("saw channel_create {staff} Staff Category topic=-")
    );
    w.act(json!({"delete_channel": {"channel": news}})).await;
    assert_eq!(
        w.saw("channel_delete").await,
        format!("saw channel_delete {news} news Text topic=What happened")
    );
    w.act(json!({"delete_channel": {"channel": staff}})).await;
    assert_eq!(
        w.saw("channel_delete").await,
        format!("saw channel_delete {staff} Staff Category topic=-")
    );
    w.shutdown().await;
}

async fn roles_are_created_changed_and_deleted(mode: Mode) {
    let mut w = Watch::start(mode).await;
    let guild = w.bot.guild();
    let helpers = w.bot.sim.add_role(guild, "Helpers", 0).expect("role");
    assert_eq!(
        w.saw("role_create").await,
        format!("saw role_create {helpers} Helpers permissions=0")
    );
    w.bot
        .sim
        .set_role_permissions(guild, helpers, 8192)
        .expect("permissions");
    assert_eq!(
        w.saw(&format!("role_update {helpers}")).await,
        format!("saw role_update {helpers} Helpers permissions=8192")
    );
    w.bot.sim.remove_role(guild, helpers).expect("delete");
    assert_eq!(
        w.saw("role_delete").await,
        format!("saw role_delete {helpers}")
    );
    w.shutdown().await;
}

async fn bans_are_added_and_lifted(mode: Mode) {
    let mut w = Watch::start(mode).await;
    let guild = w.bot.guild();
    let troll = w.bot.sim.add_user("troll");
    w.bot.sim.add_member(guild, troll.id).expect("member");
    w.act(
        json!({"ban": {"guild": guild, "user": troll.id, "delete_message_seconds": 0,
               "reason": "trolling"}}),
    )
    .await;
    assert_eq!(
        w.saw("ban_add").await,
        format!("saw ban_add {} troll", troll.id)
    );
    w.act(json!({"unban": {"guild": guild, "user": troll.id}}))
        .await;
    assert_eq!(
        w.saw("ban_remove").await,
        format!("saw ban_remove {} troll", troll.id)
    );
    w.shutdown().await;
}

both_modes!(
    messages_carry_files_replies_roles_edits_and_bulk_deletes,
    reactions_of_users_are_seen_and_the_bots_own_are_not,
    member_updates_carry_nick_and_roles,
    voice_joins_moves_and_leaves,
    channels_and_categories_are_created_changed_and_deleted,
    roles_are_created_changed_and_deleted,
    bans_are_added_and_lifted,
);
