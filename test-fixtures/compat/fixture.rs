//! The compatibility fixture, one source for three crates: each builds it against its own copy
//! of plugin-api (`old-api-plugin` → api-1.0, `newer-api-plugin` → api-1.2,
//! `broken-api-plugin` → a copy with a broken layout). Names come from the crate name.

use zoryx_plugin_api::prelude::*;

/// `old_api`, `newer_api` or `broken_api`.
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
            CommandSpec::new("hello"),
            |ctx: CommandContext<Fixture>| async move {
                let which = name().trim_end_matches("_api").to_owned();
                ctx.reply(format!("hello from {which} api")).await?;
                Ok(())
            },
        );
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self)
    }
}

zoryx_plugin_api::export_plugin!(Fixture);
