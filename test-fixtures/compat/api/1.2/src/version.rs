//! The plugin-api version, and the rule that decides whether a plugin and a host fit.

use std::fmt;

/// A `major.minor.patch` version of the plugin API.
///
/// A plugin records the version it was built against; the host compares it with its own.
///
/// ```
/// use zoryx_plugin_api::ApiVersion;
///
/// let host = ApiVersion::new(1, 2, 0);
/// assert!(host.accepts(ApiVersion::new(1, 0, 3)));  // older minor: additive changes only
/// assert!(!host.accepts(ApiVersion::new(1, 3, 0))); // the plugin needs a newer host
/// assert!(!host.accepts(ApiVersion::new(2, 0, 0))); // another major release
/// ```
#[repr(C)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct ApiVersion {
    /// Breaking releases.
    pub major: u32,
    /// Additive releases: a host accepts plugins of its own or any older minor.
    pub minor: u32,
    /// Fixes that change no type.
    pub patch: u32,
}

impl ApiVersion {
    /// Builds a version from its three parts.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// Whether a host of version `self` can run a plugin built against `plugin`.
    ///
    /// The majors must match and the plugin's minor must not be newer than the host's: a plugin
    /// built against an older minor only uses what that minor had, and a newer host still has all
    /// of it.
    pub const fn accepts(self, plugin: ApiVersion) -> bool {
        self.major == plugin.major && plugin.minor <= self.minor
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

const fn parse_part(s: &str, index: usize) -> u32 {
    let bytes = s.as_bytes();
    let mut part = 0;
    let mut i = 0;
    let mut value: u32 = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'.' || b == b'-' || b == b'+' {
            if part == index {
                return value;
            }
            if b != b'.' {
                break;
            }
            part += 1;
            value = 0;
        } else if part == index {
            value = value * 10 + (b - b'0') as u32;
        }
        i += 1;
    }
    if part == index { value } else { 0 }
}

/// The version of this copy of the plugin API (taken from the crate's own version).
pub const API_VERSION: ApiVersion = ApiVersion::new(
    parse_part(env!("CARGO_PKG_VERSION"), 0),
    parse_part(env!("CARGO_PKG_VERSION"), 1),
    parse_part(env!("CARGO_PKG_VERSION"), 2),
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_crate_version() {
        assert_eq!(API_VERSION.to_string(), env!("CARGO_PKG_VERSION"));
        assert_eq!(parse_part("1.22.3-beta.1", 1), 22);
        assert_eq!(parse_part("1.22.3-beta.1", 2), 3);
    }

    #[test]
    fn compatibility_rule() {
        let host = ApiVersion::new(1, 4, 0);
        assert!(host.accepts(ApiVersion::new(1, 4, 9)));
        assert!(host.accepts(ApiVersion::new(1, 0, 0)));
        assert!(!host.accepts(ApiVersion::new(1, 5, 0)));
        assert!(!host.accepts(ApiVersion::new(0, 4, 0)));
    }
}
