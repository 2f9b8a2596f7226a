//! Extension names: from file names, normalised as users type them.

use std::path::Path;

/// The platform's shared-library extension.
pub const fn library_extension() -> &'static str {
    if cfg!(target_os = "macos") {
        "dylib"
    } else if cfg!(windows) {
        "dll"
    } else {
        "so"
    }
}

/// Spaces become underscores, and surrounding whitespace goes.
pub fn normalise(name: &str) -> String {
    name.trim().replace(' ', "_")
}

/// Whether `path` looks like a plugin library (platform extension, not hidden or temporary).
pub(crate) fn is_library(path: &Path) -> bool {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy()) else {
        return false;
    };
    !name.starts_with('.')
        && path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case(library_extension()))
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
        assert!(is_library(Path::new("a/b.so")) == cfg!(all(unix, not(target_os = "macos"))));
        assert!(!is_library(Path::new("a/.b.so")));
        assert!(!is_library(Path::new("a/b.so.tmp")));
    }
}
