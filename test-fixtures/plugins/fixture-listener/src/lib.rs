//! Test fixture: a plugin that listens to every message, named at build time by `FIXTURE_NAME`,
//! so one crate yields the ten listening plugins of the Discord benchmark.

use std::sync::atomic::{AtomicU64, Ordering};

use zoryx_plugin_api::prelude::*;

const NAME: &str = match option_env!("FIXTURE_NAME") {
    Some(name) => name,
    None => "listener",
};

/// The fixture: counts the messages it has seen.
#[derive(Default)]
pub struct ListenerFixture {
    seen: AtomicU64,
}

impl Plugin for ListenerFixture {
    fn manifest() -> Manifest {
        Manifest::new(NAME, "1.0.0").description("Counts every message it sees")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin
            .listen(
                EventKind::MessageCreate,
                |ctx: PluginContext<ListenerFixture>, _event: Event| async move {
                    ctx.data().seen.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                },
            )
            .command(
                CommandSpec::new(format!("{NAME}_seen")).description("How many messages seen"),
                |ctx: CommandContext<ListenerFixture>| async move {
                    let seen = ctx.data().seen.load(Ordering::Relaxed);
                    ctx.reply(format!("{NAME} saw {seen} messages")).await?;
                    Ok(())
                },
            );
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self::default())
    }
}

zoryx_plugin_api::export_plugin!(ListenerFixture);
