//! An immutable snapshot of what every loaded generation registered, swapped as a whole when a
//! plugin is loaded, unloaded or reloaded. Calls look routes up here without locks.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use zoryx_plugin_api::{ContextMenuKind, EventKind};

use super::generation::Generation;

/// A registered handler: which generation, which index.
#[derive(Clone, Debug)]
pub struct Route {
    /// The generation that registered it.
    pub generation: Arc<Generation>,
    /// Its index in the generation's description.
    pub index: u32,
}

/// A hook route with its priority.
#[derive(Clone, Debug)]
pub struct HookRoute {
    /// Where it goes.
    pub route: Route,
    /// Higher runs first.
    pub priority: i32,
}

/// The routing snapshot.
#[derive(Debug, Default)]
pub struct Table {
    /// Live generations by plugin name.
    pub plugins: BTreeMap<String, Arc<Generation>>,
    commands: HashMap<String, Route>,
    listeners: HashMap<EventKind, Vec<Route>>,
    hooks: HashMap<String, Vec<HookRoute>>,
    components: Vec<(String, Route)>,
    /// Autocomplete handlers by (command path, lowercase; option).
    autocompletes: HashMap<(String, String), Route>,
    /// Modal handlers by `custom_id` prefix, longest first.
    modals: Vec<(String, Route)>,
    /// Context menu commands by kind and name.
    context_menus: HashMap<(ContextMenuKind, String), Route>,
}

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl Table {
    /// Builds the routes of `plugins`.
    pub fn build(plugins: BTreeMap<String, Arc<Generation>>) -> Self {
        let mut table = Self::default();
        for generation in plugins.values() {
            let d = &generation.description;
            let route = |i: usize| Route {
                generation: Arc::clone(generation),
                index: index(i),
            };
            for (i, spec) in d.commands.iter().enumerate() {
                for name in std::iter::once(&spec.name).chain(&spec.aliases) {
                    table
                        .commands
                        .entry(name.to_lowercase())
                        .or_insert_with(|| route(i));
                }
            }
            for (i, kind) in d.listeners.iter().enumerate() {
                table.listeners.entry(*kind).or_default().push(route(i));
            }
            // The listeners of `Extras` (all of a 1.3 plugin's, whose 1.0 list is empty) come
            // after the 1.0 ones, by index.
            for (i, kind) in d.extras.listeners.iter().enumerate() {
                let i = d.listeners.len() + i;
                table.listeners.entry(*kind).or_default().push(route(i));
            }
            for (i, (event, priority)) in d.hooks.iter().enumerate() {
                table
                    .hooks
                    .entry(event.clone())
                    .or_default()
                    .push(HookRoute {
                        route: route(i),
                        priority: *priority,
                    });
            }
            for (i, prefix) in d.components.iter().enumerate() {
                table.components.push((prefix.clone(), route(i)));
            }
            for (i, target) in d.extras.autocompletes.iter().enumerate() {
                table
                    .autocompletes
                    .entry((target.command.to_lowercase(), target.option.clone()))
                    .or_insert_with(|| route(i));
            }
            for (i, prefix) in d.extras.modals.iter().enumerate() {
                table.modals.push((prefix.clone(), route(i)));
            }
            for (i, menu) in d.extras.context_menus.iter().enumerate() {
                table
                    .context_menus
                    .entry((menu.kind, menu.name.clone()))
                    .or_insert_with(|| route(i));
            }
        }
        for hooks in table.hooks.values_mut() {
            hooks.sort_by(|a, b| {
                b.priority
                    .cmp(&a.priority)
                    .then_with(|| a.route.generation.name.cmp(&b.route.generation.name))
            });
        }
        table
            .components
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        table
            .modals
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        table.plugins = plugins;
        table
    }

    /// The command registered under `name` or an alias (case-insensitive).
    pub fn command(&self, name: &str) -> Option<&Route> {
        match self.commands.get(name) {
            Some(route) => Some(route),
            None => self.commands.get(&name.to_lowercase()),
        }
    }

    /// Listeners of one event kind.
    pub fn listeners(&self, kind: EventKind) -> &[Route] {
        self.listeners.get(&kind).map_or(&[], Vec::as_slice)
    }

    /// Hooks of one named event, highest priority first.
    pub fn hooks(&self, event: &str) -> &[HookRoute] {
        self.hooks.get(event).map_or(&[], Vec::as_slice)
    }

    /// Every hook, by event name (sorted), highest priority first within an event.
    pub fn all_hooks(&self) -> Vec<(&str, &HookRoute)> {
        let mut all: Vec<(&str, &HookRoute)> = self
            .hooks
            .iter()
            .flat_map(|(event, routes)| routes.iter().map(move |r| (event.as_str(), r)))
            .collect();
        all.sort_by(|a, b| a.0.cmp(b.0).then(b.1.priority.cmp(&a.1.priority)));
        all
    }

    /// The component handler for a `custom_id` (longest matching prefix).
    pub fn component(&self, custom_id: &str) -> Option<&Route> {
        self.components
            .iter()
            .find(|(prefix, _)| custom_id.starts_with(prefix.as_str()))
            .map(|(_, route)| route)
    }

    /// The autocomplete handler of option `option` of command `command` (a path for
    /// subcommands).
    pub fn autocomplete(&self, command: &str, option: &str) -> Option<&Route> {
        self.autocompletes
            .get(&(command.to_lowercase(), option.to_owned()))
    }

    /// The modal handler for a `custom_id` (longest matching prefix).
    pub fn modal(&self, custom_id: &str) -> Option<&Route> {
        self.modals
            .iter()
            .find(|(prefix, _)| custom_id.starts_with(prefix.as_str()))
            .map(|(_, route)| route)
    }

    /// The context menu command of `kind` named `name`.
    pub fn context_menu(&self, kind: ContextMenuKind, name: &str) -> Option<&Route> {
        self.context_menus.get(&(kind, name.to_owned()))
    }

    /// Every command name and alias, lowercase, with the plugin that owns it.
    pub fn command_owners(&self) -> impl Iterator<Item = (&str, &str)> {
        self.commands
            .iter()
            .map(|(name, route)| (name.as_str(), route.generation.name.as_str()))
    }
}
