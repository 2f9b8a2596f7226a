//! Short, readable summaries of abi_stable's layout-check errors (which run to hundreds of lines).

use abi_stable::abi_stability::abi_checking::{AbiInstability, AbiInstabilityErrors};
use abi_stable::type_layout::TLFieldOrFunction;

/// At most this many differences are listed.
const MAX_LINES: usize = 4;

fn location(item: &TLFieldOrFunction) -> String {
    match item {
        TLFieldOrFunction::Field(field) => format!(".{}", field.name()),
        TLFieldOrFunction::Function(_) => "()".to_owned(),
    }
}

/// Describes one difference. The plugin's layout is checked as abi_stable's "interface"
/// (`expected`) and the host's as the "implementation" (`found`).
fn difference(error: &AbiInstability) -> String {
    use AbiInstability as AI;
    match error {
        AI::FieldCountMismatch(v) => {
            format!("field count: plugin {}, host {}", v.expected, v.found)
        }
        AI::Size(v) => format!("size: plugin {} bytes, host {} bytes", v.expected, v.found),
        AI::Alignment(v) => format!("alignment: plugin {}, host {}", v.expected, v.found),
        AI::Name(v) => format!("type: plugin `{}`, host `{}`", v.expected, v.found),
        AI::UnexpectedField(v) => format!(
            "field: plugin has `{}` where the host has `{}`",
            v.expected.name(),
            v.found.name()
        ),
        AI::Package(v) => format!("package: plugin `{}`, host `{}`", v.expected, v.found),
        AI::PackageVersion(v) => {
            format!("package version: plugin {}, host {}", v.expected, v.found)
        }
        AI::MismatchedPrefixSize(v) => {
            format!(
                "required field count: plugin {}, host {}",
                v.expected, v.found
            )
        }
        AI::TooManyVariants(v) => format!("variant count: plugin {}, host {}", v.expected, v.found),
        other => {
            let mut text = format!("{other:?}");
            text.truncate(160);
            text
        }
    }
}

/// Summarises layout errors as `at <path>: <difference>, <difference>` groups, the deepest (most
/// specific) path first.
pub fn summarise(errors: &AbiInstabilityErrors) -> String {
    let mut groups: Vec<(usize, String, Vec<String>)> = Vec::new();
    for error in errors.errors.iter() {
        // The first step is the prefix reference's own pointer field; name the table instead.
        let path: String = error
            .stack_trace
            .iter()
            .skip(1)
            .map(|step| location(&step.expected))
            .collect();
        let path = format!("PluginModule{path}");
        let index = match groups.iter().position(|(_, p, _)| *p == path) {
            Some(index) => index,
            None => {
                groups.push((error.stack_trace.len(), path, Vec::new()));
                groups.len() - 1
            }
        };
        for diff in error.errs.iter().map(difference) {
            if !groups[index].2.contains(&diff) {
                groups[index].2.push(diff);
            }
        }
    }
    groups.retain(|(_, _, diffs)| !diffs.is_empty());
    groups.sort_by_key(|g| std::cmp::Reverse(g.0));
    let total = groups.len();
    let mut summary = groups
        .iter()
        .take(MAX_LINES)
        .map(|(_, path, diffs)| {
            let shown: Vec<&str> = diffs.iter().take(3).map(String::as_str).collect();
            format!("at {path}: {}", shown.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    if total > MAX_LINES {
        summary.push_str(&format!("; and {} more", total - MAX_LINES));
    }
    if summary.is_empty() {
        summary = "layouts differ".to_owned();
    }
    summary
}
