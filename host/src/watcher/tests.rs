//! Real files, real notify, in a temporary folder.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use super::{ExtensionWatcher, WatchError, WatchEvent, WatchOptions};

/// How long to wait for an expected event.
const EXPECT: Duration = Duration::from_secs(5);
/// How long nothing more may arrive.
const QUIET: Duration = Duration::from_millis(500);

/// A real shared library (libc), or `None` with a message if this machine has none where
/// expected.
fn library_bytes() -> Option<Vec<u8>> {
    let paths = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/aarch64-linux-gnu/libc.so.6",
        "/usr/lib/aarch64-linux-gnu/libc.so.6",
    ];
    let found = paths.iter().find_map(|p| std::fs::read(p).ok());
    if found.is_none() {
        eprintln!("skipped: no libc.so.6 at {paths:?}");
    }
    found
}

/// A different, still complete version of the same library: trailing bytes past everything the
/// headers describe.
fn new_version(bytes: &[u8]) -> Vec<u8> {
    let mut v2 = bytes.to_vec();
    v2.extend_from_slice(b"a newer build");
    v2
}

struct Fixture {
    _root: tempfile::TempDir,
    /// The watched folder.
    dir: PathBuf,
    /// A sibling folder on the same file system (cargo's `target/`, a download folder).
    outside: PathBuf,
    rx: UnboundedReceiver<WatchEvent>,
    watcher: Option<ExtensionWatcher>,
}

impl Fixture {
    /// Creates the folder with `files` in it, then starts watching it.
    fn start(files: &[(&str, &[u8])]) -> Self {
        Self::start_with(files, WatchOptions::default())
    }

    fn start_with(files: &[(&str, &[u8])], opts: WatchOptions) -> Self {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("extensions");
        let outside = root.path().join("target");
        std::fs::create_dir(&dir).expect("mkdir extensions");
        std::fs::create_dir(&outside).expect("mkdir target");
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes).expect("write initial file");
        }
        let (tx, rx) = unbounded_channel();
        let watcher = ExtensionWatcher::start(&dir, opts, tx).expect("start watching");
        Self {
            _root: root,
            dir,
            outside,
            rx,
            watcher: Some(watcher),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The next event, failing the test if none comes within [`EXPECT`].
    async fn next(&mut self) -> WatchEvent {
        match tokio::time::timeout(EXPECT, self.rx.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => panic!("the watcher closed its channel"),
            Err(_) => panic!("no event within {EXPECT:?}"),
        }
    }

    /// Fails the test if any event arrives within [`QUIET`].
    async fn quiet(&mut self) {
        if let Ok(Some(event)) = tokio::time::timeout(QUIET, self.rx.recv()).await {
            panic!("unexpected event {event:?}");
        }
    }
}

/// Writes `bytes` to `path` in one go, like `cp`: create/truncate, write, close.
fn copy_to(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write");
}

#[test]
fn library_names() {
    let ext = if cfg!(target_os = "macos") {
        "dylib"
    } else if cfg!(windows) {
        "dll"
    } else {
        "so"
    };
    let yes = |name: &str| crate::loader::is_library(Path::new(name));
    assert!(yes(&format!("extensions/hello.{ext}")));
    assert!(yes(&format!("libhello_world.{}", ext.to_uppercase())));
    assert!(!yes(&format!("extensions/.hello.{ext}")));
    assert!(!yes(&format!("extensions/.hello.{ext}.tmp")));
    assert!(!yes(&format!("hello.{ext}.tmp")));
    assert!(!yes(&format!("hello.{ext}.part")));
    assert!(!yes(&format!("hello.{ext}.partial")));
    assert!(!yes(&format!("hello.{ext}~")));
    assert!(!yes(&format!(".{ext}")));
    assert!(!yes(&format!("hello{ext}")));
    assert!(!yes("notes.txt"));
    assert!(!yes("extensions"));
    assert!(!yes(""));
    if ext == "so" {
        assert!(!yes("libc.so.6"), "versioned names are not plugins");
        assert!(!yes("hello.dll"));
    }
}

#[test]
fn start_needs_a_runtime() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (tx, _rx) = unbounded_channel();
    let err =
        ExtensionWatcher::start(dir.path(), WatchOptions::default(), tx).expect_err("no runtime");
    assert!(matches!(err, WatchError::NoRuntime));
}

#[tokio::test(flavor = "multi_thread")]
async fn start_needs_the_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing");
    let (tx, _rx) = unbounded_channel();
    let err =
        ExtensionWatcher::start(&missing, WatchOptions::default(), tx).expect_err("no folder");
    assert!(matches!(err, WatchError::Watch { .. }), "{err:?}");
    assert!(err.to_string().starts_with("cannot watch "), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_file_copied_in_is_reported_once() {
    let Some(lib) = library_bytes() else { return };
    let mut fx = Fixture::start(&[]);
    copy_to(&fx.path("hello.so"), &lib);
    assert_eq!(fx.next().await, WatchEvent::Changed(fx.path("hello.so")));
    fx.quiet().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_overwrite_by_copy_is_reported_once() {
    let Some(lib) = library_bytes() else { return };
    let mut fx = Fixture::start(&[("hello.so", &lib)]);
    copy_to(&fx.path("hello.so"), &new_version(&lib));
    assert_eq!(fx.next().await, WatchEvent::Changed(fx.path("hello.so")));
    fx.quiet().await;
    // And the same again, same size this time.
    copy_to(&fx.path("hello.so"), &lib[..]);
    copy_to(&fx.path("hello.so"), &new_version(&lib));
    assert_eq!(fx.next().await, WatchEvent::Changed(fx.path("hello.so")));
    fx.quiet().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_written_in_two_halves_is_reported_once_after_the_second() {
    let Some(lib) = library_bytes() else { return };
    let mut fx = Fixture::start(&[]);
    let path = fx.path("hello.so");
    let (first, second) = lib.split_at(lib.len() / 2);
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(first).expect("first half");
    file.flush().expect("flush");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(fx.rx.try_recv().is_err(), "reported a half-written file");
    file.write_all(second).expect("second half");
    drop(file);
    assert_eq!(fx.next().await, WatchEvent::Changed(path));
    fx.quiet().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_temp_file_renamed_into_place_is_reported_once() {
    let Some(lib) = library_bytes() else { return };
    let mut fx = Fixture::start(&[("hello.so", &lib)]);
    // Visible temp name, then hidden temp name (what `make plugins` does).
    for tmp in ["hello.so.tmp", ".hello.so.tmp"] {
        let tmp = fx.path(tmp);
        copy_to(&tmp, &new_version(&lib));
        fx.quiet().await;
        std::fs::rename(&tmp, fx.path("hello.so")).expect("rename");
        assert_eq!(fx.next().await, WatchEvent::Changed(fx.path("hello.so")));
        fx.quiet().await;
        copy_to(&fx.path("ignored.so.part"), &lib);
        std::fs::remove_file(fx.path("hello.so")).expect("rm");
        assert_eq!(fx.next().await, WatchEvent::Removed(fx.path("hello.so")));
        copy_to(&fx.path("hello.so"), &lib);
        assert_eq!(fx.next().await, WatchEvent::Changed(fx.path("hello.so")));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cargo_style_unlink_and_hard_link_is_one_change() {
    let Some(lib) = library_bytes() else { return };
    let mut fx = Fixture::start(&[("hello.so", &lib)]);
    for round in 0..2 {
        let built = fx.outside.join(format!("libhello-{round}.so"));
        copy_to(&built, &new_version(&lib)[..lib.len() + round]);
        let installed = fx.path("hello.so");
        std::fs::remove_file(&installed).expect("unlink");
        std::fs::hard_link(&built, &installed).expect("link");
        assert_eq!(fx.next().await, WatchEvent::Changed(installed));
        fx.quiet().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delete_is_reported_once() {
    let Some(lib) = library_bytes() else { return };
    let mut fx = Fixture::start(&[("hello.so", &lib), ("other.so", &lib)]);
    std::fs::remove_file(fx.path("hello.so")).expect("rm");
    assert_eq!(fx.next().await, WatchEvent::Removed(fx.path("hello.so")));
    fx.quiet().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rename_away_is_a_removal_and_a_new_file() {
    let Some(lib) = library_bytes() else { return };
    let mut fx = Fixture::start(&[("hello.so", &lib)]);
    std::fs::rename(fx.path("hello.so"), fx.path("world.so")).expect("rename");
    let mut events = vec![fx.next().await, fx.next().await];
    events.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        events,
        [
            WatchEvent::Changed(fx.path("world.so")),
            WatchEvent::Removed(fx.path("hello.so")),
        ]
    );
    std::fs::rename(fx.path("world.so"), fx.outside.join("world.so")).expect("move out");
    assert_eq!(fx.next().await, WatchEvent::Removed(fx.path("world.so")));
    fx.quiet().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reading_a_library_is_not_a_change() {
    let Some(lib) = library_bytes() else { return };
    let mut fx = Fixture::start(&[("hello.so", &lib)]);
    // What the loader does: open, read, copy to a private place.
    for _ in 0..3 {
        let bytes = std::fs::read(fx.path("hello.so")).expect("read");
        assert_eq!(bytes.len(), lib.len());
        std::fs::copy(fx.path("hello.so"), fx.outside.join("private.so")).expect("copy");
        crate::loader::binary::check_library_file(&fx.path("hello.so")).expect("complete");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    fx.quiet().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn other_files_are_not_reported() {
    let Some(lib) = library_bytes() else { return };
    let mut fx = Fixture::start(&[]);
    copy_to(&fx.path("notes.txt"), b"hello");
    copy_to(&fx.path("hello.so.part"), &lib);
    copy_to(&fx.path(".hidden.so"), &lib);
    std::fs::create_dir(fx.path("sub.so")).expect("a folder named like a library");
    copy_to(&fx.path("sub.so").join("inner.so"), &lib);
    std::fs::remove_file(fx.path("notes.txt")).expect("rm");
    fx.quiet().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn files_present_at_start_are_not_reported() {
    let Some(lib) = library_bytes() else { return };
    let mut fx = Fixture::start(&[("hello.so", &lib), ("world.so", &lib)]);
    fx.quiet().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_complete_file_that_is_no_library_is_reported_for_the_loader_to_refuse() {
    let mut fx = Fixture::start(&[]);
    copy_to(&fx.path("bad.so"), b"this is not an ELF file at all");
    assert_eq!(fx.next().await, WatchEvent::Changed(fx.path("bad.so")));
    fx.quiet().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incomplete_file_is_given_up_on_then_picked_up_when_it_changes() {
    let Some(lib) = library_bytes() else { return };
    let opts = WatchOptions {
        max_wait: Duration::from_millis(300),
        ..WatchOptions::default()
    };
    let mut fx = Fixture::start_with(&[], opts);
    let path = fx.path("hello.so");
    let (first, second) = lib.split_at(lib.len() / 2);
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(first).expect("first half");
    file.flush().expect("flush");
    // Given up after 300 ms; the watcher's own reads while waiting do not restart it.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let _ = std::fs::read(&path).expect("read");
    fx.quiet().await;
    file.write_all(second).expect("second half");
    drop(file);
    assert_eq!(fx.next().await, WatchEvent::Changed(path));
    fx.quiet().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dropping_the_watcher_stops_it() {
    let Some(lib) = library_bytes() else { return };
    let mut fx = Fixture::start(&[]);
    // A wait under way when the watcher goes is abandoned too.
    copy_to(&fx.path("early.so"), &lib[..lib.len() / 2]);
    tokio::time::sleep(Duration::from_millis(150)).await;
    drop(fx.watcher.take());
    copy_to(&fx.path("early.so"), &lib);
    copy_to(&fx.path("hello.so"), &lib);
    let closed = tokio::time::timeout(EXPECT, fx.rx.recv())
        .await
        .expect("channel closed soon after the drop");
    assert_eq!(closed, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn latency_is_about_debounce_plus_settle() {
    let Some(lib) = library_bytes() else { return };
    let mut fx = Fixture::start(&[]);
    let mut latencies = Vec::new();
    for round in 0..5 {
        let path = fx.path(&format!("lib{round}.so"));
        copy_to(&path, &lib);
        let written = Instant::now();
        assert_eq!(fx.next().await, WatchEvent::Changed(path));
        latencies.push(written.elapsed());
    }
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    tracing::info!(?latencies, "write-complete to Changed");
    // debounce 50 + tick 12.5 + settle 30, with generous room for a loaded machine.
    assert!(median >= Duration::from_millis(70), "{latencies:?}");
    assert!(median < Duration::from_millis(1000), "{latencies:?}");
}
