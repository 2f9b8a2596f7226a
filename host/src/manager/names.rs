//! Extension names: from file names, normalised as users type them.

use std::path::Path;

/// Spaces become underscores, and surrounding whitespace goes.
pub fn normalise(name: &str) -> String {
    name.trim().replace(' ', "_")
}

/// The extension name of a library file: its stem without a `lib` prefix, normalised.
pub(crate) fn extension_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem
        .strip_prefix("lib")
        .filter(|s| !s.is_empty())
        .unwrap_or(&stem);
    normalise(stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(normalise(" my plugin "), "my_plugin");
        assert_eq!(extension_name(Path::new("x/libhello.so")), "hello");
        assert_eq!(extension_name(Path::new("x/my plugin.so")), "my_plugin");
    }
}
