//! `hello`: the plugin template. Copy this folder, rename the crate and the manifest, and go.
//!
//! A plugin is a type implementing [`Plugin`], exported with `export_plugin!`. The host loads
//! the built library from `extensions/` and hot-reloads it whenever the file changes.

use std::sync::atomic::{AtomicU64, Ordering};

use zoryx_plugin_api::prelude::*;

/// The plugin's state. The host keeps one instance per loaded version; handlers reach it with
/// `ctx.data()`. Use atomics or a `Mutex` for anything that changes: handlers run concurrently.
#[derive(Default)]
pub struct Hello {
    greeted: AtomicU64,
}

impl Plugin for Hello {
    /// Who the plugin is. The host reads this before anything else runs.
    fn manifest() -> Manifest {
        Manifest::new("hello", env!("CARGO_PKG_VERSION"))
            .author("Zoryx")
            .description("Greets people and echoes text")
    }

    /// Everything the plugin offers. The host owns it: unloading the plugin removes it all.
    fn register(plugin: &mut Registrar<Self>) {
        plugin
            .command(
                CommandSpec::new("hello")
                    .description("Say hello to someone (or to you)")
                    // Arguments are parsed and checked by the host before the handler runs.
                    .arg(Arg::user("who").optional()),
                hello,
            )
            .command(
                CommandSpec::new("echo")
                    .description("Repeat what you say")
                    // `rest` takes everything left on the line, spaces included.
                    .arg(Arg::rest("text")),
                echo,
            );
    }

    /// Builds the state; an error here refuses the load with its message.
    async fn init(host: Host) -> PluginResult<Self> {
        // Log through the host (never `println!` or `tracing` in a plugin).
        host.info("hello is ready");
        Ok(Self::default())
    }
}

/// `!hello [who]`: greets `who`, or the caller.
async fn hello(ctx: CommandContext<Hello>) -> PluginResult {
    // An optional argument reads as an `Option`.
    let who: Option<UserId> = ctx.arg("who")?;
    let greeting = match who {
        Some(user) => format!("Hello, {}!", user.mention()),
        None => format!("Hello, {}!", ctx.author().name),
    };
    let count = ctx.data().greeted.fetch_add(1, Ordering::Relaxed) + 1;
    // `?` hands errors to the host, which reports them to the user.
    ctx.reply(format!("{greeting} ({count} greeted so far)"))
        .await?;
    Ok(())
}

/// `!echo <text...>`: says the text back.
async fn echo(ctx: CommandContext<Hello>) -> PluginResult {
    let text: String = ctx.arg("text")?;
    ctx.reply(text).await?;
    Ok(())
}

// Makes the type loadable by the host. Exactly once per plugin crate.
zoryx_plugin_api::export_plugin!(Hello);
