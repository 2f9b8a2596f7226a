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

/// A plugin with a dashboard page that counts its button presses.
#[derive(Default)]
struct Counter {
    pressed: std::sync::atomic::AtomicU64,
}

impl Plugin for Counter {
    fn manifest() -> Manifest {
        Manifest::new("counter", "1.0.0")
    }

    fn register(plugin: &mut Registrar<Self>) {
        use zoryx_plugin_api::panel::{Block, Panel, PanelButton, PanelContext};
        plugin.panel("count", "Count", |ctx: PanelContext<Counter>| async move {
            use std::sync::atomic::Ordering;
            let mut page = Panel::new("Count");
            if let Some(action) = ctx.action() {
                if action.name != "press" {
                    return Err(PluginError::user(format!("no action `{}`", action.name)));
                }
                let by: u64 = action.value("by").unwrap_or("1").parse().unwrap_or(1);
                ctx.data().pressed.fetch_add(by, Ordering::Relaxed);
                page.push(Block::notice(true, "Pressed."));
            }
            let shown = ctx.data().pressed.load(Ordering::Relaxed);
            Ok(page
                .block(Block::fields([(
                    format!("Pressed ({})", ctx.view("tab").unwrap_or("all")),
                    shown.to_string(),
                )]))
                .block(Block::buttons([PanelButton::new("Press", "press")])))
        });
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self::default())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dashboard_page_shows_and_takes_its_actions() {
    use zoryx_plugin_api::panel::Block;
    let bot = PluginTest::new::<Counter>().await.expect("load");
    let page = bot
        .panel("count", &[("tab", "mine")], None)
        .await
        .expect("page");
    assert_eq!(page.title, "Count");
    assert_eq!(
        page.blocks[0],
        Block::fields([("Pressed (mine)", "0".to_owned())])
    );
    let page = bot
        .panel("count", &[], Some(("press", &[("by", "3")])))
        .await
        .expect("pressed");
    assert_eq!(page.blocks[0], Block::notice(true, "Pressed."));
    assert_eq!(
        page.blocks[1],
        Block::fields([("Pressed (all)", "3".to_owned())])
    );
    let error = bot
        .panel("count", &[], Some(("explode", &[])))
        .await
        .expect_err("refused");
    assert!(error.to_string().contains("no action `explode`"), "{error}");
    assert!(matches!(
        bot.panel("nope", &[], None).await,
        Err(TestError::NoHandler(_))
    ));
}

struct BadPanels;

impl Plugin for BadPanels {
    fn manifest() -> Manifest {
        Manifest::new("badpanels", "1.0.0")
    }

    fn register(plugin: &mut Registrar<Self>) {
        use zoryx_plugin_api::panel::{Panel, PanelContext};
        let page = |_ctx: PanelContext<BadPanels>| async { Ok(Panel::new("x")) };
        plugin
            .panel("../etc", "Bad", page)
            .panel("twice", "One", page)
            .panel("twice", "Two", page);
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_or_repeated_panel_ids_refuse_the_load() {
    let error = PluginTest::new::<BadPanels>().await.expect_err("refused");
    let TestError::Load(message) = error else {
        panic!("{error:?}");
    };
    assert!(message.contains("panel id `../etc`"), "{message}");
    assert!(
        message.contains("panel `twice` is registered twice"),
        "{message}"
    );
}
