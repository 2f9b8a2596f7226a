//! Test fixture: a plugin that pins its own library.
//!
//! A `thread_local!` with a destructor, touched on a host thread, registers that destructor with
//! the thread. `dlclose` then cannot unmap the library while the thread lives. The host must
//! report this library as pinned after unload rather than pretend it is gone.

use std::cell::RefCell;

use zoryx_plugin_api::prelude::*;

struct Noisy(Vec<u8>);

impl Drop for Noisy {
    fn drop(&mut self) {
        self.0.clear();
    }
}

thread_local! {
    static SCRATCH: RefCell<Noisy> = const { RefCell::new(Noisy(Vec::new())) };
}

/// The fixture.
pub struct Pinning;

impl Plugin for Pinning {
    fn manifest() -> Manifest {
        Manifest::new("pinning", "1.0.0")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin.command(
            CommandSpec::new("touch"),
            |ctx: CommandContext<Pinning>| async move {
                SCRATCH.with(|s| s.borrow_mut().0.push(1));
                ctx.reply("touched").await?;
                Ok(())
            },
        );
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self)
    }
}

zoryx_plugin_api::export_plugin!(Pinning);
