#!/usr/bin/env python3
"""Generates the copies of plugin-api derived from today's source, under target/compat-src/.

The released APIs (1.0, 1.1, 1.2) are NOT generated: they are frozen, committed copies in
test-fixtures/compat/api/<version>/, the layout as it was released, so that a field broken in
today's source cannot break the copy along with it. This script only makes what must follow
today's source:

- api-newer:  the current API with the next minor version: a plugin needing a newer host.
- api-broken: the current version with a field inserted in the middle of InvocationFfi: an
              incompatible layout under the same version.

`python3 make_api_copies.py --freeze X.Y` copies today's source into api/X.Y once, when X.Y is
released (the one time a copy is taken from the current source).

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
            value = source[key.group(1)]
            # A path in the root's tables is relative to the root; the copy lives elsewhere.
            value = re.sub(
                r'path\s*=\s*"([^"]+)"',
                lambda m: f'path = "{(ROOT / m.group(1)).as_posix()}"',
                value,
            )
            line = f"{key.group(1)} = {value}"
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


def next_minor(version):
    major, minor, _ = (int(part) for part in version.split("."))
    return f"{major}.{minor + 1}.0"


def freeze(version):
    """Copies today's source into test-fixtures/compat/api/<version> (a released API)."""
    if not current_version().startswith(f"{version}."):
        fail(f"plugin-api is {current_version()}, not {version}: freeze a version when it is current")
    dest = ROOT / "test-fixtures" / "compat" / "api" / version
    if dest.exists():
        fail(f"{dest.relative_to(ROOT)} exists: a released API is never copied again")
    global OUT
    OUT = dest.parent
    write(version, copy(current_version()))
    print(f"froze plugin-api {current_version()} in {dest.relative_to(ROOT)}")


def main():
    if sys.argv[1:2] == ["--freeze"] and len(sys.argv) == 3:
        freeze(sys.argv[2])
        return
    OUT.mkdir(parents=True, exist_ok=True)
    write("api-newer", copy(next_minor(current_version())))
    api_broken()
    print(f"api copies in {OUT.relative_to(ROOT)}: api-newer, api-broken")


if __name__ == "__main__":
    main()
