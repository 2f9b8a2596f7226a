//! What plugin-api 1.3 and later minors add to a plugin's registrations, and how the host calls
//! those handlers: `PluginModule::describe_extra` returns [`Extras`] as JSON, and
//! `PluginModule::call_extra` runs one handler by [`kind`] and index, its input and output JSON.
//!
//! The repr(C) description of 1.0 stays as it was released; everything newer travels as JSON,
//! where fields can be added without changing a layout (`#[serde(default)]`: an older plugin's
//! JSON lacks the newer fields).

use abi_stable::std_types::{RResult, RString};
use serde::{Deserialize, Serialize};

use super::module::PluginModuleRef;
use super::types::{Description, ErrorFfi};
use crate::error::PluginError;
use crate::model::EventKind;

/// The kinds of handler `call_extra` runs, by name.
pub mod kind {
    /// A listener of an event kind added in 1.3 or later; input: the [`Event`](crate::Event)
    /// as JSON; output: `null`.
    pub const EVENT: &str = "event";
    /// A task on a cron schedule; input and output: `null`.
    pub const CRON: &str = "cron";
}

/// A task run on a cron schedule (UTC).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CronTask {
    /// The task's name.
    pub name: String,
    /// Its five-field cron expression.
    pub cron: String,
    /// Whether a run missed while the bot was down happens once at the next start.
    pub catch_up: bool,
}

/// Registrations added in plugin-api 1.3 and later.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Extras {
    /// Listeners of event kinds added in 1.3 or later, by index ([`kind::EVENT`]).
    pub listeners: Vec<EventKind>,
    /// Tasks on cron schedules, by index ([`kind::CRON`]).
    pub cron: Vec<CronTask>,
}

impl Extras {
    /// Whether nothing was registered here.
    pub fn is_empty(&self) -> bool {
        self.listeners.is_empty() && self.cron.is_empty()
    }
}

/// A plugin's whole description: the 1.0 layout through `describe`, then (from 1.3) the
/// [`Extras`] through `describe_extra`.
pub fn describe(module: PluginModuleRef) -> Result<Description, PluginError> {
    let ffi = (module.describe())()
        .into_result()
        .map_err(|e| PluginError::from(&e))?;
    let mut description = Description::try_from(&ffi)?;
    if let Some(extra) = module.describe_extra() {
        let json = extra().into_result().map_err(|e| PluginError::from(&e))?;
        description.extras = serde_json::from_str(json.as_str()).map_err(|e| {
            PluginError::Internal(format!("the plugin's 1.3 registrations are malformed: {e}"))
        })?;
    }
    for task in &description.extras.cron {
        crate::schedule::Cron::parse(&task.cron).map_err(|e| {
            PluginError::Internal(format!("task `{}`: cron `{}`: {e}", task.name, task.cron))
        })?;
    }
    Ok(description)
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> RResult<RString, ErrorFfi> {
    match serde_json::to_string(value) {
        Ok(json) => RResult::ROk(RString::from(json)),
        Err(e) => RResult::RErr(ErrorFfi::from(PluginError::from(e))),
    }
}
