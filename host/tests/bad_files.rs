//! Hostile and broken files are refused with one clear line, and the host lives on.

mod support;

use support::{TestHost, checker, fixture};
use zoryx_host::manager::OpError;

fn refusal(error: &OpError) -> String {
    error.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bytes_c_library_and_truncated_plugins_are_refused() {
    let host = TestHost::new(&[("basic-v1.so", "basic.so"), ("not-a-plugin.so", "clib.so")]);
    let ext = host.extensions();
    // Random bytes with a library name.
    let mut noise = vec![0u8; 64 * 1024];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for byte in &mut noise {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *byte = x as u8;
    }
    std::fs::write(ext.join("noise.so"), &noise).expect("noise");
    // A real plugin cut short at several points, each under its own name.
    let plugin = std::fs::read(fixture("basic-v1.so")).expect("read");
    for percent in [10usize, 50, 90, 99] {
        let len = plugin.len() * percent / 100;
        std::fs::write(ext.join(format!("cut{percent}.so")), &plugin[..len]).expect("cut");
    }
    let report = host.manager.load_all().await;
    assert_eq!(
        report.loaded,
        vec!["basic".to_string()],
        "{:?}",
        report.refused
    );
    let lines: Vec<String> = report
        .refused
        .iter()
        .map(|(file, e)| format!("{file}: {}", refusal(e)))
        .collect();
    let line = |file: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(file))
            .cloned()
            .unwrap_or_else(|| panic!("{file} not refused: {lines:?}"))
    };
    assert!(
        line("noise.so").contains("not a shared library"),
        "{}",
        line("noise.so")
    );
    assert!(
        line("clib.so").contains("not a Zoryx plugin"),
        "{}",
        line("clib.so")
    );
    for percent in [10, 50, 90, 99] {
        let l = line(&format!("cut{percent}.so"));
        assert!(
            l.contains("truncated") || l.contains("trial load failed"),
            "{l}"
        );
    }
    for l in &lines {
        assert!(!l.contains('\n'), "one line per refusal: {l}");
    }
    // The host is alive and serving.
    assert_eq!(host.call("version", "").await.1, vec!["v1"]);
}

/// Libraries for other platforms and programs, from the committed samples in
/// `test-fixtures/binaries/`, each under a library name: one line each naming what it is.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libraries_for_other_platforms_and_programs_are_refused() {
    let (own, other, other_machine) = if cfg!(target_arch = "x86_64") {
        (
            "elf-x86_64.so",
            "elf-aarch64.so",
            "ELF machine 183 (aarch64), this host is x86_64",
        )
    } else {
        (
            "elf-aarch64.so",
            "elf-x86_64.so",
            "ELF machine 62 (x86_64), this host is aarch64",
        )
    };
    let samples = support::root().join("test-fixtures/binaries");
    let host = TestHost::new(&[("basic-v1.so", "basic.so")]);
    let expected = [
        (
            "pe-x86_64.dll",
            "windows.so",
            "built for another platform: PE file (Windows, x86_64), this host loads ELF libraries",
        ),
        (
            "macho-universal.dylib",
            "mac.so",
            "built for another platform: universal Mach-O file (macOS, x86_64, aarch64), \
             this host loads ELF libraries",
        ),
        (
            "elf-i386.so",
            "i386.so",
            "built for another platform: 32-bit ELF file, this host needs 64-bit",
        ),
        (other, "other_cpu.so", other_machine),
        (
            "elf-x86_64.exe",
            "program.so",
            "not a shared library (ELF type 2)",
        ),
        (own, "c_library.so", "not a Zoryx plugin"),
    ];
    for (sample, file, _) in expected {
        std::fs::copy(samples.join(sample), host.extensions().join(file)).expect("copy sample");
    }
    let report = host.manager.load_all().await;
    assert_eq!(
        report.loaded,
        vec!["basic".to_string()],
        "{:?}",
        report.refused
    );
    assert_eq!(report.refused.len(), expected.len(), "{:?}", report.refused);
    for (sample, file, message) in expected {
        let (_, error) = report
            .refused
            .iter()
            .find(|(f, _)| f.starts_with(file))
            .unwrap_or_else(|| panic!("{file} not refused: {:?}", report.refused));
        let line = refusal(error);
        assert!(line.contains(message), "{sample} as {file}: {line}");
        assert!(!line.contains('\n'), "one line per refusal: {line}");
    }
    assert_eq!(host.call("version", "").await.1, vec!["v1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_plugin_names_are_refused() {
    let host = TestHost::new(&[
        ("basic-v1.so", "basic.so"),
        ("basic-v2.so", "basic_copy.so"),
    ]);
    let report = host.manager.load_all().await;
    assert_eq!(report.loaded.len(), 1);
    let (file, error) = &report.refused[0];
    assert!(
        error.to_string().contains("duplicate plugin name `basic`"),
        "{file}: {error}"
    );
}

#[test]
fn plugins_check_cli_reports_manifest_and_refusals() {
    let ok = std::process::Command::new(checker())
        .args(["plugins", "check"])
        .arg(fixture("basic-v1.so"))
        .output()
        .expect("run zoryx");
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{text}");
    assert!(text.contains("valid"), "{text}");
    assert!(text.contains("basic 1.0.0"), "{text}");
    assert!(text.contains("!echo <n: integer>"), "{text}");

    let bad = std::process::Command::new(checker())
        .args(["plugins", "check"])
        .arg(fixture("not-a-plugin.so"))
        .output()
        .expect("run zoryx");
    let text = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(text.contains("refused: not a Zoryx plugin"), "{text}");
}
