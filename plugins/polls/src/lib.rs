//! `polls`: quick polls with buttons. Shows typed arguments, a cooldown, a permission level,
//! buttons routed back to the plugin, ephemeral replies and a custom event.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::json;
use zoryx_plugin_api::prelude::*;

struct Poll {
    question: String,
    options: Vec<String>,
    votes: HashMap<UserId, usize>,
    open: bool,
}

impl Poll {
    fn tally(&self) -> Vec<(String, usize)> {
        self.options
            .iter()
            .enumerate()
            .map(|(i, option)| {
                (
                    option.clone(),
                    self.votes.values().filter(|v| **v == i).count(),
                )
            })
            .collect()
    }

    fn embed(&self, id: u64) -> Embed {
        let mut embed = Embed::new()
            .title(&self.question)
            .colour(if self.open { 0x5865F2 } else { 0x99AAB5 })
            .footer(format!(
                "poll #{id}{}",
                if self.open { "" } else { " (closed)" }
            ));
        for (option, votes) in self.tally() {
            embed = embed.field(option, format!("{votes} vote(s)"), true);
        }
        embed
    }
}

/// Open and closed polls.
#[derive(Default)]
pub struct Polls {
    next: AtomicU64,
    polls: Mutex<HashMap<u64, Poll>>,
}

impl Polls {
    fn polls(&self) -> PluginResult<MutexGuard<'_, HashMap<u64, Poll>>> {
        self.polls
            .lock()
            .map_err(|_| PluginError::internal("poll state is unavailable"))
    }
}

impl Plugin for Polls {
    fn manifest() -> Manifest {
        Manifest::new("polls", env!("CARGO_PKG_VERSION"))
            .author("Zoryx")
            .description("Polls with buttons")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin
            .command(
                CommandSpec::new("poll")
                    .description("Start a poll: !poll \"Question?\" yes | no | maybe")
                    .category("community")
                    .arg(Arg::text("question"))
                    .arg(Arg::rest("options").description("2 to 5 options separated by |"))
                    .cooldown(1, Duration::from_secs(10)),
                start_poll,
            )
            .command(
                CommandSpec::new("closepoll")
                    .description("Close a poll and announce the result")
                    .category("community")
                    .arg(Arg::integer("id"))
                    .permission(Permission::Moderator),
                close_poll,
            )
            .component("polls:", vote);
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self::default())
    }
}

async fn start_poll(ctx: CommandContext<Polls>) -> PluginResult {
    let question: String = ctx.arg("question")?;
    let options: String = ctx.arg("options")?;
    let options: Vec<String> = options
        .split('|')
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    if !(2..=5).contains(&options.len()) {
        return Err(PluginError::user("give 2 to 5 options separated by `|`"));
    }
    // Discord caps button labels at 80 characters.
    if options.iter().any(|o| o.chars().count() > 80) {
        return Err(PluginError::user(
            "each option must be at most 80 characters",
        ));
    }
    let id = ctx.data().next.fetch_add(1, Ordering::Relaxed) + 1;
    let poll = Poll {
        question,
        options,
        votes: HashMap::new(),
        open: true,
    };
    let mut message = Message::new().embed(poll.embed(id));
    for (i, option) in poll.options.iter().enumerate() {
        message = message.button(Button::new(format!("polls:{id}:{i}"), option));
    }
    ctx.data().polls()?.insert(id, poll);
    ctx.reply(message).await?;
    Ok(())
}

async fn vote(ctx: ComponentContext<Polls>) -> PluginResult {
    let interaction = ctx.interaction();
    let mut parts = interaction.name.split(':').skip(1);
    let (Some(Ok(id)), Some(Ok(option))) = (
        parts.next().map(str::parse::<u64>),
        parts.next().map(str::parse::<usize>),
    ) else {
        return Err(PluginError::user("this button does not belong to a poll"));
    };
    let reply = {
        let mut polls = ctx.data().polls()?;
        let poll = polls
            .get_mut(&id)
            .ok_or_else(|| PluginError::user(format!("poll #{id} no longer exists")))?;
        if !poll.open {
            return Err(PluginError::user(format!("poll #{id} is closed")));
        }
        if option >= poll.options.len() {
            return Err(PluginError::user("unknown option"));
        }
        poll.votes.insert(interaction.user.id, option);
        Message::new().embed(poll.embed(id)).ephemeral()
    };
    ctx.reply(reply).await?;
    Ok(())
}

async fn close_poll(ctx: CommandContext<Polls>) -> PluginResult {
    let id: u64 = ctx.arg("id")?;
    let (embed, tally, question) = {
        let mut polls = ctx.data().polls()?;
        let poll = polls
            .get_mut(&id)
            .ok_or_else(|| PluginError::user(format!("no poll #{id}")))?;
        if !poll.open {
            return Err(PluginError::user(format!("poll #{id} is already closed")));
        }
        poll.open = false;
        (poll.embed(id), poll.tally(), poll.question.clone())
    };
    let winner = winner(&tally);
    let result = match winner {
        Some(option) => format!("Winner: **{option}**"),
        None => "No winner (no votes, or a tie).".to_owned(),
    };
    let tally_json: Vec<_> = tally
        .iter()
        .map(|(option, votes)| json!({"option": option, "votes": votes}))
        .collect();
    // Any plugin can react with a hook on `poll_closed`.
    ctx.emit(
        "poll_closed",
        json!({"id": id, "question": question, "winner": winner, "tally": tally_json}),
    )
    .await?;
    ctx.reply(Message::text(format!("Poll #{id} closed.")).embed(embed.description(result)))
        .await?;
    Ok(())
}

/// The option with the most votes, if it has any and no other option ties with it.
fn winner(tally: &[(String, usize)]) -> Option<&str> {
    let best = tally
        .iter()
        .map(|(_, votes)| *votes)
        .max()
        .filter(|v| *v > 0)?;
    let mut leaders = tally.iter().filter(|(_, votes)| *votes == best);
    match (leaders.next(), leaders.next()) {
        (Some((option, _)), None) => Some(option),
        _ => None,
    }
}

zoryx_plugin_api::export_plugin!(Polls);
