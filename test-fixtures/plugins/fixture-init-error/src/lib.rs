//! Test fixture: `init` returns an error.

use zoryx_plugin_api::prelude::*;

/// The fixture.
pub struct InitError;

impl Plugin for InitError {
    fn manifest() -> Manifest {
        Manifest::new("init_error", "1.0.0")
    }

    fn register(_plugin: &mut Registrar<Self>) {}

    async fn init(_host: Host) -> PluginResult<Self> {
        Err(PluginError::internal("database unreachable"))
    }
}

zoryx_plugin_api::export_plugin!(InitError);
