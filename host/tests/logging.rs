//! Log files on disk: `current_run.log` emptied per start, `permanent.log` appended and rotated
//! at its size with N backups, expired backups removed, level mapping and `RUST_LOG` override,
//! the plugin field kept in file lines.

use std::path::Path;
use std::time::{Duration, SystemTime};

use zoryx_host::logging::{self, LogOptions, RotatingFile};

fn options(dir: &Path) -> LogOptions {
    LogOptions {
        dir: dir.to_owned(),
        level: "INFO".to_owned(),
        rust_log: None,
        max_bytes: 10 * 1024 * 1024,
        backup_count: 5,
        retention: logging::RETENTION,
        console: false,
        console_level: None,
        tail: None,
    }
}

/// Runs `body` with logging set up by `options` (one "start"), then stops it.
fn session(options: &LogOptions, body: impl FnOnce()) {
    let (subscriber, guard) = logging::subscriber(options).expect("logging");
    tracing::subscriber::with_default(subscriber, body);
    drop(guard);
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn current_run_is_emptied_per_start_and_permanent_keeps_every_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = options(dir.path());
    session(&options, || tracing::info!("first run line"));
    let current = dir.path().join(logging::CURRENT_RUN);
    let permanent = dir.path().join(logging::PERMANENT);
    assert!(read(&current).contains("first run line"));
    session(&options, || tracing::info!("second run line"));
    let current = read(&current);
    assert!(current.contains("second run line"), "{current}");
    assert!(!current.contains("first run line"), "{current}");
    let permanent = read(&permanent);
    assert!(
        permanent.contains("first run line") && permanent.contains("second run line"),
        "{permanent}"
    );
}

#[test]
fn file_lines_carry_level_fields_and_the_plugin_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    session(&options(dir.path()), || {
        let plugin = "hello";
        tracing::warn!(plugin, "greeting failed");
    });
    let text = read(&dir.path().join(logging::PERMANENT));
    let line = text
        .lines()
        .find(|l| l.contains("greeting failed"))
        .expect("the line");
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("plugin=\"hello\""), "{line}");
    assert!(!line.contains('\u{1b}'), "no colour codes in files: {line}");
}

#[test]
fn config_levels_map_and_rust_log_overrides() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = options(dir.path());
    options.level = "WARNING".to_owned();
    session(&options, || {
        tracing::info!("info under WARNING");
        tracing::warn!("warn under WARNING");
    });
    options.level = "CRITICAL".to_owned();
    session(&options, || {
        tracing::warn!("warn under CRITICAL");
        tracing::error!("error under CRITICAL");
    });
    options.level = "ERROR".to_owned();
    options.rust_log = Some("debug".to_owned());
    session(&options, || tracing::debug!("debug under RUST_LOG"));
    let text = read(&dir.path().join(logging::PERMANENT));
    assert!(!text.contains("info under WARNING"), "{text}");
    assert!(text.contains("warn under WARNING"), "{text}");
    assert!(!text.contains("warn under CRITICAL"), "{text}");
    assert!(text.contains("error under CRITICAL"), "{text}");
    assert!(text.contains("debug under RUST_LOG"), "{text}");
    assert_eq!(logging::tracing_level("WARNING"), "warn");
    assert_eq!(logging::tracing_level("CRITICAL"), "error");
    assert_eq!(logging::tracing_level("debug"), "debug");
    options.rust_log = Some("[[[".to_owned());
    assert!(
        logging::subscriber(&options).is_err(),
        "a bad RUST_LOG is an error"
    );
}

#[test]
fn permanent_log_rotates_at_its_size_keeping_n_backups() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = options(dir.path());
    options.max_bytes = 2048;
    options.backup_count = 3;
    session(&options, || {
        for i in 0..200 {
            tracing::info!("line number {i:04} with some padding to make it longer");
        }
    });
    let permanent = dir.path().join(logging::PERMANENT);
    let mut files = vec![permanent.clone()];
    for n in 1..=3 {
        let backup = dir.path().join(format!("{}.{n}", logging::PERMANENT));
        assert!(backup.exists(), "backup {n}");
        files.push(backup);
    }
    assert!(
        !dir.path()
            .join(format!("{}.4", logging::PERMANENT))
            .exists(),
        "only 3 backups"
    );
    for file in &files {
        let size = std::fs::metadata(file).expect("meta").len();
        assert!(size <= 2048, "{} is {size} bytes", file.display());
        assert!(read(file).ends_with('\n'), "files break between lines");
    }
    // Newest in permanent.log, older ones in .1, .2, .3: the numbers run on without a gap and
    // end at the last line; the oldest lines are gone.
    let numbers: Vec<u32> = files
        .iter()
        .rev()
        .flat_map(|f| {
            read(f)
                .lines()
                .filter_map(|l| l.split("line number ").nth(1)?.get(..4)?.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect();
    assert_eq!(numbers.last(), Some(&199));
    assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1), "{numbers:?}");
    assert!(numbers[0] > 0, "the oldest lines were rotated away");
    // current_run.log is not rotated: it has every line of this run.
    assert_eq!(
        read(&dir.path().join(logging::CURRENT_RUN))
            .lines()
            .filter(|l| l.contains("line number"))
            .count(),
        200
    );
}

#[test]
fn rotating_file_without_backups_starts_over() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("x.log");
    let mut file = RotatingFile::open(&path, 10, 0).expect("open");
    use std::io::Write as _;
    file.write_all(b"12345678\n").expect("write");
    file.write_all(b"abcdefgh\n").expect("write");
    file.flush().expect("flush");
    assert_eq!(read(&path), "abcdefgh\n");
    assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 1);
}

#[test]
fn expired_backups_are_removed_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let old = dir.path().join("permanent.log.4");
    let fresh = dir.path().join("permanent.log.1");
    let unrelated = dir.path().join("notes.txt");
    for file in [&old, &fresh, &unrelated] {
        std::fs::write(file, "x\n").expect("write");
    }
    let month_ago = SystemTime::now() - Duration::from_secs(31 * 24 * 3600);
    for file in [&old, &unrelated] {
        std::fs::File::options()
            .write(true)
            .open(file)
            .expect("open")
            .set_modified(month_ago)
            .expect("age it");
    }
    let (_subscriber, guard) = logging::subscriber(&options(dir.path())).expect("logging");
    assert_eq!(guard.expired_backups_removed, 1);
    assert!(!old.exists());
    assert!(fresh.exists());
    assert!(unrelated.exists(), "only numbered log backups are removed");
}
