#!/usr/bin/env python3
"""Generates copies of plugin-api for the compatibility fixtures, under target/compat-src/.

- api-1.0:    the 1.0 API: version 1.0.0, without the storage functions 1.1 and 1.2 appended to
              HostVtable; `Storage` answers "not available", and there is no `Host::sql` or
              `Host::files`.
- api-1.1:    the 1.1 API: version 1.1.0, with the key-value functions of 1.1 but without what
              1.2 appended (key listing, SQL tables, files).
- api-1.3:    version 1.3.0, otherwise identical to the current API: a plugin needing a newer
              host.
- api-broken: the current version with a field inserted in the middle of InvocationFfi: an
              incompatible layout under the same version.

Every edit checks that the text it changes is there exactly once, and stops with an error
otherwise, so a change to plugin-api cannot silently produce a wrong copy. The copies are
assembled in memory and only files whose content changed are rewritten, so running this again
does not make cargo rebuild the fixtures.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SRC = ROOT / "plugin-api"
OUT = ROOT / "target" / "compat-src"


def fail(message):
    sys.exit(f"make_api_copies: {message}")


def find(text, pattern, path):
    """The index of `pattern` in `text`, which must hold it exactly once."""
    count = text.count(pattern)
    if count != 1:
        fail(f"expected 1 occurrence in {path}, found {count}: {pattern[:70]!r}")
    return text.index(pattern)


def replace(files, path, old, new):
    text = files[path]
    find(text, old, path)
    files[path] = text.replace(old, new)


def cut(files, path, start, end, new):
    """Replaces the text from `start` (included) up to `end` (excluded) by `new`."""
    text = files[path]
    a = find(text, start, path)
    b = find(text, end, path)
    if b <= a:
        fail(f"{path}: {end[:40]!r} does not follow {start[:40]!r}")
    files[path] = text[:a] + new + text[b:]


def table(section):
    """The `key = value` lines of one table of the root Cargo.toml (values as TOML text)."""
    text = (ROOT / "Cargo.toml").read_text()
    m = re.search(rf"^\[{re.escape(section)}\]\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    if not m:
        fail(f"no [{section}] in the root Cargo.toml")
    values = {}
    for line in m.group(1).splitlines():
        kv = re.match(r"^([A-Za-z0-9_-]+)\s*=\s*(.+?)\s*$", line)
        if kv:
            values[kv.group(1)] = kv.group(2)
    return values


def manifest(version):
    """plugin-api's Cargo.toml, standalone: workspace keys made concrete, no [lints]."""
    package = table("workspace.package")
    deps = table("workspace.dependencies")
    lines = []
    section = None
    for line in (SRC / "Cargo.toml").read_text().splitlines():
        header = re.match(r"^\[(.+)\]\s*$", line)
        if header:
            section = header.group(1)
        if section == "lints":
            continue
        key = re.match(r"^([A-Za-z0-9_-]+)\.workspace\s*=\s*true\s*$", line)
        if key:
            source = package if section == "package" else deps
            if key.group(1) not in source:
                fail(f"`{key.group(1)}` is not in the root Cargo.toml's workspace tables")
            line = f"{key.group(1)} = {source[key.group(1)]}"
        elif section == "package" and re.match(r"^version\s*=", line):
            line = f'version = "{version}"'
        lines.append(line)
    text = "\n".join(lines).rstrip("\n") + "\n"
    if f'version = "{version}"' not in text:
        fail("no package version in plugin-api/Cargo.toml")
    return text


def copy(version):
    """The crate's files as {relative path: text}, with its version set to `version`."""
    files = {
        str(path.relative_to(SRC)): path.read_text()
        for path in sorted((SRC / "src").rglob("*"))
        if path.is_file()
    }
    files["Cargo.toml"] = manifest(version)
    return files


def write(name, files):
    """Makes OUT/name hold exactly `files`, touching only what changed."""
    dest = OUT / name
    dest.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = dest / rel
        if not path.is_file() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in sorted(dest.rglob("*"), reverse=True):
        rel = str(path.relative_to(dest))
        if path.is_file() and rel not in files:
            path.unlink()
        elif path.is_dir() and rel != "target" and not any(path.iterdir()):
            path.rmdir()


STORAGE_1_0 = """impl Storage {
    /// Reads `key`. Storage is not part of plugin-api 1.0: always [`PluginError::NotAvailable`].
    pub async fn get<T: DeserializeOwned>(
        &self,
        scope: Scope,
        key: &str,
    ) -> PluginResult<Option<T>> {
        let _ = (self.host, scope.to_ffi(), key);
        Err(PluginError::NotAvailable("plugin storage".to_owned()))
    }

    /// Writes `key`. Storage is not part of plugin-api 1.0: always [`PluginError::NotAvailable`].
    pub async fn set<T: Serialize + ?Sized>(
        &self,
        scope: Scope,
        key: &str,
        value: &T,
    ) -> PluginResult {
        let _ = (self.host, scope.to_ffi(), key, value);
        Err(PluginError::NotAvailable("plugin storage".to_owned()))
    }

    /// Deletes `key`. Storage is not part of plugin-api 1.0: always
    /// [`PluginError::NotAvailable`].
    pub async fn delete(&self, scope: Scope, key: &str) -> PluginResult<bool> {
        let _ = (self.host, scope.to_ffi(), key);
        Err(PluginError::NotAvailable("plugin storage".to_owned()))
    }
}

"""


def without_1_2(files):
    """Removes what 1.2 added: the SQL and file API (`storage.rs`) and `Storage::keys`."""
    del files["src/storage.rs"]
    replace(files, "src/lib.rs", "pub mod storage;\n", "")
    replace(files, "src/lib.rs", "pub use storage::{Files, Row, Sql};\n", "")
    replace(
        files,
        "src/context.rs",
        "    /// This plugin's key-value storage; see also [`Host::sql`] and [`Host::files`].\n",
        "    /// This plugin's key-value storage.\n",
    )


def api_1_0():
    old = copy("1.0.0")
    without_1_2(old)
    # HostVtable without the fields appended in 1.1 and 1.2 (they follow `emit`, the last 1.0
    # field).
    cut(
        old,
        "src/ffi/host_vtable.rs",
        "    /// (1.1) Reads a key",
        "}\n\n/// What the host hands a plugin",
        "",
    )
    context = "src/context.rs"
    cut(old, context, "fn storage_missing() -> PluginError {", "impl Storage {", "")
    cut(old, context, "impl Storage {", "/// A counted reference", STORAGE_1_0)
    write("api-1.0", old)


def api_1_1():
    mid = copy("1.1.0")
    without_1_2(mid)
    # HostVtable without the fields appended in 1.2 (they follow `kv_delete`).
    cut(
        mid,
        "src/ffi/host_vtable.rs",
        "    /// (1.2) The keys of",
        "}\n\n/// What the host hands a plugin",
        "",
    )
    # `Storage::keys` (1.2), the last method of `impl Storage`.
    cut(
        mid,
        "src/context.rs",
        "\n    /// The keys that start with `prefix`",
        "}\n\n/// A counted reference",
        "",
    )
    write("api-1.1", mid)


def api_broken():
    broken = copy(current_version())
    types = "src/ffi/types.rs"
    replace(
        broken,
        types,
        """    /// Author.
    pub author: UserFfi,
    /// Guild.
    pub guild_id: ROption<u64>,
    /// Channel.
    pub channel_id: u64,
    /// Triggering message.""",
        """    /// Author.
    pub author: UserFfi,
    /// Locale (inserted here: breaks the layout).
    pub locale: u32,
    /// Guild.
    pub guild_id: ROption<u64>,
    /// Channel.
    pub channel_id: u64,
    /// Triggering message.""",
    )
    # Filled when converting to the FFI form; `From<&InvocationFfi>` reads fields by name and
    # simply ignores it.
    replace(
        broken,
        types,
        """            author: (&invocation.author).into(),
            guild_id: invocation.guild_id.map(|g| g.0).into(),""",
        """            author: (&invocation.author).into(),
            locale: 0,
            guild_id: invocation.guild_id.map(|g| g.0).into(),""",
    )
    write("api-broken", broken)


def current_version():
    """plugin-api's own version (the host's)."""
    m = re.search(r'^version\s*=\s*"([^"]+)"', (SRC / "Cargo.toml").read_text(), re.M)
    if not m:
        fail("no package version in plugin-api/Cargo.toml")
    return m.group(1)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    if not current_version().startswith("1.2."):
        fail(f"plugin-api is {current_version()}: update the copies (api-1.1, api-1.3) for it")
    api_1_0()
    api_1_1()
    write("api-1.3", copy("1.3.0"))
    api_broken()
    print(f"api copies in {OUT.relative_to(ROOT)}: api-1.0, api-1.1, api-1.3, api-broken")


if __name__ == "__main__":
    main()
