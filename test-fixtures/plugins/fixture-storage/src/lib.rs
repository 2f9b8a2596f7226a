//! Test fixture: a plugin that uses every kind of plugin storage. Its name is set at build time
//! by `FIXTURE_NAME` (default `storage_a`), so one crate yields two plugins that must not see
//! each other's data.
//!
//! It has one command named like the plugin, taking a JSON request such as
//! `{"op": "kv_set", "scope": 5, "key": "k", "value": [1]}` and replying `{"ok": <result>}` or
//! `{"err": "<message>"}`.

use serde_json::{Value, json};
use zoryx_plugin_api::prelude::*;

const NAME: &str = match option_env!("FIXTURE_NAME") {
    Some(name) => name,
    None => "storage_a",
};

/// The fixture.
pub struct StorageFixture;

fn text<'a>(request: &'a Value, field: &str) -> PluginResult<&'a str> {
    request
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| PluginError::user(format!("`{field}` is missing")))
}

fn scope(request: &Value) -> Scope {
    match request.get("scope").and_then(Value::as_u64) {
        Some(guild) => Scope::Guild(GuildId(guild)),
        None => Scope::Global,
    }
}

fn guild(request: &Value) -> GuildId {
    GuildId(request.get("guild").and_then(Value::as_u64).unwrap_or(1))
}

async fn serve(host: &Host, request: &Value) -> PluginResult<Value> {
    let params = request.get("params").cloned().unwrap_or(Value::Null);
    let value = request.get("value").cloned().unwrap_or(Value::Null);
    Ok(match text(request, "op")? {
        "kv_get" => json!(
            host.storage()
                .get::<Value>(scope(request), text(request, "key")?)
                .await?
        ),
        "kv_set" => {
            host.storage()
                .set(scope(request), text(request, "key")?, &value)
                .await?;
            Value::Null
        }
        "kv_delete" => json!(
            host.storage()
                .delete(scope(request), text(request, "key")?)
                .await?
        ),
        "kv_keys" => json!(
            host.storage()
                .keys(scope(request), text(request, "prefix")?)
                .await?
        ),
        "sql_prefix" => json!(host.sql(guild(request)).prefix()?),
        "sql_execute" => json!(
            host.sql(guild(request))
                .execute(text(request, "sql")?, params)
                .await?
        ),
        "sql_query" => json!(
            host.sql(guild(request))
                .query(text(request, "sql")?, params)
                .await?
        ),
        "file_read" => json!(host.files().read::<Value>(text(request, "path")?).await?),
        "file_write" => {
            host.files().write(text(request, "path")?, &value).await?;
            Value::Null
        }
        "file_delete" => json!(host.files().delete(text(request, "path")?).await?),
        "file_list" => json!(host.files().list(text(request, "path")?).await?),
        other => return Err(PluginError::user(format!("unknown op `{other}`"))),
    })
}

impl Plugin for StorageFixture {
    fn manifest() -> Manifest {
        Manifest::new(NAME, "1.0.0")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin.command(
            CommandSpec::new(NAME).arg(Arg::rest("request")),
            |ctx: CommandContext<StorageFixture>| async move {
                let request: String = ctx.arg("request")?;
                let answer = match serde_json::from_str::<Value>(&request) {
                    Ok(request) => match serve(ctx.host(), &request).await {
                        Ok(value) => json!({ "ok": value }),
                        Err(error) => json!({ "err": error.to_string() }),
                    },
                    Err(error) => json!({ "err": format!("bad request: {error}") }),
                };
                ctx.reply(answer.to_string()).await?;
                Ok(())
            },
        );
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self)
    }
}

zoryx_plugin_api::export_plugin!(StorageFixture);
