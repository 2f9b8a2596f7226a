//! What plugin-api 1.3 and later minors add to a plugin's registrations, and how the host calls
//! those handlers: `PluginModule::describe_extra` returns [`Extras`] as JSON, and
//! `PluginModule::call_extra` runs one handler by [`kind`] and index, its input and output JSON.
//!
//! The repr(C) description of 1.0 stays as it was released; everything newer travels as JSON,
//! where fields can be added without changing a layout (`#[serde(default)]`: an older plugin's
//! JSON lacks the newer fields).

use std::collections::BTreeMap;

use abi_stable::std_types::{RResult, RString};
use serde::{Deserialize, Serialize};

use super::module::PluginModuleRef;
use super::types::{Description, ErrorFfi};
use crate::command::{Arg, Choice, CommandSpec, Number};
use crate::error::PluginError;
use crate::guild::ChannelKind;
use crate::interaction::ContextMenu;
use crate::model::EventKind;
use crate::permissions::Permissions;

/// The kinds of handler `call_extra` runs, by name.
pub mod kind {
    /// A listener (from 1.3 every listener, of any event kind); input: the
    /// [`Event`](crate::Event) as JSON; output: `null`.
    pub const EVENT: &str = "event";
    /// An autocomplete handler ([`Extras::autocompletes`](super::Extras::autocompletes)); input: an
    /// [`AutocompleteRequest`](crate::AutocompleteRequest); the handler's suggestions go to
    /// the call's reply route as [`CallAction::Autocomplete`](crate::CallAction::Autocomplete);
    /// output: `null`.
    pub const AUTOCOMPLETE: &str = "autocomplete";
    /// A modal submission handler ([`Extras::modals`](super::Extras::modals)); input: a
    /// [`ModalSubmit`](crate::ModalSubmit); replies go to the call's route; output: `null`.
    pub const MODAL: &str = "modal";
    /// A context menu command ([`Extras::context_menus`](super::Extras::context_menus)); input: a
    /// [`MenuCall`](super::MenuCall); replies go to the call's route; output: `null`.
    pub const CONTEXT_MENU: &str = "context_menu";
    /// A task on a cron schedule; input and output: `null`.
    pub const CRON: &str = "cron";
    /// A dashboard panel ([`Extras::panels`](super::Extras::panels)); input: a
    /// [`PanelRequest`](crate::panel::PanelRequest); the page goes to the call's reply route as
    /// [`CallAction::Panel`](crate::CallAction::Panel); output: `null`.
    pub const PANEL: &str = "panel";
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
    /// The plugin's listeners, by index ([`kind::EVENT`]): all of them, of any event kind
    /// (a 1.3 plugin's 1.0 list of listeners is empty).
    pub listeners: Vec<EventKind>,
    /// What 1.3 added to commands (choices, ranges, subcommands, permissions...), by the
    /// command's index in the description; commands without any are left out.
    pub commands: BTreeMap<u32, CommandExtras>,
    /// Autocomplete handlers, by index ([`kind::AUTOCOMPLETE`]).
    pub autocompletes: Vec<AutocompleteSpec>,
    /// Modal `custom_id` prefixes, by index ([`kind::MODAL`]).
    pub modals: Vec<String>,
    /// Context menu commands, by index ([`kind::CONTEXT_MENU`]).
    pub context_menus: Vec<ContextMenu>,
    /// Tasks on cron schedules, by index ([`kind::CRON`]).
    pub cron: Vec<CronTask>,
    /// The keys of the plugin's own config section (`plugins.<name>`).
    pub settings: Vec<crate::settings::Setting>,
    /// Pages of the host's web dashboard, by index ([`kind::PANEL`]).
    pub panels: Vec<crate::panel::PanelSpec>,
}

impl Extras {
    /// Whether nothing was registered here.
    pub fn is_empty(&self) -> bool {
        self.listeners.is_empty()
            && self.commands.is_empty()
            && self.autocompletes.is_empty()
            && self.modals.is_empty()
            && self.context_menus.is_empty()
            && self.cron.is_empty()
            && self.settings.is_empty()
            && self.panels.is_empty()
    }
}

/// Which option of which command an autocomplete handler suggests values for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutocompleteSpec {
    /// The command's path (`search`, `config set`).
    pub command: String,
    /// The option's name.
    pub option: String,
}

/// The 1.3 fields of one argument ([`Arg`]'s rules past the 1.0 layout).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ArgExtras {
    /// [`Arg::choices`].
    pub choices: Vec<Choice>,
    /// [`Arg::min`].
    pub min: Option<Number>,
    /// [`Arg::max`].
    pub max: Option<Number>,
    /// [`Arg::min_length`].
    pub min_length: Option<u16>,
    /// [`Arg::max_length`].
    pub max_length: Option<u16>,
    /// [`Arg::channel_types`].
    pub channel_types: Vec<ChannelKind>,
    /// [`Arg::autocomplete`].
    pub autocomplete: bool,
    /// [`Arg::attachment`].
    pub attachment: bool,
}

impl ArgExtras {
    fn of(arg: &Arg) -> Self {
        Self {
            choices: arg.choices.clone(),
            min: arg.min,
            max: arg.max,
            min_length: arg.min_length,
            max_length: arg.max_length,
            channel_types: arg.channel_types.clone(),
            autocomplete: arg.autocomplete,
            attachment: arg.attachment,
        }
    }

    fn apply(self, arg: &mut Arg) {
        arg.choices = self.choices;
        arg.min = self.min;
        arg.max = self.max;
        arg.min_length = self.min_length;
        arg.max_length = self.max_length;
        arg.channel_types = self.channel_types;
        arg.autocomplete = self.autocomplete;
        arg.attachment = self.attachment;
    }
}

/// The 1.3 fields of one command ([`CommandSpec`] past the 1.0 layout of
/// [`CommandSpecFfi`](super::types::CommandSpecFfi)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommandExtras {
    /// Its arguments' rules, in declaration order.
    pub args: Vec<ArgExtras>,
    /// [`CommandSpec::subcommands`] (whole, nested).
    pub subcommands: Vec<CommandSpec>,
    /// [`CommandSpec::default_permissions`].
    pub default_permissions: Option<Permissions>,
    /// [`CommandSpec::dm`].
    pub dm: bool,
}

impl Default for CommandExtras {
    fn default() -> Self {
        Self {
            args: Vec::new(),
            subcommands: Vec::new(),
            default_permissions: None,
            dm: true,
        }
    }
}

impl CommandExtras {
    /// The 1.3 fields of `spec`; `None` when it has none.
    pub fn of(spec: &CommandSpec) -> Option<Self> {
        let args: Vec<ArgExtras> = spec.args.iter().map(ArgExtras::of).collect();
        let extras = Self {
            args: if args.iter().all(|a| *a == ArgExtras::default()) {
                Vec::new()
            } else {
                args
            },
            subcommands: spec.subcommands.clone(),
            default_permissions: spec.default_permissions,
            dm: spec.dm,
        };
        (extras != Self::default()).then_some(extras)
    }

    /// Puts the 1.3 fields back on the command read from the 1.0 layout.
    pub fn apply(self, spec: &mut CommandSpec) {
        for (arg, extras) in spec.args.iter_mut().zip(self.args) {
            extras.apply(arg);
        }
        spec.subcommands = self.subcommands;
        spec.default_permissions = self.default_permissions;
        spec.dm = self.dm;
    }
}

/// The input of a context menu command ([`kind::CONTEXT_MENU`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuCall {
    /// Who ran it, where (`command` is the menu's name).
    pub invocation: crate::model::Invocation,
    /// On what.
    pub target: crate::interaction::MenuTarget,
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
        for (index, extras) in std::mem::take(&mut description.extras.commands) {
            let spec = description
                .commands
                .get_mut(index as usize)
                .ok_or_else(|| {
                    PluginError::Internal(format!("1.3 registrations name no command {index}"))
                })?;
            extras.apply(spec);
        }
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
