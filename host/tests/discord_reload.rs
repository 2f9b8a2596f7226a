//! `!reload` while messages stream in: each message answered exactly once, by either version.

mod support;

use std::collections::{HashMap, HashSet};

use support::bot::TestBot;
use zoryx_sim::SimEvent;

const MESSAGES: usize = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_under_load_answers_every_message_exactly_once() {
    // One member sends all 500: the default cooldown (`cooldowns.default_rate`) is off here.
    let mut bot = TestBot::start(
        &[("basic-v1.so", "basic.so")],
        r#""cooldowns": {"default_rate": 0}"#,
    )
    .await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let channel = bot.channel();
    // v2 goes in place; `!reload basic` picks it up halfway through the stream.
    bot.host.install("basic-v2.so", "basic.so");
    let mut asked = HashSet::new();
    let mut reload_id = 0;
    for i in 0..MESSAGES {
        if i == MESSAGES / 2 {
            reload_id = bot
                .sim
                .inject_message(channel, owner, "!reload basic")
                .await
                .expect("inject");
        }
        let id = bot
            .sim
            .inject_message(channel, guest, "!version")
            .await
            .expect("inject");
        asked.insert(id);
    }
    let mut answers: HashMap<u64, Vec<String>> = HashMap::new();
    let mut reloaded = false;
    while answers.len() < MESSAGES || !reloaded {
        let event = bot
            .wait_event("the remaining replies", |e| {
                matches!(
                    e,
                    SimEvent::BotMessage {
                        reply_to: Some(_),
                        ..
                    }
                )
            })
            .await;
        if let SimEvent::BotMessage {
            reply_to: Some(to),
            body,
            ..
        } = event
        {
            if to == reload_id {
                reloaded = true;
                assert_eq!(body["embeds"][0]["title"], "✅ Reloaded", "{body}");
            } else if asked.contains(&to) {
                answers
                    .entry(to)
                    .or_default()
                    .push(body["content"].as_str().unwrap_or_default().to_owned());
            }
        }
    }
    // Everything after the reload is v2.
    let after = bot.ask(guest, "!version").await;
    assert_eq!(after["content"], "v2");
    // Nothing was answered twice (the world holds every reply the bot posted).
    let mut per_message: HashMap<u64, usize> = HashMap::new();
    for message in bot.sim.messages(channel) {
        if let Some(to) = message.reply_to.filter(|to| asked.contains(to)) {
            *per_message.entry(to).or_default() += 1;
        }
    }
    assert_eq!(per_message.len(), MESSAGES);
    assert!(
        per_message.values().all(|n| *n == 1),
        "a message was answered twice"
    );
    for (id, replies) in &answers {
        assert_eq!(replies.len(), 1, "message {id}: {replies:?}");
        assert!(replies[0] == "v1" || replies[0] == "v2", "{replies:?}");
    }
    let v1 = answers.values().filter(|r| r[0] == "v1").count();
    assert!(v1 > 0, "the old version answered nothing before the reload");
    bot.shutdown().await;
}
