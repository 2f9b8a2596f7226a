//! The compatibility fixture, one source for five crates: each builds it against its own copy
//! of plugin-api (`old-api-plugin` → the frozen 1.0, `mid-api-plugin` → the frozen 1.1,
//! `last-api-plugin` → the frozen 1.2, `newer-api-plugin` → today's API one minor ahead,
//! `broken-api-plugin` → today's with a broken layout). Names come from the crate name.
//!
//! Commands (named after the plugin, so several can load together): `<name>_hello` replies
//! `hello from <which> api`; `<name>_kv` counts in the key-value store and replies the count, or
//! the error its API copy answers; `<name>_heard` replies the messages its listener was given
//! (the 1.0 layout of events for plugins built against 1.0 to 1.2, JSON from 1.3).

use std::sync::Mutex;

use zoryx_plugin_api::prelude::*;

/// `old_api`, `mid_api`, `last_api`, `newer_api` or `broken_api`.
fn name() -> String {
    env!("CARGO_PKG_NAME")
        .trim_end_matches("-plugin")
        .replace('-', "_")
}

/// The fixture: the texts of the messages its listener was given.
pub struct Fixture {
    heard: Mutex<Vec<String>>,
}

impl Plugin for Fixture {
    fn manifest() -> Manifest {
        Manifest::new(name(), "1.0.0")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin.listen(
            EventKind::MessageCreate,
            |ctx: PluginContext<Fixture>, event| async move {
                if let Event::MessageCreate(message) = event
                    && let Ok(mut heard) = ctx.data().heard.lock()
                {
                    heard.push(format!("{} by {}", message.content, message.author.name));
                }
                Ok(())
            },
        );
        plugin.command(
            CommandSpec::new(format!("{}_heard", name())),
            |ctx: CommandContext<Fixture>| async move {
                let heard = ctx
                    .data()
                    .heard
                    .lock()
                    .map(|h| h.join(", "))
                    .unwrap_or_default();
                ctx.reply(format!("heard {heard}")).await?;
                Ok(())
            },
        );
        plugin.command(
            CommandSpec::new(format!("{}_hello", name())),
            |ctx: CommandContext<Fixture>| async move {
                let which = name().trim_end_matches("_api").to_owned();
                ctx.reply(format!("hello from {which} api")).await?;
                Ok(())
            },
        );
        plugin.command(
            CommandSpec::new(format!("{}_kv", name())),
            |ctx: CommandContext<Fixture>| async move {
                let storage = ctx.storage();
                let counted = async {
                    let n: u64 = storage.get(Scope::Global, "count").await?.unwrap_or(0);
                    storage.set(Scope::Global, "count", &(n + 1)).await?;
                    PluginResult::Ok(n + 1)
                };
                let text = match counted.await {
                    Ok(n) => format!("count {n}"),
                    Err(e) => format!("error: {e}"),
                };
                ctx.reply(text).await?;
                Ok(())
            },
        );
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self {
            heard: Mutex::new(Vec::new()),
        })
    }
}

zoryx_plugin_api::export_plugin!(Fixture);
