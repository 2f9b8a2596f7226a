//! Test fixture: a plugin whose manifest is set at build time by `FIXTURE_*` variables, so one
//! crate yields the libraries of the dependency, conflict and cycle tests.

use zoryx_plugin_api::prelude::*;

const NAME: &str = match option_env!("FIXTURE_NAME") {
    Some(name) => name,
    None => "manifest",
};

/// The fixture.
pub struct ManifestFixture;

fn list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Plugin for ManifestFixture {
    fn manifest() -> Manifest {
        let mut manifest = Manifest::new(NAME, option_env!("FIXTURE_VERSION").unwrap_or("1.0.0"));
        for dep in list(option_env!("FIXTURE_DEPS")) {
            let (name, req) = dep.split_once(':').unwrap_or((dep.as_str(), "*"));
            manifest = manifest.depends_on(name, req);
        }
        for conflict in list(option_env!("FIXTURE_CONFLICTS")) {
            manifest = manifest.conflicts_with(conflict);
        }
        manifest
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin.command(
            CommandSpec::new(format!("{NAME}_cmd")),
            |ctx: CommandContext<ManifestFixture>| async move {
                ctx.reply(NAME).await?;
                Ok(())
            },
        );
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self)
    }
}

zoryx_plugin_api::export_plugin!(ManifestFixture);
