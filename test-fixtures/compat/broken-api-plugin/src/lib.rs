//! Compatibility fixture built against the api-broken copy of plugin-api.

use zoryx_plugin_api::prelude::*;

/// The fixture.
pub struct Fixture;

impl Plugin for Fixture {
    fn manifest() -> Manifest {
        Manifest::new("broken_api", "1.0.0")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin.command(
            CommandSpec::new("hello"),
            |ctx: CommandContext<Fixture>| async move {
                ctx.reply("hello from broken api").await?;
                Ok(())
            },
        );
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self)
    }
}

zoryx_plugin_api::export_plugin!(Fixture);
