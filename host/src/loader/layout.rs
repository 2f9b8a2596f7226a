//! Short, readable summaries of abi_stable's layout-check errors (which run to hundreds of lines).

use abi_stable::abi_stability::abi_checking::{AbiInstability, AbiInstabilityErrors};
use abi_stable::type_layout::TLFieldOrFunction;

/// At most this many differences are listed.
const MAX_LINES: usize = 4;

fn location(item: &TLFieldOrFunction) -> String {
    match item {
        TLFieldOrFunction::Field(field) => format!(".{}", field.name()),
        TLFieldOrFunction::Function(function) => format!(" {}(fn)", function.name),
    }
}

fn difference(error: &AbiInstability) -> String {
    use AbiInstability as AI;
    match error {
        AI::FieldCountMismatch(v) => {
            format!("field count expected {} found {}", v.expected, v.found)
        }
        AI::Size(v) => format!("size expected {} found {}", v.expected, v.found),
        AI::Alignment(v) => format!("alignment expected {} found {}", v.expected, v.found),
        AI::Name(v) => format!("type expected `{}` found `{}`", v.expected, v.found),
        AI::UnexpectedField(v) => format!(
            "field expected `{}` found `{}`",
            v.expected.name(),
            v.found.name()
        ),
        AI::Package(v) => format!("package expected `{}` found `{}`", v.expected, v.found),
        AI::PackageVersion(v) => {
            format!("package version expected {} found {}", v.expected, v.found)
        }
        AI::MismatchedPrefixSize(v) => format!(
            "required (prefix) field count expected {} found {}",
            v.expected, v.found
        ),
        AI::TooManyVariants(v) => {
            format!("variant count expected {} found {}", v.expected, v.found)
        }
        other => {
            let mut text = format!("{other:?}");
            text.truncate(160);
            text
        }
    }
}

/// Summarises layout errors as `at <path>: <difference>` lines, most specific first.
pub fn summarise(errors: &AbiInstabilityErrors) -> String {
    let mut lines: Vec<String> = Vec::new();
    for error in errors.errors.iter() {
        let path: String = error
            .stack_trace
            .iter()
            .map(|step| location(&step.found))
            .collect();
        let root = errors.interface.name();
        for diff in error.errs.iter() {
            let line = format!("at {root}{path}: {}", difference(diff));
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    let total = lines.len();
    lines.truncate(MAX_LINES);
    let mut summary = lines.join("; ");
    if total > MAX_LINES {
        summary.push_str(&format!("; and {} more", total - MAX_LINES));
    }
    if summary.is_empty() {
        summary = "layouts differ".to_owned();
    }
    summary
}
