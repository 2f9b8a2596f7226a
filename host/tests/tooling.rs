//! The repository's build and deployment tooling, checked on the real files: every Makefile
//! target builds one feature set of each crate; `make plugins` publishes only the libraries that
//! changed; the systemd unit passes `systemd-analyze verify`; the Dockerfile has the shape the
//! README promises (linted here as a whole; `make image-test` builds and runs its final stage).

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{checker, fixture, root};

// ---------------------------------------------------------------------------------------------
// One feature set

/// `cargo tree` of a package selection: every package (name and version) with the feature sets
/// it is built with (a crate built for both the target and build scripts may have two).
fn features(selection: &[&str]) -> BTreeMap<String, Vec<String>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "tree",
            "--locked",
            "--offline",
            "--prefix",
            "none",
            "-f",
            "{p}|{f}",
        ])
        .args(selection)
        .current_dir(root())
        .output()
        .expect("run cargo tree");
    assert!(
        output.status.success(),
        "cargo tree {selection:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Some((package, features)) = line.split_once('|') else {
            continue;
        };
        // "name v1.2.3 (/path)" or "name v1.2.3 (proc-macro)": name and version only.
        let mut words = package.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        let features = features.trim_end_matches(" (*)").trim().to_owned();
        let entry = found.entry(format!("{name} {version}")).or_default();
        if !entry.contains(&features) {
            entry.push(features);
            entry.sort();
        }
    }
    found
}

#[test]
fn every_make_target_builds_one_feature_set_of_each_crate() {
    // What `make test` builds: the whole workspace with dev-dependencies.
    let test = features(&["--workspace"]);
    let plugins: Vec<String> = std::fs::read_dir(root().join("plugins"))
        .expect("plugins/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let mut make_plugins = vec!["-p", "zoryx-host", "-e", "no-dev"];
    for plugin in &plugins {
        make_plugins.extend(["-p", plugin.as_str()]);
    }
    let builds: [(&str, Vec<&str>); 4] = [
        (
            "make host / make run",
            vec!["-p", "zoryx-host", "-e", "no-dev"],
        ),
        ("make plugins", make_plugins),
        (
            "test-fixtures/build.sh",
            vec!["-p", "zoryx-host", "-p", "fixture-basic", "-e", "no-dev"],
        ),
        ("make bench", vec!["-p", "zoryx-host"]),
    ];
    let mut differences = Vec::new();
    for (what, selection) in &builds {
        for (package, sets) in features(selection) {
            if let Some(tested) = test.get(&package)
                && !sets.iter().all(|set| tested.contains(set))
            {
                differences.push(format!(
                    "{package}: {what} builds it with {sets:?}, make test with {tested:?}"
                ));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "crates compiled twice (pin the features in host/Cargo.toml):\n{}",
        differences.join("\n")
    );

    // And every cargo build of the Makefile and the fixture script names zoryx-host.
    for file in ["Makefile", "test-fixtures/build.sh"] {
        let text = std::fs::read_to_string(root().join(file)).expect(file);
        for line in text.lines().filter(|l| l.contains("build --")) {
            if line.contains("CARGO) build") || line.contains("cargo build") {
                assert!(line.contains("-p zoryx-host"), "{file}: {line}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// make plugins

/// Runs scripts/publish-plugins.sh; returns its output lines.
fn publish(build: &Path, extensions: &Path, names: &[&str]) -> Vec<String> {
    let output = Command::new("bash")
        .arg(root().join("scripts/publish-plugins.sh"))
        .arg(build)
        .arg(extensions)
        .arg("so")
        .args(names)
        .output()
        .expect("run publish-plugins.sh");
    assert!(
        output.status.success(),
        "publish-plugins.sh failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// (inode, mtime in ns) of a file: a republished file gets a new inode from the rename.
fn identity(path: &Path) -> (u64, i64) {
    let meta = std::fs::metadata(path).expect("metadata");
    (meta.ino(), meta.mtime() * 1_000_000_000 + meta.mtime_nsec())
}

#[test]
fn make_plugins_publishes_only_the_libraries_whose_bytes_changed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let build = dir.path().join("build");
    let extensions = dir.path().join("extensions");
    std::fs::create_dir_all(&build).expect("build dir");
    std::fs::copy(fixture("plugin-hello.so"), build.join("libhello.so")).expect("copy");
    std::fs::copy(fixture("plugin-polls.so"), build.join("libpolls.so")).expect("copy");

    let first = publish(&build, &extensions, &["hello", "polls"]);
    assert_eq!(
        first,
        [
            format!("published {}/hello.so", extensions.display()),
            format!("published {}/polls.so", extensions.display()),
        ]
    );
    let hello = extensions.join("hello.so");
    let polls = extensions.join("polls.so");
    assert_eq!(
        std::fs::read(&hello).expect("hello"),
        std::fs::read(fixture("plugin-hello.so")).expect("fixture")
    );
    let (hello_before, polls_before) = (identity(&hello), identity(&polls));

    // Nothing rebuilt: nothing republished, so a running host reloads nothing.
    let second = publish(&build, &extensions, &["hello", "polls"]);
    assert!(
        second.iter().all(|l| l.starts_with("unchanged ")),
        "{second:?}"
    );
    assert_eq!(identity(&hello), hello_before);
    assert_eq!(identity(&polls), polls_before);

    // One library changed (a rebuild with new bytes, same length or not): only it is published.
    std::fs::copy(fixture("plugin-activity.so"), build.join("libhello.so")).expect("rebuild");
    let third = publish(&build, &extensions, &["hello", "polls"]);
    assert_eq!(
        third,
        [
            format!("published {}/hello.so", extensions.display()),
            format!("unchanged {}/polls.so", extensions.display()),
        ]
    );
    assert_ne!(identity(&hello), hello_before);
    assert_eq!(identity(&polls), polls_before);
    assert_eq!(
        std::fs::read(&hello).expect("hello"),
        std::fs::read(fixture("plugin-activity.so")).expect("fixture")
    );
    let names: Vec<String> = std::fs::read_dir(&extensions)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "no temp files left: {names:?}");

    // A library that was never built is an error, and nothing is half-published.
    let output = Command::new("bash")
        .arg(root().join("scripts/publish-plugins.sh"))
        .args([build.as_os_str(), extensions.as_os_str()])
        .args(["so", "absent"])
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("libabsent.so"));

    // And it is what `make plugins` runs.
    let plan = Command::new("make")
        .args(["-n", "plugins"])
        .current_dir(root())
        .output()
        .expect("make -n plugins");
    let plan = String::from_utf8_lossy(&plan.stdout);
    assert!(
        plan.contains("scripts/publish-plugins.sh target/release extensions so"),
        "{plan}"
    );
}

// ---------------------------------------------------------------------------------------------
// The systemd unit

/// The `KEY=VALUE` lines of a unit file, by key, in order; comments and section headers
/// skipped.
fn unit_keys(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with('[') || line.is_empty() {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            keys.entry(key.trim().to_owned())
                .or_default()
                .push(value.trim().to_owned());
        }
    }
    keys
}

fn systemd_analyze() -> Option<PathBuf> {
    ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// Runs the real binary with `args` plus `--help`: clap exits 0 only when every argument before
/// it is one the command line knows.
fn assert_cli_accepts(args: &[&str]) {
    let output = Command::new(checker())
        .args(args)
        .arg("--help")
        .output()
        .expect("run zoryx");
    assert!(
        output.status.success(),
        "zoryx does not accept {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let unit_path = root().join("deploy/zoryx.service");
    let text = std::fs::read_to_string(&unit_path).expect("deploy/zoryx.service");
    let keys = unit_keys(&text);
    let one = |key: &str| -> &str {
        keys.get(key)
            .and_then(|v| v.last())
            .map(String::as_str)
            .unwrap_or_else(|| panic!("the unit sets {key}"))
    };
    assert_eq!(one("Restart"), "on-failure");
    let user = one("User");
    assert!(user != "root" && user != "0", "a dedicated user: {user}");
    assert!(one("WorkingDirectory").starts_with('/'));
    assert!(one("EnvironmentFile").starts_with('/'));
    assert_eq!(one("NoNewPrivileges"), "yes");
    assert_eq!(one("ProtectSystem"), "strict");
    assert_eq!(one("KillSignal"), "SIGTERM");
    let stop = one("TimeoutStopSec");
    let seconds: u64 = stop
        .trim_end_matches('s')
        .parse()
        .unwrap_or_else(|_| panic!("TimeoutStopSec in seconds: {stop}"));
    assert!(seconds > 10, "longer than the 10 s drain: {stop}");
    let bind = one("Environment")
        .strip_prefix("ZORYX_HEALTH_BIND=")
        .expect("the health endpoint's address");
    let bind: std::net::SocketAddr = bind.parse().expect("an address");
    assert!(bind.ip().is_loopback(), "health on loopback only: {bind}");
    let exec = one("ExecStart");
    let mut words = exec.split_whitespace();
    let program = words.next().expect("a program");
    let args: Vec<&str> = words.collect();
    assert_cli_accepts(&args);

    let Some(analyze) = systemd_analyze() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "systemd-analyze is required in CI (.ci/run installs the systemd package)"
        );
        eprintln!("notice: skipping `systemd-analyze verify`: systemd-analyze is not installed");
        return;
    };
    // verify checks that ExecStart is an executable: point it at the binary just built.
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("zoryx.service");
    let exe = checker();
    std::fs::write(
        &copy,
        text.replace(program, exe.to_str().expect("utf-8 path")),
    )
    .expect("write the unit");
    let output = Command::new(&analyze)
        .args(["verify", "--man=no"])
        .arg(&copy)
        .output()
        .expect("run systemd-analyze");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "systemd-analyze verify: {said}");
    // It only warns about unknown keys and bad values: any output is a finding.
    assert!(said.trim().is_empty(), "systemd-analyze verify: {said}");

    // And it does find them: the same check on a broken copy complains.
    std::fs::write(
        &copy,
        text.replace(program, exe.to_str().expect("utf-8 path"))
            .replace("Restart=on-failure", "Restart=on-failure\nRestartt=always"),
    )
    .expect("write the unit");
    let output = Command::new(&analyze)
        .args(["verify", "--man=no"])
        .arg(&copy)
        .output()
        .expect("run systemd-analyze");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("Restartt"),
        "the check sees unknown keys"
    );
}

// ---------------------------------------------------------------------------------------------
// The Dockerfile

/// One instruction: keyword (upper case) and its arguments, continuation lines joined.
#[derive(Debug)]
struct Instruction {
    keyword: String,
    args: String,
}

/// A build stage: its base image, name and instructions.
#[derive(Debug)]
struct Stage {
    base: String,
    name: Option<String>,
    body: Vec<Instruction>,
}

fn parse_dockerfile(text: &str) -> (Vec<Instruction>, Vec<Stage>) {
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if trimmed.starts_with('#') {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let (keyword, args) = current
                    .split_once(char::is_whitespace)
                    .expect("KEYWORD args");
                instructions.push(Instruction {
                    keyword: keyword.to_ascii_uppercase(),
                    args: args.trim().to_owned(),
                });
                current.clear();
            }
        }
    }
    assert!(current.is_empty(), "a dangling continuation line");
    let mut global = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    for instruction in instructions {
        if instruction.keyword == "FROM" {
            let words: Vec<&str> = instruction
                .args
                .split_whitespace()
                .filter(|w| !w.starts_with("--"))
                .collect();
            let name = match words.as_slice() {
                [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some((*name).to_owned()),
                _ => None,
            };
            stages.push(Stage {
                base: words[0].to_owned(),
                name,
                body: Vec::new(),
            });
        } else if let Some(stage) = stages.last_mut() {
            stage.body.push(instruction);
        } else {
            global.push(instruction);
        }
    }
    (global, stages)
}

/// The JSON array form of an instruction's arguments (`["a", "b"]`).
fn exec_form(args: &str) -> Vec<String> {
    serde_json::from_str(args).unwrap_or_else(|_| panic!("exec form expected: {args}"))
}

/// Patterns of .dockerignore (one per line, comments dropped).
fn dockerignore() -> Vec<String> {
    std::fs::read_to_string(root().join(".dockerignore"))
        .expect(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_end_matches('/').to_owned())
        .collect()
}

#[test]
fn the_dockerfile_builds_a_small_non_root_image_with_volumes_and_a_health_check() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).expect("Dockerfile");
    let (global, stages) = parse_dockerfile(&text);
    assert!(stages.len() >= 2, "a multi-stage build: {stages:?}");
    let builder = &stages[0];
    let runtime = stages.last().expect("a final stage");
    let builder_name = builder.name.as_deref().expect("the builder stage is named");

    // The builder's Rust is at least the workspace's rust-version.
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let wanted = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("rust-version")
        .trim_matches('"');
    let rust_version = global
        .iter()
        .find_map(|i| i.args.strip_prefix("RUST_VERSION="))
        .expect("ARG RUST_VERSION=...");
    let version =
        |v: &str| -> Vec<u32> { v.split('.').map(|n| n.parse().expect("number")).collect() };
    assert!(
        version(rust_version) >= version(wanted),
        "RUST_VERSION {rust_version} < rust-version {wanted}"
    );
    assert!(
        builder.base.starts_with("rust:${RUST_VERSION}"),
        "{}",
        builder.base
    );

    // The builder builds the host and every first-party plugin, from the locked dependencies.
    let run = builder
        .body
        .iter()
        .find(|i| i.keyword == "RUN" && i.args.contains("cargo build"))
        .expect("a cargo build step");
    assert!(run.args.contains("--release") && run.args.contains("--locked"));
    assert!(root().join("Cargo.lock").is_file());
    let packages: Vec<&str> = run
        .args
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[0] == "-p")
        .map(|w| w[1])
        .collect();
    let mut plugins: Vec<String> = std::fs::read_dir(root().join("plugins"))
        .expect("plugins/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    plugins.sort();
    assert!(packages.contains(&"zoryx-host"), "{packages:?}");
    for plugin in &plugins {
        assert!(
            packages.contains(&plugin.as_str()),
            "plugin {plugin} not built: {packages:?}"
        );
        assert!(
            run.args.contains("for plugin in") && run.args.contains(plugin.as_str()),
            "plugin {plugin} not copied out"
        );
    }

    // COPY sources exist in the build context and are not ignored; --from names earlier stages.
    let ignored = dockerignore();
    assert!(
        ignored.iter().any(|p| p == "target"),
        "target/ stays out of the context"
    );
    assert!(
        ignored.iter().any(|p| p == ".env"),
        "secrets stay out of the context"
    );
    let mut seen_stages = Vec::new();
    for stage in &stages {
        for copy in stage.body.iter().filter(|i| i.keyword == "COPY") {
            let words: Vec<&str> = copy.args.split_whitespace().collect();
            let from = words.iter().find_map(|w| w.strip_prefix("--from="));
            let paths: Vec<&str> = words
                .iter()
                .copied()
                .filter(|w| !w.starts_with("--"))
                .collect();
            let (sources, _dest) = paths.split_at(paths.len() - 1);
            match from {
                Some(from) => {
                    assert!(
                        seen_stages.contains(&from),
                        "COPY --from={from}: no such earlier stage"
                    );
                    for source in sources {
                        assert!(
                            builder.body.iter().any(|i| i.keyword == "RUN"
                                && i.args.contains(source.trim_end_matches('/'))),
                            "{source} is made by the {from} stage"
                        );
                    }
                }
                None => {
                    for source in sources {
                        assert!(root().join(source).exists(), "COPY source {source} exists");
                        assert!(
                            !ignored.iter().any(|p| p == source.trim_end_matches('/')),
                            "COPY source {source} is excluded by .dockerignore"
                        );
                    }
                }
            }
        }
        if let Some(name) = &stage.name {
            seen_stages.push(name.as_str());
        }
    }
    assert_eq!(seen_stages.first(), Some(&builder_name));

    // The final image: a slim Debian, an unprivileged user, the three folders as volumes under
    // the working directory, the health endpoint on and checked by `zoryx health`.
    assert!(
        runtime.base.starts_with("debian:") && runtime.base.ends_with("-slim"),
        "{}",
        runtime.base
    );
    let last = |keyword: &str| -> &str {
        runtime
            .body
            .iter()
            .rev()
            .find(|i| i.keyword == keyword)
            .map(|i| i.args.as_str())
            .unwrap_or_else(|| panic!("the final stage has {keyword}"))
    };
    let user = last("USER");
    assert!(
        !["root", "0", "0:0", "root:root"].contains(&user),
        "USER {user}"
    );
    let useradd = runtime
        .body
        .iter()
        .any(|i| i.keyword == "RUN" && i.args.contains("useradd") && i.args.contains(user));
    assert!(useradd, "the user {user} is created");
    let workdir = last("WORKDIR");
    let volumes = exec_form(last("VOLUME"));
    for folder in ["data", "extensions", "botlogs"] {
        assert!(
            volumes.contains(&format!("{workdir}/{folder}")),
            "{folder} is a volume under {workdir}: {volumes:?}"
        );
    }
    let health_bind = runtime
        .body
        .iter()
        .filter(|i| i.keyword == "ENV")
        .find_map(|i| i.args.strip_prefix("ZORYX_HEALTH_BIND="))
        .expect("ENV ZORYX_HEALTH_BIND turns the endpoint on");
    let bind: std::net::SocketAddr = health_bind.parse().expect("an address");
    assert!(bind.ip().is_loopback(), "inside the container only: {bind}");
    let healthcheck = last("HEALTHCHECK");
    let command = healthcheck
        .split_once("CMD")
        .map(|(_, c)| exec_form(c.trim()))
        .expect("HEALTHCHECK ... CMD [...]");
    assert_eq!(command, ["zoryx", "health"]);
    let entrypoint = exec_form(last("ENTRYPOINT"));
    assert_eq!(entrypoint, ["zoryx"]);
    let copied_binary = runtime
        .body
        .iter()
        .any(|i| i.keyword == "COPY" && i.args.ends_with("/usr/local/bin/zoryx"));
    assert!(copied_binary, "zoryx is on the PATH");
    // The real binary accepts the image's command and health check.
    let cmd = exec_form(last("CMD"));
    assert_cli_accepts(&cmd.iter().map(String::as_str).collect::<Vec<_>>());
    assert_cli_accepts(&["health"]);
    assert_eq!(last("STOPSIGNAL"), "SIGTERM");
}
