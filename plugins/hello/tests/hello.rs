//! The template's tests: run the plugin in-process with zoryx-plugin-test.

use hello::Hello;
use zoryx_plugin_test::{PluginTest, TestError};

#[tokio::test(flavor = "multi_thread")]
async fn greets_and_counts() {
    let bot = PluginTest::new::<Hello>().await.expect("loads");
    let replies = bot.run("hello <@42>").await.expect("hello");
    assert_eq!(
        replies[0].content.as_deref(),
        Some("Hello, <@42>! (1 greeted so far)")
    );
    let replies = bot.run("hello").await.expect("hello");
    assert_eq!(
        replies[0].content.as_deref(),
        Some("Hello, tester! (2 greeted so far)")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn echo_needs_text() {
    let bot = PluginTest::new::<Hello>().await.expect("loads");
    let replies = bot.run("echo  spaced   out ").await.expect("echo");
    assert_eq!(replies[0].content.as_deref(), Some("spaced   out"));
    match bot.run("echo").await {
        Err(TestError::BadArguments { usage, .. }) => assert_eq!(usage, "!echo <text: text...>"),
        other => panic!("{other:?}"),
    }
}
