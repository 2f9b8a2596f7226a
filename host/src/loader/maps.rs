//! Whether a library file is still mapped into this process, read from `/proc/self/maps`.

use std::path::Path;

/// How much of one file is mapped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mapping {
    /// Number of mapped regions.
    pub regions: usize,
    /// Their total size in bytes.
    pub bytes: u64,
}

impl Mapping {
    /// Whether anything is mapped.
    pub fn is_mapped(self) -> bool {
        self.regions > 0
    }
}

/// The regions of this process that map `path` (also after the file was deleted).
#[cfg(target_os = "linux")]
pub fn mapping_of(path: &Path) -> Mapping {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return Mapping::default();
    };
    let wanted = path.to_string_lossy();
    let mut mapping = Mapping::default();
    for line in maps.lines() {
        // address perms offset dev inode pathname
        let mut parts = line.splitn(6, ' ');
        let range = parts.next().unwrap_or_default();
        let Some(name) = parts.nth(4) else { continue };
        let name = name.trim_start();
        let name = name.strip_suffix(" (deleted)").unwrap_or(name);
        if name != wanted {
            continue;
        }
        if let Some((start, end)) = range.split_once('-')
            && let (Ok(start), Ok(end)) =
                (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
        {
            mapping.regions += 1;
            mapping.bytes += end.saturating_sub(start);
        }
    }
    mapping
}

/// Mappings cannot be inspected on this platform; reports nothing mapped.
#[cfg(not(target_os = "linux"))]
pub fn mapping_of(_path: &Path) -> Mapping {
    Mapping::default()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn sees_a_mapped_library_and_not_a_random_path() {
        let exe = std::env::current_exe().expect("current exe");
        let exe = std::fs::canonicalize(exe).expect("canonical");
        assert!(mapping_of(&exe).is_mapped());
        assert!(!mapping_of(Path::new("/nonexistent/libnothing.so")).is_mapped());
    }
}
