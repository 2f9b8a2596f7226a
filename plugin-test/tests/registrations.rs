//! Registrations that do not fit together refuse the load with a message naming them.

use zoryx_plugin_api::prelude::*;
use zoryx_plugin_test::{PluginTest, TestError};

struct Unhandled;

impl Plugin for Unhandled {
    fn manifest() -> Manifest {
        Manifest::new("unhandled", "1.0.0")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin
            .command(
                CommandSpec::new("config")
                    .subcommand(CommandSpec::new("show"))
                    .subcommand(CommandSpec::new("set")),
                |_ctx: CommandContext<Unhandled>| async { Ok(()) },
            )
            .subcommand("config show", |_ctx: CommandContext<Unhandled>| async {
                Ok(())
            })
            .subcommand("config nope", |_ctx: CommandContext<Unhandled>| async {
                Ok(())
            })
            .command(
                CommandSpec::new("find").arg(Arg::text("what").autocomplete()),
                |_ctx: CommandContext<Unhandled>| async { Ok(()) },
            );
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_handlers_and_undeclared_subcommands_are_named() {
    let error = PluginTest::new::<Unhandled>().await.expect_err("refused");
    let TestError::Load(message) = error else {
        panic!("{error:?}");
    };
    for expected in [
        "subcommand `config nope` is not declared with `CommandSpec::subcommand`",
        "subcommand `config set` has no handler (`Registrar::subcommand`)",
        "option `what` of `find` autocompletes but has no handler (`Registrar::autocomplete`)",
    ] {
        assert!(message.contains(expected), "{expected}: {message}");
    }
}
