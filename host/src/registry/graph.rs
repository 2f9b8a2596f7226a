//! The dependency graph: load order, cycles and dependents, with petgraph.
//!
//! An edge `a → b` means "`a` depends on `b`", so a cycle path reads the way it is reported:
//! `a -> b -> c -> a`. Dependencies on plugins outside the set are not edges.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graphmap::DiGraphMap;
use petgraph::visit::{Dfs, Reversed};

use super::PluginManifest;

/// The dependency graph among a set of manifests; nodes are plugin names.
type DepGraph<'a> = DiGraphMap<&'a str, ()>;

/// In which order to load a set of plugins, and what cannot be ordered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadPlan {
    /// Dependencies before dependents; ties broken by name. Holds neither cycle members nor
    /// plugins that depend on one.
    pub order: Vec<String>,
    /// Every dependency cycle as its path, the first node repeated at the end
    /// (`["a", "b", "c", "a"]` for `a -> b -> c -> a`), starting at its smallest name.
    /// Every member of a cycle appears in at least one of them.
    pub cycles: Vec<Vec<String>>,
    /// Plugins outside any cycle that depend, directly or not, on a cycle member, in
    /// topological order (they can only load once the cycle is broken).
    pub blocked: Vec<String>,
}

impl LoadPlan {
    /// Whether `name` is a member of a dependency cycle.
    pub fn in_cycle(&self, name: &str) -> bool {
        self.cycles
            .iter()
            .any(|cycle| cycle.iter().any(|n| n == name))
    }
}

/// Computes the load order of `candidates` and the cycles among them.
pub fn load_order(candidates: &[PluginManifest]) -> LoadPlan {
    let refs: Vec<&PluginManifest> = candidates.iter().collect();
    plan(&refs)
}

/// [`load_order`] over borrowed manifests.
pub(super) fn plan(manifests: &[&PluginManifest]) -> LoadPlan {
    let graph = build(manifests);
    let (cycles, members) = cycles(&graph);
    let sorted = topological(&graph, &members);
    let blocked_set = reaching(&graph, &members);
    let (blocked, order) = sorted
        .into_iter()
        .partition(|name| blocked_set.contains(name.as_str()));
    LoadPlan {
        order,
        cycles,
        blocked,
    }
}

/// Every plugin in `loaded` that depends on `name`, directly or not, dependencies first.
/// Should dependents form cycles among themselves, their members follow the ordered ones,
/// then the plugins depending on them.
pub(super) fn dependents(name: &str, loaded: &[&PluginManifest]) -> Vec<String> {
    let mut graph = build(loaded);
    graph.add_node(name);
    let mut found: BTreeSet<&str> = BTreeSet::new();
    let mut dfs = Dfs::new(Reversed(&graph), name);
    while let Some(node) = dfs.next(Reversed(&graph)) {
        if node != name {
            found.insert(node);
        }
    }
    let subset: Vec<&PluginManifest> = loaded
        .iter()
        .copied()
        .filter(|m| found.contains(m.name.as_str()))
        .collect();
    flatten(plan(&subset))
}

/// A plan as one sequence: the order, then cycle members (by name), then the blocked plugins.
fn flatten(plan: LoadPlan) -> Vec<String> {
    let members: BTreeSet<String> = plan.cycles.into_iter().flatten().collect();
    let mut all = plan.order;
    all.extend(members);
    all.extend(plan.blocked);
    all
}

/// The shortest cycle through `start`, canonical (see [`canonical`]), if there is one.
pub(super) fn cycle_through(start: &str, manifests: &[&PluginManifest]) -> Option<Vec<String>> {
    let graph = build(manifests);
    shortest_cycle(&graph, start).map(|path| canonical(&path))
}

/// Builds the graph, nodes and edges inserted in name order so iteration is deterministic.
fn build<'a>(manifests: &[&'a PluginManifest]) -> DepGraph<'a> {
    let mut sorted: Vec<&'a PluginManifest> = manifests.to_vec();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut graph = DepGraph::new();
    for manifest in &sorted {
        graph.add_node(manifest.name.as_str());
    }
    for manifest in &sorted {
        for dependency in manifest.dependencies.keys() {
            if graph.contains_node(dependency.as_str()) {
                graph.add_edge(manifest.name.as_str(), dependency.as_str(), ());
            }
        }
    }
    graph
}

/// The cycles of `graph` and the set of their members.
///
/// For every strongly connected component that holds a cycle, the shortest cycle through its
/// smallest member not yet covered is reported, until every member is covered.
fn cycles<'a>(graph: &DepGraph<'a>) -> (Vec<Vec<String>>, BTreeSet<&'a str>) {
    let mut paths = Vec::new();
    let mut members = BTreeSet::new();
    for component in tarjan_scc(graph) {
        if !is_cyclic(graph, &component) {
            continue;
        }
        let component: BTreeSet<&str> = component.into_iter().collect();
        let mut covered: BTreeSet<&str> = BTreeSet::new();
        for &start in &component {
            if covered.contains(start) {
                continue;
            }
            if let Some(path) = shortest_cycle(graph, start) {
                covered.extend(path.iter().copied());
                paths.push(canonical(&path));
            }
        }
        members.extend(component);
    }
    paths.sort();
    paths.dedup();
    (paths, members)
}

/// Whether a strongly connected component holds a cycle: more than one node, or a self-loop.
fn is_cyclic(graph: &DepGraph<'_>, component: &[&str]) -> bool {
    match component {
        [single] => graph.contains_edge(single, single),
        _ => !component.is_empty(),
    }
}

/// The shortest path from `start` back to `start` following "depends on" edges, as
/// `[start, …, start]`. Breadth-first, neighbours in name order, so the result is deterministic.
fn shortest_cycle<'a>(graph: &DepGraph<'a>, start: &'a str) -> Option<Vec<&'a str>> {
    if !graph.contains_node(start) {
        return None;
    }
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for next in sorted_neighbours(graph, node, Direction::Outgoing) {
            if next == start {
                return Some(path_back(&parent, start, node));
            }
            if !parent.contains_key(next) {
                parent.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    None
}

/// Rebuilds `[start, …, last, start]` from the breadth-first parents of `last`.
fn path_back<'a>(
    parent: &BTreeMap<&'a str, &'a str>,
    start: &'a str,
    last: &'a str,
) -> Vec<&'a str> {
    let mut reversed = vec![start, last];
    let mut node = last;
    while node != start {
        match parent.get(node) {
            Some(&previous) => {
                reversed.push(previous);
                node = previous;
            }
            None => break,
        }
    }
    reversed.reverse();
    reversed
}

/// A cycle path rotated to start at its smallest name, the first node repeated at the end.
fn canonical(path: &[&str]) -> Vec<String> {
    let ring = match path.split_last() {
        Some((_, ring)) if !ring.is_empty() => ring,
        _ => return path.iter().map(|s| (*s).to_owned()).collect(),
    };
    let first = ring
        .iter()
        .enumerate()
        .min_by_key(|(_, name)| **name)
        .map_or(0, |(index, _)| index);
    let mut rotated: Vec<String> = ring[first..]
        .iter()
        .chain(&ring[..first])
        .map(|s| (*s).to_owned())
        .collect();
    rotated.push(rotated[0].clone());
    rotated
}

/// The neighbours of `node` in one direction, in name order (a self-loop included).
fn sorted_neighbours<'a>(
    graph: &DepGraph<'a>,
    node: &'a str,
    direction: Direction,
) -> Vec<&'a str> {
    let mut neighbours: Vec<&str> = graph.neighbors_directed(node, direction).collect();
    neighbours.sort_unstable();
    neighbours.dedup();
    neighbours
}

/// Kahn's algorithm over the nodes outside `excluded`, always taking the smallest ready name.
fn topological(graph: &DepGraph<'_>, excluded: &BTreeSet<&str>) -> Vec<String> {
    let mut waiting: BTreeMap<&str, usize> = graph
        .nodes()
        .filter(|node| !excluded.contains(node))
        .map(|node| {
            let deps = graph
                .neighbors_directed(node, Direction::Outgoing)
                .filter(|dep| !excluded.contains(dep))
                .count();
            (node, deps)
        })
        .collect();
    let mut ready: BTreeSet<&str> = waiting
        .iter()
        .filter(|(_, deps)| **deps == 0)
        .map(|(node, _)| *node)
        .collect();
    let mut order = Vec::with_capacity(waiting.len());
    while let Some(node) = ready.pop_first() {
        order.push(node.to_owned());
        for dependent in sorted_neighbours(graph, node, Direction::Incoming) {
            if let Some(deps) = waiting.get_mut(dependent) {
                *deps = deps.saturating_sub(1);
                if *deps == 0 {
                    ready.insert(dependent);
                }
            }
        }
    }
    order
}

/// The nodes outside `targets` that depend, directly or not, on a node of `targets`.
fn reaching<'a>(graph: &DepGraph<'a>, targets: &BTreeSet<&'a str>) -> BTreeSet<&'a str> {
    let mut found = BTreeSet::new();
    let mut stack: Vec<&str> = targets.iter().copied().collect();
    while let Some(node) = stack.pop() {
        for dependent in graph.neighbors_directed(node, Direction::Incoming) {
            if !targets.contains(dependent) && found.insert(dependent) {
                stack.push(dependent);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(name: &str, deps: &[&str]) -> PluginManifest {
        let mut m = PluginManifest::new(name, semver::Version::new(1, 0, 0));
        m.dependencies = deps
            .iter()
            .map(|d| ((*d).to_owned(), semver::VersionReq::STAR))
            .collect();
        m
    }

    fn diamond() -> Vec<PluginManifest> {
        vec![
            manifest("d", &["b", "c"]),
            manifest("c", &["a"]),
            manifest("b", &["a"]),
            manifest("a", &[]),
        ]
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn diamond_loads_dependencies_first() {
        let plan = load_order(&diamond());
        assert_eq!(plan.order, strings(&["a", "b", "c", "d"]));
        assert!(plan.cycles.is_empty());
        assert!(plan.blocked.is_empty());
    }

    #[test]
    fn ties_are_broken_by_name_whatever_the_input_order() {
        let forwards = [
            manifest("z", &[]),
            manifest("m", &[]),
            manifest("b", &["z"]),
        ];
        let mut backwards = forwards.clone();
        backwards.reverse();
        let expected = strings(&["m", "z", "b"]);
        assert_eq!(load_order(&forwards).order, expected);
        assert_eq!(load_order(&backwards).order, expected);
    }

    #[test]
    fn absent_dependencies_do_not_block_ordering() {
        let plan = load_order(&[manifest("b", &["a", "ghost"]), manifest("a", &["ghost"])]);
        assert_eq!(plan.order, strings(&["a", "b"]));
        assert!(plan.cycles.is_empty());
    }

    #[test]
    fn three_cycle_is_reported_with_its_full_path() {
        let plan = load_order(&[
            manifest("c", &["a"]),
            manifest("b", &["c"]),
            manifest("a", &["b"]),
            manifest("free", &[]),
            manifest("user", &["b"]),
        ]);
        assert_eq!(plan.cycles, vec![strings(&["a", "b", "c", "a"])]);
        assert_eq!(plan.order, strings(&["free"]));
        assert_eq!(plan.blocked, strings(&["user"]));
        assert!(plan.in_cycle("b"));
        assert!(!plan.in_cycle("user"));
    }

    #[test]
    fn self_dependency_is_a_one_node_cycle() {
        let plan = load_order(&[manifest("a", &["a"]), manifest("b", &[])]);
        assert_eq!(plan.cycles, vec![strings(&["a", "a"])]);
        assert_eq!(plan.order, strings(&["b"]));
    }

    #[test]
    fn every_member_of_a_tangled_component_is_in_some_cycle() {
        // a <-> b and b <-> c: one component, two cycles.
        let plan = load_order(&[
            manifest("a", &["b"]),
            manifest("b", &["a", "c"]),
            manifest("c", &["b"]),
        ]);
        assert_eq!(
            plan.cycles,
            vec![strings(&["a", "b", "a"]), strings(&["b", "c", "b"])]
        );
        assert!(plan.order.is_empty());
    }

    #[test]
    fn the_shortest_cycle_through_a_node_is_found() {
        // a -> b -> a, and the longer a -> b -> c -> a.
        let all = [
            manifest("a", &["b"]),
            manifest("b", &["a", "c"]),
            manifest("c", &["a"]),
        ];
        let refs: Vec<&PluginManifest> = all.iter().collect();
        assert_eq!(cycle_through("a", &refs), Some(strings(&["a", "b", "a"])));
        assert_eq!(
            cycle_through("c", &refs),
            Some(strings(&["a", "b", "c", "a"]))
        );
        assert_eq!(cycle_through("missing", &refs), None);
    }

    #[test]
    fn dependents_are_transitive_and_in_topological_order() {
        let all = diamond();
        let refs: Vec<&PluginManifest> = all.iter().collect();
        assert_eq!(dependents("a", &refs), strings(&["b", "c", "d"]));
        assert_eq!(dependents("b", &refs), strings(&["d"]));
        assert!(dependents("d", &refs).is_empty());
        assert!(dependents("unknown", &refs).is_empty());
    }

    #[test]
    fn dependents_in_a_cycle_are_still_listed() {
        let all = [
            manifest("base", &[]),
            manifest("x", &["base", "y"]),
            manifest("y", &["x"]),
            manifest("z", &["y"]),
        ];
        let refs: Vec<&PluginManifest> = all.iter().collect();
        assert_eq!(dependents("base", &refs), strings(&["x", "y", "z"]));
    }
}
