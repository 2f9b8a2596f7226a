#!/usr/bin/env python3
"""Generates copies of plugin-api for the compatibility fixtures, under target/compat-src/.

- api-1.0:    the 1.0 API: version 1.0.0, without the storage functions 1.1 appended to HostVtable.
- api-1.2:    version 1.2.0, otherwise identical: a plugin needing a newer host.
- api-broken: version 1.1.0 with a field inserted in the middle of InvocationFfi: an
              incompatible layout under the same version.
"""
import pathlib
import re
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SRC = ROOT / "plugin-api"
OUT = ROOT / "target" / "compat-src"


def fail(message):
    sys.exit(f"make_api_copies: {message}")


def replace(path, old, new, count=1):
    text = path.read_text()
    if text.count(old) < 1:
        fail(f"pattern not found in {path}: {old[:60]!r}")
    path.write_text(text.replace(old, new, count))


def workspace_deps():
    text = (ROOT / "Cargo.toml").read_text()
    section = text.split("[workspace.dependencies]", 1)[1].split("\n[", 1)[0]
    deps = {}
    for line in section.splitlines():
        m = re.match(r"^([A-Za-z0-9_-]+)\s*=\s*(.+)$", line.strip())
        if m:
            deps[m.group(1)] = m.group(2)
    return deps


def copy(name, version):
    dest = OUT / name
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(SRC / "src", dest / "src")
    deps = workspace_deps()
    lines = []
    section = None
    for line in (SRC / "Cargo.toml").read_text().splitlines():
        if line.startswith("["):
            section = line.strip()
            if section == "[lints]":
                continue
        if section == "[lints]":
            continue
        m = re.match(r"^([A-Za-z0-9_-]+)\.workspace\s*=\s*true$", line.strip())
        if m:
            key = m.group(1)
            if section == "[package]":
                values = {"edition": '"2024"', "rust-version": '"1.90"', "license": '"MIT OR Apache-2.0"',
                          "repository": '"https://github.com/zoryx-rs/zoryx"', "publish": "false"}
                line = f"{key} = {values[key]}"
            else:
                line = f"{key} = {deps[key]}"
        if line.startswith("version = ") and section == "[package]":
            line = f'version = "{version}"'
        lines.append(line)
    (dest / "Cargo.toml").write_text("\n".join(lines) + "\n")
    return dest


def main():
    OUT.mkdir(parents=True, exist_ok=True)

    old = copy("api-1.0", "1.0.0")
    vtable = old / "src/ffi/host_vtable.rs"
    text = vtable.read_text()
    start = text.index("    /// (1.1) Reads a key")
    end = text.index("}\n\n/// What the host hands a plugin")
    vtable.write_text(text[:start] + text[end:])
    context = old / "src/context.rs"
    text = context.read_text()
    start = text.index("impl Storage {")
    end = text.index("/// A counted reference to where a call's replies go.")
    context.write_text(text[:start] + '''impl Storage {
    /// Storage is not part of plugin-api 1.0.
    pub async fn get<T: DeserializeOwned>(&self, _scope: Scope, _key: &str) -> PluginResult<Option<T>> {
        let _ = (self.host, storage_missing());
        Err(PluginError::NotAvailable("plugin storage".to_owned()))
    }
}

''' + text[end:])
    replace(context, "use crate::ffi::host_vtable::{CallData, HostHandle, ScopeFfi, level};",
            "use crate::ffi::host_vtable::{CallData, HostHandle, ScopeFfi, level};\n#[allow(unused_imports)]\nuse serde::Serialize as _;")

    copy("api-1.2", "1.2.0")

    broken = copy("api-broken", "1.1.0")
    types = broken / "src/ffi/types.rs"
    replace(types, """    /// Author.
    pub author: UserFfi,
    /// Guild.
    pub guild_id: ROption<u64>,
    /// Channel.
    pub channel_id: u64,
    /// Triggering message.""", """    /// Author.
    pub author: UserFfi,
    /// Locale (inserted: breaks the layout).
    pub locale: u32,
    /// Guild.
    pub guild_id: ROption<u64>,
    /// Channel.
    pub channel_id: u64,
    /// Triggering message.""")
    replace(types, """            author: (&invocation.author).into(),
            guild_id: invocation.guild_id.map(|g| g.0).into(),""", """            author: (&invocation.author).into(),
            locale: 0,
            guild_id: invocation.guild_id.map(|g| g.0).into(),""")
    print(f"api copies in {OUT}")


if __name__ == "__main__":
    main()
