//! The compatibility fixture, one source for five crates: each builds it against its own copy
//! of plugin-api (`old-api-plugin` → the frozen 1.0, `mid-api-plugin` → the frozen 1.1,
//! `last-api-plugin` → the frozen 1.2, `newer-api-plugin` → today's API one minor ahead,
//! `broken-api-plugin` → today's with a broken layout). Names come from the crate name.
//!
//! Commands (named after the plugin, so several can load together): `<name>_hello` replies
//! `hello from <which> api`; `<name>_kv` counts in the key-value store and replies the count, or
//! the error its API copy answers.

use zoryx_plugin_api::prelude::*;

/// `old_api`, `mid_api`, `last_api`, `newer_api` or `broken_api`.
fn name() -> String {
    env!("CARGO_PKG_NAME")
        .trim_end_matches("-plugin")
        .replace('-', "_")
}

/// The fixture.
pub struct Fixture;

impl Plugin for Fixture {
    fn manifest() -> Manifest {
        Manifest::new(name(), "1.0.0")
    }

    fn register(plugin: &mut Registrar<Self>) {
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
        Ok(Self)
    }
}

zoryx_plugin_api::export_plugin!(Fixture);
