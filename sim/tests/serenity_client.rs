//! A real serenity 0.12.5 `Client` against the simulator: it connects through the proxy,
//! gets READY and GUILD_CREATE, answers messages, slash commands and button clicks, resumes
//! after a dropped socket without losing a message, and fails clearly on 4014.

mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use serenity::all::{
    ButtonStyle, ClientBuilder, CommandInteraction, ComponentInteraction, Context, CreateActionRow,
    CreateButton, CreateCommand, CreateCommandOption, CreateInteractionResponse,
    CreateInteractionResponseFollowup, CreateInteractionResponseMessage, CreateMessage,
    EventHandler, GatewayIntents, Guild, GuildId, HttpBuilder, Interaction, Message, Ready,
};
use serenity::async_trait;
use support::{WAIT, wait_for};
use tokio::sync::mpsc;
use zoryx_sim::{SimConfig, SimEvent, Simulator};

#[derive(Debug)]
enum Seen {
    Ready,
    Guild(u64),
}

struct Bot {
    seen: mpsc::UnboundedSender<Seen>,
}

#[async_trait]
impl EventHandler for Bot {
    async fn ready(&self, _ctx: Context, _ready: Ready) {
        let _ = self.seen.send(Seen::Ready);
    }

    async fn guild_create(&self, _ctx: Context, guild: Guild, _is_new: Option<bool>) {
        let _ = self.seen.send(Seen::Guild(guild.id.get()));
    }

    async fn message(&self, ctx: Context, msg: Message) {
        if msg.author.bot {
            return;
        }
        if let Some(text) = msg.content.strip_prefix("!echo ") {
            msg.reply(&ctx, text).await.expect("reply is accepted");
        } else if msg.content == "!ping" {
            // `say` checks SEND_MESSAGES against the cached guild.
            msg.channel_id
                .say(&ctx, "pong")
                .await
                .expect("say is accepted");
        } else if msg.content == "!buttons" {
            let row = CreateActionRow::Buttons(vec![
                CreateButton::new("t:yes")
                    .label("Yes")
                    .style(ButtonStyle::Success),
            ]);
            let m = CreateMessage::new()
                .content("Pick")
                .components(vec![row])
                .reference_message(&msg);
            msg.channel_id
                .send_message(&ctx, m)
                .await
                .expect("send with buttons");
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        match interaction {
            Interaction::Command(cmd) => slash(&ctx, &cmd).await,
            Interaction::Component(comp) => click(&ctx, &comp).await,
            _ => {}
        }
    }
}

async fn slash(ctx: &Context, cmd: &CommandInteraction) {
    let text = cmd
        .data
        .options
        .first()
        .and_then(|o| o.value.as_str())
        .unwrap_or("nothing")
        .to_owned();
    let msg = CreateInteractionResponseMessage::new()
        .content(format!("said {text}"))
        .ephemeral(true);
    cmd.create_response(ctx, CreateInteractionResponse::Message(msg))
        .await
        .expect("callback accepted");
    cmd.create_followup(
        ctx,
        CreateInteractionResponseFollowup::new().content("and more"),
    )
    .await
    .expect("followup accepted");
}

async fn click(ctx: &Context, comp: &ComponentInteraction) {
    let msg =
        CreateInteractionResponseMessage::new().content(format!("clicked {}", comp.data.custom_id));
    comp.create_response(ctx, CreateInteractionResponse::UpdateMessage(msg))
        .await
        .expect("update accepted");
}

struct Running {
    seen: mpsc::UnboundedReceiver<Seen>,
    http: Arc<serenity::http::Http>,
    task: tokio::task::JoinHandle<Result<(), serenity::Error>>,
}

async fn connect(sim: &Simulator, intents: GatewayIntents) -> Running {
    connect_shards(sim, intents, None).await
}

async fn connect_shards(sim: &Simulator, intents: GatewayIntents, shards: Option<u32>) -> Running {
    let (tx, seen) = mpsc::unbounded_channel();
    let http = HttpBuilder::new(sim.token())
        .proxy(sim.base_url())
        .ratelimiter_disabled(true)
        .build();
    let mut client = ClientBuilder::new_with_http(http, intents)
        .event_handler(Bot { seen: tx })
        .await
        .expect("client builds");
    let http = client.http.clone();
    let task = tokio::spawn(async move {
        match shards {
            Some(n) => client.start_shards(n).await,
            None => client.start().await,
        }
    });
    Running { seen, http, task }
}

fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
        | GatewayIntents::GUILD_MEMBERS
        | GatewayIntents::DIRECT_MESSAGES
}

async fn until_guild(run: &mut Running, guild: u64) {
    tokio::time::timeout(WAIT, async {
        while let Some(seen) = run.seen.recv().await {
            if matches!(seen, Seen::Guild(g) if g == guild) {
                return;
            }
        }
    })
    .await
    .expect("GUILD_CREATE reaches the handler");
}

async fn reply_to(events: &mut tokio::sync::broadcast::Receiver<SimEvent>, asked: u64) -> Value {
    wait_for(events, |e| match e {
        SimEvent::BotMessage {
            reply_to: Some(r),
            body,
            ..
        } if *r == asked => Some(body.clone()),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn serenity_connects_replies_and_resumes_without_losing_a_message() {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let mut events = sim.subscribe();
    let mut milestones = sim.subscribe();
    let mut run = connect(&sim, intents()).await;
    sim.wait_ready(WAIT).await.expect("READY");
    until_guild(&mut run, sim.default_guild()).await;

    let channel = sim.default_channel();
    let guest = sim.guest().id;
    let asked = sim
        .inject_message(channel, guest, "!echo hello")
        .await
        .expect("inject");
    let body = reply_to(&mut events, asked).await;
    assert_eq!(body["content"], "hello");

    sim.inject_message(channel, guest, "!ping")
        .await
        .expect("inject");
    let body = wait_for(&mut events, |e| match e {
        SimEvent::BotMessage {
            body,
            reply_to: None,
            ..
        } => Some(body.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        body["content"], "pong",
        "say() passes serenity's permission check"
    );

    // Drop the socket; a message injected while the bot is away is delivered on resume.
    sim.drop_session(4000).await;
    let missed = sim
        .inject_message(channel, guest, "!echo missed")
        .await
        .expect("inject");
    wait_for(&mut events, |e| {
        matches!(e, SimEvent::Resumed { .. }).then_some(())
    })
    .await;
    let body = reply_to(&mut events, missed).await;
    assert_eq!(body["content"], "missed");
    // A later message is answered too; by then a duplicate of the missed one would have come.
    let later = sim
        .inject_message(channel, guest, "!echo later")
        .await
        .expect("inject");
    reply_to(&mut events, later).await;
    let answers = sim
        .messages(channel)
        .iter()
        .filter(|m| m.reply_to == Some(missed))
        .count();
    assert_eq!(answers, 1, "the missed message is answered exactly once");
    let discovery = sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/gateway/bot") || r.path.ends_with("/gateway"))
        .count();
    assert!(
        discovery >= 1,
        "serenity discovered the gateway through the proxy"
    );
    let (mut identified, mut resumed) = (0, 0);
    while let Ok(event) = milestones.try_recv() {
        match event {
            SimEvent::Identified { .. } => identified += 1,
            SimEvent::Resumed { .. } => resumed += 1,
            _ => {}
        }
    }
    assert_eq!(
        (identified, resumed),
        (1, 1),
        "one session, resumed rather than re-identified"
    );
    run.task.abort();
    sim.shutdown().await;
}

#[tokio::test]
async fn serenity_slash_command_ephemeral_response_and_followup() {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let mut events = sim.subscribe();
    let mut run = connect(&sim, intents()).await;
    until_guild(&mut run, sim.default_guild()).await;
    let guild = GuildId::new(sim.default_guild());
    let cmd = CreateCommand::new("say")
        .description("Say something")
        .add_option(
            CreateCommandOption::new(serenity::all::CommandOptionType::String, "text", "What")
                .required(true),
        );
    let created = guild
        .set_commands(&run.http, vec![cmd])
        .await
        .expect("bulk overwrite");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].name, "say");
    let count = wait_for(&mut events, |e| match e {
        SimEvent::CommandsOverwritten {
            guild: Some(g),
            count,
        } if *g == guild.get() => Some(*count),
        _ => None,
    })
    .await;
    assert_eq!(count, 1);
    assert_eq!(sim.registered_commands(Some(guild.get()))[0]["name"], "say");

    let iid = sim
        .inject_slash(
            guild.get(),
            sim.default_channel(),
            sim.owner().id,
            "say",
            json!([{"name": "text", "type": 3, "value": "hi"}]),
        )
        .await
        .expect("slash");
    let (kind, body) = wait_for(&mut events, |e| match e {
        SimEvent::InteractionResponse {
            interaction_id,
            kind,
            body,
        } if *interaction_id == iid => Some((*kind, body.clone())),
        _ => None,
    })
    .await;
    assert_eq!(kind, 4);
    assert_eq!(body["content"], "said hi");
    assert_eq!(
        body["flags"].as_u64().map(|f| f & 64),
        Some(64),
        "ephemeral"
    );
    let follow = wait_for(&mut events, |e| match e {
        SimEvent::Followup {
            interaction_id,
            body,
            ..
        } if *interaction_id == iid => Some(body.clone()),
        _ => None,
    })
    .await;
    assert_eq!(follow["content"], "and more");
    run.task.abort();
}

#[tokio::test]
async fn serenity_button_click_updates_the_message() {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let mut events = sim.subscribe();
    let mut run = connect(&sim, intents()).await;
    until_guild(&mut run, sim.default_guild()).await;
    let asked = sim
        .inject_message(sim.default_channel(), sim.guest().id, "!buttons")
        .await
        .expect("inject");
    let message_id = wait_for(&mut events, |e| match e {
        SimEvent::BotMessage {
            reply_to: Some(r),
            message_id,
            ..
        } if *r == asked => Some(*message_id),
        _ => None,
    })
    .await;
    let iid = sim
        .inject_component(message_id, sim.guest().id, "t:yes", vec![])
        .await
        .expect("click");
    let kind = wait_for(&mut events, |e| match e {
        SimEvent::InteractionResponse {
            interaction_id,
            kind,
            ..
        } if *interaction_id == iid => Some(*kind),
        _ => None,
    })
    .await;
    assert_eq!(kind, 7);
    assert_eq!(
        sim.message(message_id).expect("message").content,
        "clicked t:yes"
    );
    run.task.abort();
}

#[tokio::test]
async fn serenity_stops_with_an_error_when_privileged_intents_are_not_enabled() {
    let sim = Simulator::start(SimConfig {
        privileged_intents_enabled: false,
        ..SimConfig::default()
    })
    .await
    .expect("start");
    let run = connect(&sim, intents()).await;
    let result = tokio::time::timeout(Duration::from_secs(20), run.task)
        .await
        .expect("the client stops")
        .expect("no panic");
    let err = result.expect_err("start fails");
    assert!(
        format!("{err:?}").contains("DisallowedGatewayIntents"),
        "serenity reports the disallowed intents: {err:?}"
    );
}

#[tokio::test]
async fn serenity_with_two_shards_answers_in_guilds_of_both() {
    let sim = Simulator::start(SimConfig {
        recommended_shards: 2,
        ..SimConfig::default()
    })
    .await
    .expect("start");
    let mut guilds = vec![sim.default_guild()];
    // Enough guilds that both shards hold some.
    while !(guilds.iter().any(|g| (g >> 22) % 2 == 0) && guilds.iter().any(|g| (g >> 22) % 2 == 1))
    {
        guilds.push(sim.add_guild(&format!("g{}", guilds.len())));
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let mut events = sim.subscribe();
    let mut milestones = sim.subscribe();
    let mut run = connect_shards(&sim, intents(), Some(2)).await;
    // serenity boots shards a few seconds apart.
    let mut missing: std::collections::HashSet<u64> = guilds.iter().copied().collect();
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(seen) = run.seen.recv().await {
            if let Seen::Guild(g) = seen {
                missing.remove(&g);
            }
            if missing.is_empty() {
                return;
            }
        }
    })
    .await
    .expect("every guild reaches the handler through its shard");
    for g in &guilds {
        let channel = sim.channels(*g)[0];
        let asked = sim
            .inject_message(channel, sim.owner().id, &format!("!echo in {g}"))
            .await
            .expect("inject");
        let body = reply_to(&mut events, asked).await;
        assert_eq!(body["content"], format!("in {g}"));
    }
    let mut shards = Vec::new();
    while let Ok(event) = milestones.try_recv() {
        if let SimEvent::Identified { shard, .. } = event {
            shards.push(shard);
        }
    }
    shards.sort_unstable();
    assert_eq!(shards, [[0, 2], [1, 2]]);
    run.task.abort();
}

#[tokio::test]
async fn a_burst_of_messages_is_answered_exactly_once_each() {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let mut events = sim.subscribe();
    let mut run = connect(&sim, intents()).await;
    until_guild(&mut run, sim.default_guild()).await;
    let channel = sim.default_channel();
    let guest = sim.guest().id;
    let mut asked = std::collections::HashSet::new();
    for i in 0..1000 {
        asked.insert(
            sim.inject_message(channel, guest, &format!("!echo {i}"))
                .await
                .expect("inject"),
        );
    }
    let mut answered = std::collections::HashMap::new();
    while answered.len() < asked.len() {
        let r = wait_for(&mut events, |e| match e {
            SimEvent::BotMessage {
                reply_to: Some(r), ..
            } => Some(*r),
            _ => None,
        })
        .await;
        *answered.entry(r).or_insert(0u32) += 1;
    }
    assert!(answered.keys().all(|k| asked.contains(k)));
    // Nothing was answered twice: count from the world, after all 1000 are in.
    let replies = sim
        .messages(channel)
        .iter()
        .filter(|m| m.reply_to.is_some())
        .count();
    assert_eq!(replies, 1000);
    run.task.abort();
}
