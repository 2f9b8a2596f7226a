//! Storage works in-process: a plugin's key-value, SQL and file code runs against real SQLite
//! files and real files in the test's temp folder.

use zoryx_plugin_api::prelude::*;
use zoryx_plugin_test::PluginTest;

/// Counts visits three ways: a key, a table row and a file.
struct Visits;

async fn visit(ctx: CommandContext<Visits>) -> PluginResult {
    let guild = ctx.invocation().guild_id.ok_or("guild only")?;
    let user = ctx.author().id.0;

    let storage = ctx.storage();
    let kv: u64 = storage
        .get(Scope::Guild(guild), "visits")
        .await?
        .unwrap_or(0)
        + 1;
    storage.set(Scope::Guild(guild), "visits", &kv).await?;

    let sql = ctx.sql(guild);
    let table = sql.table("visits")?;
    sql.execute(
        &format!("CREATE TABLE IF NOT EXISTS {table} (user INTEGER PRIMARY KEY, n INTEGER)"),
        (),
    )
    .await?;
    sql.execute(
        &format!(
            "INSERT INTO {table} (user, n) VALUES (?1, 1) \
             ON CONFLICT (user) DO UPDATE SET n = n + 1"
        ),
        [user],
    )
    .await?;
    let rows = sql
        .query(&format!("SELECT n FROM {table} WHERE user = ?1"), [user])
        .await?;
    let row = rows[0]["n"].as_u64().ok_or("no row")?;

    let files = ctx.files();
    let path = format!("guilds/{}.json", guild.0);
    let file = files.read::<u64>(&path).await?.unwrap_or(0) + 1;
    files.write(&path, &file).await?;

    ctx.reply(format!("{kv} {row} {file}")).await?;
    Ok(())
}

async fn sneak(ctx: CommandContext<Visits>) -> PluginResult {
    let guild = ctx.invocation().guild_id.ok_or("guild only")?;
    let sql = ctx
        .sql(guild)
        .query("SELECT * FROM guild_settings", ())
        .await;
    let file = ctx.files().read::<String>("../../main.db").await;
    ctx.reply(format!("{}\n{}", sql.is_err(), file.is_err()))
        .await?;
    Ok(())
}

impl Plugin for Visits {
    fn manifest() -> Manifest {
        Manifest::new("visits", "1.0.0")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin.command(CommandSpec::new("visit"), visit);
        plugin.command(CommandSpec::new("sneak"), sneak);
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Visits)
    }
}

fn text(replies: &[Message]) -> String {
    replies
        .iter()
        .filter_map(|m| m.content.clone())
        .collect::<Vec<_>>()
        .join("|")
}

#[tokio::test(flavor = "multi_thread")]
async fn storage_works_in_process() {
    let bot = PluginTest::new::<Visits>().await.expect("load");
    assert_eq!(text(&bot.run("visit").await.expect("visit")), "1 1 1");
    assert_eq!(text(&bot.run("visit").await.expect("visit")), "2 2 2");
    assert_eq!(text(&bot.run("sneak").await.expect("sneak")), "true\ntrue");
    let data = bot.data_dir();
    assert!(data.join("plugins/visits/guilds/1.json").is_file());
    assert!(data.join("1/guild.db").is_file());
}
