//! Test fixture: `init` panics.

use zoryx_plugin_api::prelude::*;

/// The fixture.
pub struct InitPanic;

impl Plugin for InitPanic {
    fn manifest() -> Manifest {
        Manifest::new("init_panic", "1.0.0")
    }

    fn register(_plugin: &mut Registrar<Self>) {}

    async fn init(_host: Host) -> PluginResult<Self> {
        panic!("init exploded")
    }
}

zoryx_plugin_api::export_plugin!(InitPanic);
