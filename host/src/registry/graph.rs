//! The dependency graph: load order and cycles, with petgraph.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::algo::tarjan_scc;
use petgraph::graphmap::DiGraphMap;

use super::PluginManifest;

/// The order to load plugins in, and the cycles that cannot be ordered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadPlan {
    /// Dependencies before dependents; ties by name.
    pub order: Vec<String>,
    /// Each cycle as its path, first node repeated at the end (`a -> b -> c -> a`).
    pub cycles: Vec<Vec<String>>,
}

/// Edges dependency → dependent among `manifests` (dependencies outside the set are ignored).
fn graph<'a>(manifests: &[&'a PluginManifest]) -> DiGraphMap<&'a str, ()> {
    let mut graph = DiGraphMap::new();
    for m in manifests {
        graph.add_node(m.name.as_str());
    }
    for m in manifests {
        for dep in m.dependencies.keys() {
            if graph.contains_node(dep.as_str()) {
                graph.add_edge(dep.as_str(), m.name.as_str(), ());
            }
        }
    }
    graph
}

/// The cycle through `start` inside one strongly connected component, following
/// "depends on" edges from `start` (so `a -> b` means a depends on b).
fn cycle_path(
    start: &str,
    component: &BTreeSet<&str>,
    deps: &BTreeMap<&str, Vec<&str>>,
) -> Vec<String> {
    // Breadth-first search back to `start`, keeping parents; shortest cycle, deterministic.
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for next in deps.get(node).into_iter().flatten() {
            if !component.contains(next) {
                continue;
            }
            if *next == start {
                let mut path = vec![start.to_owned()];
                let mut back = vec![node];
                let mut cur = node;
                while cur != start {
                    cur = parent[cur];
                    back.push(cur);
                }
                back.pop();
                back.reverse();
                path.extend(back.iter().map(|s| (*s).to_owned()));
                path.push(start.to_owned());
                return path;
            }
            if !parent.contains_key(next) && *next != start {
                parent.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    vec![start.to_owned(), start.to_owned()]
}

/// Computes the load order of `manifests` and the cycles among them.
pub fn load_order(manifests: &[PluginManifest]) -> LoadPlan {
    let refs: Vec<&PluginManifest> = manifests.iter().collect();
    plan(&refs)
}

pub(crate) fn plan(manifests: &[&PluginManifest]) -> LoadPlan {
    let graph = graph(manifests);
    let deps: BTreeMap<&str, Vec<&str>> = manifests
        .iter()
        .map(|m| {
            let mut d: Vec<&str> = m.dependencies.keys().map(String::as_str).collect();
            d.sort_unstable();
            (m.name.as_str(), d)
        })
        .collect();
    let mut in_cycle: BTreeSet<&str> = BTreeSet::new();
    let mut cycles = Vec::new();
    for component in tarjan_scc(&graph) {
        let self_loop = component.len() == 1 && graph.contains_edge(component[0], component[0]);
        if component.len() > 1 || self_loop {
            let set: BTreeSet<&str> = component.iter().copied().collect();
            let start = set.iter().next().copied().unwrap_or_default();
            cycles.push(cycle_path(start, &set, &deps));
            in_cycle.extend(set);
        }
    }
    cycles.sort();
    // Kahn's algorithm with a sorted ready set, skipping cycle members and their dependents.
    let mut indegree: BTreeMap<&str, usize> = BTreeMap::new();
    for node in graph.nodes() {
        indegree.insert(
            node,
            graph
                .neighbors_directed(node, petgraph::Incoming)
                .filter(|n| *n != node)
                .count(),
        );
    }
    let mut ready: BTreeSet<&str> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(n, _)| *n)
        .collect();
    let mut order = Vec::new();
    while let Some(node) = ready.pop_first() {
        order.push(node.to_owned());
        for next in graph.neighbors_directed(node, petgraph::Outgoing) {
            if let Some(d) = indegree.get_mut(next) {
                *d = d.saturating_sub(1);
                if *d == 0 && next != node {
                    ready.insert(next);
                }
            }
        }
    }
    order.retain(|n| !in_cycle.contains(n.as_str()));
    LoadPlan { order, cycles }
}
