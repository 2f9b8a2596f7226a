//! Keeping a plugin's file paths inside its folder, `data/plugins/<name>/`.
//!
//! A path from a plugin is checked twice: as text (relative, no `..`, no NUL, no backslash), then
//! on disk (every existing parent canonicalised and compared with the canonical folder, and a
//! final component that is a symbolic link refused). Missing parents are created one component
//! at a time, after the component before them was checked, so nothing is ever created outside.

use std::io;
use std::path::{Component, Path, PathBuf};

/// Why a plugin's path was refused.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// The path is empty.
    #[error("the path is empty")]
    Empty,
    /// The path holds a NUL byte.
    #[error("the path `{0}` holds a NUL byte")]
    Nul(String),
    /// The path is absolute.
    #[error("the path `{0}` is absolute; paths are relative to the plugin's folder")]
    Absolute(String),
    /// The path has a `..` component.
    #[error("the path `{0}` has a `..` component")]
    ParentDir(String),
    /// The path has a backslash (not portable, and a separator elsewhere).
    #[error("the path `{0}` has a backslash; use `/`")]
    Backslash(String),
    /// The path leads outside the plugin's folder through a symbolic link.
    #[error("the path `{0}` leads outside the plugin's folder")]
    Escapes(String),
    /// The final component is a symbolic link.
    #[error("the path `{0}` is a symbolic link")]
    Symlink(String),
    /// A file was expected, a folder found (or the reverse).
    #[error("the path `{path}` is {found}")]
    WrongKind {
        /// The path.
        path: String,
        /// What is there instead.
        found: &'static str,
    },
    /// The plugin's name cannot be a folder name.
    #[error("plugin name `{0}` cannot name a folder")]
    BadPluginName(String),
    /// A file system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path concerned.
        path: String,
        /// The error.
        #[source]
        source: io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> PathError + '_ {
    move |source| PathError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The checked, normal components of a plugin's relative path (`.` and empty parts dropped).
pub fn components(path: &str) -> Result<Vec<String>, PathError> {
    if path.contains('\0') {
        return Err(PathError::Nul(path.replace('\0', "\\0")));
    }
    if path.contains('\\') {
        return Err(PathError::Backslash(path.to_owned()));
    }
    let mut parts = Vec::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => return Err(PathError::ParentDir(path.to_owned())),
            Component::RootDir | Component::Prefix(_) => {
                return Err(PathError::Absolute(path.to_owned()));
            }
        }
    }
    Ok(parts)
}

/// One plugin's folder.
#[derive(Clone, Debug)]
pub struct PluginFolder {
    /// The folder, canonical (it exists once [`PluginFolder::open`] returned).
    root: PathBuf,
}

/// Where a checked path points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// The file's full path; its parent exists and is inside the folder.
    Path(PathBuf),
    /// A parent folder does not exist (nothing to read, list or delete).
    Missing,
}

impl PluginFolder {
    /// Opens (creating it) `base/<plugin>/`; `base` is `data/plugins`.
    pub fn open(base: &Path, plugin: &str) -> Result<Self, PathError> {
        let valid = !plugin.is_empty()
            && plugin != "."
            && plugin != ".."
            && !plugin.contains(['/', '\\', '\0']);
        if !valid {
            return Err(PathError::BadPluginName(plugin.to_owned()));
        }
        let root = base.join(plugin);
        std::fs::create_dir_all(&root).map_err(io_error(&root))?;
        if std::fs::symlink_metadata(&root)
            .map_err(io_error(&root))?
            .file_type()
            .is_symlink()
        {
            return Err(PathError::Symlink(root.display().to_string()));
        }
        let root = std::fs::canonicalize(&root).map_err(io_error(&root))?;
        Ok(Self { root })
    }

    /// The folder (canonical).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Checks that `dir` (an existing path below the root) is still inside after resolving
    /// links.
    fn check_inside(&self, dir: &Path, shown: &str) -> Result<(), PathError> {
        let real = std::fs::canonicalize(dir).map_err(io_error(dir))?;
        if real.starts_with(&self.root) {
            Ok(())
        } else {
            Err(PathError::Escapes(shown.to_owned()))
        }
    }

    /// Walks the folders of `parts`, checking each existing one; `create` makes missing ones.
    /// Returns the last folder, or `None` when one is missing and `create` is off.
    fn walk(
        &self,
        parts: &[String],
        shown: &str,
        create: bool,
    ) -> Result<Option<PathBuf>, PathError> {
        let mut dir = self.root.clone();
        for part in parts {
            dir.push(part);
            match std::fs::symlink_metadata(&dir) {
                Ok(meta) if meta.file_type().is_symlink() || meta.is_dir() => {
                    self.check_inside(&dir, shown)?;
                    if !dir.is_dir() {
                        return Err(PathError::WrongKind {
                            path: shown.to_owned(),
                            found: "below a file",
                        });
                    }
                }
                Ok(_) => {
                    return Err(PathError::WrongKind {
                        path: shown.to_owned(),
                        found: "below a file",
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if !create {
                        return Ok(None);
                    }
                    match std::fs::create_dir(&dir) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                            self.check_inside(&dir, shown)?;
                        }
                        Err(e) => return Err(io_error(&dir)(e)),
                    }
                }
                Err(e) => return Err(io_error(&dir)(e)),
            }
        }
        Ok(Some(dir))
    }

    /// The full path of file `path`, checked; `create` makes its missing parent folders.
    pub fn file(&self, path: &str, create: bool) -> Result<Resolved, PathError> {
        let mut parts = components(path)?;
        let Some(name) = parts.pop() else {
            return Err(PathError::Empty);
        };
        let Some(dir) = self.walk(&parts, path, create)? else {
            return Ok(Resolved::Missing);
        };
        let file = dir.join(name);
        match std::fs::symlink_metadata(&file) {
            Ok(meta) if meta.file_type().is_symlink() => Err(PathError::Symlink(path.to_owned())),
            Ok(meta) if meta.is_dir() => Err(PathError::WrongKind {
                path: path.to_owned(),
                found: "a folder",
            }),
            Ok(_) => Ok(Resolved::Path(file)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Resolved::Path(file)),
            Err(e) => Err(io_error(&file)(e)),
        }
    }

    /// The full path of folder `path` (`""` is the root), checked, without creating anything.
    pub fn dir(&self, path: &str) -> Result<Resolved, PathError> {
        let parts = components(path)?;
        Ok(match self.walk(&parts, path, false)? {
            Some(dir) => Resolved::Path(dir),
            None => Resolved::Missing,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_checks() {
        assert!(matches!(
            components("../x.json"),
            Err(PathError::ParentDir(_))
        ));
        assert!(matches!(
            components("a/../../x"),
            Err(PathError::ParentDir(_))
        ));
        assert!(matches!(
            components("/etc/passwd"),
            Err(PathError::Absolute(_))
        ));
        assert!(matches!(components("a\0b"), Err(PathError::Nul(_))));
        assert!(matches!(components("a\\b"), Err(PathError::Backslash(_))));
        assert_eq!(
            components("./a//b/c.json").expect("valid"),
            vec!["a", "b", "c.json"]
        );
    }
}
