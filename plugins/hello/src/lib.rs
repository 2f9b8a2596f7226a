//! `hello`: the plugin template. Copy this folder, rename the crate and the manifest, and go.

use std::sync::atomic::{AtomicU64, Ordering};

use zoryx_plugin_api::prelude::*;

/// The plugin's state. The host keeps one instance per loaded version.
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
                    .arg(Arg::user("who").optional()),
                hello,
            )
            .command(
                CommandSpec::new("echo")
                    .description("Repeat what you say")
                    .arg(Arg::rest("text")),
                echo,
            );
    }

    /// Builds the state; an error here refuses the load with its message.
    async fn init(host: Host) -> PluginResult<Self> {
        host.info("hello is ready");
        Ok(Self::default())
    }
}

/// `!hello [who]`
async fn hello(ctx: CommandContext<Hello>) -> PluginResult {
    let who: Option<UserId> = ctx.arg("who")?;
    let greeting = match who {
        Some(user) => format!("Hello, {}!", user.mention()),
        None => format!("Hello, {}!", ctx.author().name),
    };
    let count = ctx.data().greeted.fetch_add(1, Ordering::Relaxed) + 1;
    ctx.reply(format!("{greeting} ({count} greeted so far)"))
        .await?;
    Ok(())
}

/// `!echo <text...>`
async fn echo(ctx: CommandContext<Hello>) -> PluginResult {
    let text: String = ctx.arg("text")?;
    ctx.reply(text).await?;
    Ok(())
}

// Makes the type loadable by the host.
zoryx_plugin_api::export_plugin!(Hello);
