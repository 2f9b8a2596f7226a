//! The check against real ELF, PE and Mach-O files (the samples in `test-fixtures/binaries/`,
//! made by its `make.sh`), checked as every platform would, whole, cut short and edited.

use std::path::{Path, PathBuf};

use object::Architecture::{self, Aarch64, I386, X86_64};

use super::*;

const fn target(format: Format, arch: Architecture, bits: u8) -> Target {
    Target {
        format,
        arch: Some(arch),
        bits,
        little_endian: true,
    }
}

const LINUX_X86_64: Target = target(Format::Elf, X86_64, 64);
const LINUX_AARCH64: Target = target(Format::Elf, Aarch64, 64);
const LINUX_X86: Target = target(Format::Elf, I386, 32);
const WINDOWS_X86_64: Target = target(Format::Pe, X86_64, 64);
const WINDOWS_AARCH64: Target = target(Format::Pe, Aarch64, 64);
const WINDOWS_X86: Target = target(Format::Pe, I386, 32);
const MACOS_X86_64: Target = target(Format::MachO, X86_64, 64);
const MACOS_AARCH64: Target = target(Format::MachO, Aarch64, 64);

const TARGETS: [Target; 8] = [
    LINUX_X86_64,
    LINUX_AARCH64,
    LINUX_X86,
    WINDOWS_X86_64,
    WINDOWS_AARCH64,
    WINDOWS_X86,
    MACOS_X86_64,
    MACOS_AARCH64,
];

/// A committed sample and what it is.
struct Sample {
    file: &'static str,
    format: Format,
    bits: u8,
    /// The CPUs it holds code for (a universal file: one per slice, in order).
    arches: &'static [Architecture],
    /// `None` for a library; for anything else, the whole refusal.
    refusal: Option<&'static str>,
}

const fn sample(
    file: &'static str,
    format: Format,
    bits: u8,
    arches: &'static [Architecture],
    refusal: Option<&'static str>,
) -> Sample {
    Sample {
        file,
        format,
        bits,
        arches,
        refusal,
    }
}

const SAMPLES: [Sample; 17] = [
    sample("elf-x86_64.so", Format::Elf, 64, &[X86_64], None),
    sample("elf-aarch64.so", Format::Elf, 64, &[Aarch64], None),
    sample("elf-i386.so", Format::Elf, 32, &[I386], None),
    sample(
        "elf-x86_64.o",
        Format::Elf,
        64,
        &[X86_64],
        Some("not a shared library (ELF type 1)"),
    ),
    sample(
        "elf-x86_64.exe",
        Format::Elf,
        64,
        &[X86_64],
        Some("not a shared library (ELF type 2)"),
    ),
    sample(
        "elf-x86_64-pie",
        Format::Elf,
        64,
        &[X86_64],
        Some("not a shared library (position-independent executable)"),
    ),
    sample("pe-x86_64.dll", Format::Pe, 64, &[X86_64], None),
    sample("pe-aarch64.dll", Format::Pe, 64, &[Aarch64], None),
    sample("pe-i386.dll", Format::Pe, 32, &[I386], None),
    sample(
        "pe-x86_64.exe",
        Format::Pe,
        64,
        &[X86_64],
        Some("not a shared library (PE executable without the DLL flag)"),
    ),
    sample("macho-x86_64.dylib", Format::MachO, 64, &[X86_64], None),
    sample("macho-aarch64.dylib", Format::MachO, 64, &[Aarch64], None),
    sample("macho-x86_64.bundle", Format::MachO, 64, &[X86_64], None),
    sample(
        "macho-x86_64.exe",
        Format::MachO,
        64,
        &[X86_64],
        Some("not a shared library (Mach-O executable)"),
    ),
    sample(
        "macho-x86_64.o",
        Format::MachO,
        64,
        &[X86_64],
        Some("not a shared library (Mach-O object file)"),
    ),
    sample(
        "macho-universal.dylib",
        Format::Universal,
        64,
        &[X86_64, Aarch64],
        None,
    ),
    sample(
        "macho-universal-aarch64.dylib",
        Format::Universal,
        64,
        &[Aarch64],
        None,
    ),
];

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-fixtures/binaries")
}

fn read_sample(file: &str) -> Vec<u8> {
    let path = samples_dir().join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn check(bytes: &[u8], target: &Target) -> Result<Summary, CheckError> {
    check_for(bytes, bytes.len() as u64, target)
}

fn name(arch: Architecture) -> &'static str {
    arch_name(arch)
}

/// What `sample` checked as `target` must give: `Ok(arch)` or `Err(refusal)`.
fn expected(sample: &Sample, target: &Target) -> Result<&'static str, String> {
    let host = target.arch.map_or("unknown", name);
    if sample.format.loaded_as() != target.format {
        let cpus: Vec<&str> = sample.arches.iter().copied().map(name).collect();
        return Err(format!(
            "built for another platform: {} file ({}, {}), this host loads {} libraries",
            sample.format,
            sample.format.os(),
            cpus.join(", "),
            target.format
        ));
    }
    if sample.format == Format::Universal {
        let Some(&arch) = sample.arches.iter().find(|&&a| Some(a) == target.arch) else {
            let cpus: Vec<&str> = sample.arches.iter().copied().map(name).collect();
            return Err(format!(
                "built for another CPU: universal Mach-O file for {}, this host is {host}",
                cpus.join(" and ")
            ));
        };
        return Ok(name(arch));
    }
    if sample.bits != target.bits {
        return Err(format!(
            "built for another platform: {}-bit {} file, this host needs {}-bit",
            sample.bits, sample.format, target.bits
        ));
    }
    let arch = sample.arches[0];
    if Some(arch) != target.arch {
        let code = match (sample.format, arch) {
            (Format::Elf, X86_64) => "ELF machine 62",
            (Format::Elf, Aarch64) => "ELF machine 183",
            (Format::Elf, I386) => "ELF machine 3",
            (Format::Pe, X86_64) => "PE machine 0x8664",
            (Format::Pe, Aarch64) => "PE machine 0xaa64",
            (Format::Pe, I386) => "PE machine 0x14c",
            (_, X86_64) => "Mach-O CPU type 0x1000007",
            (_, Aarch64) => "Mach-O CPU type 0x100000c",
            _ => "?",
        };
        return Err(format!(
            "built for another CPU: {code} ({}), this host is {host}",
            name(arch)
        ));
    }
    match sample.refusal {
        Some(refusal) => Err(refusal.to_owned()),
        None => Ok(name(arch)),
    }
}

#[test]
fn every_sample_as_every_platform() {
    let mut accepted = 0;
    for sample in &SAMPLES {
        let bytes = read_sample(sample.file);
        for target in &TARGETS {
            let what = format!("{} as {target:?}", sample.file);
            match (check(&bytes, target), expected(sample, target)) {
                (Ok(summary), Ok(arch)) => {
                    accepted += 1;
                    assert_eq!(summary.format, sample.format, "{what}");
                    assert_eq!(summary.arch, arch, "{what}");
                    assert_eq!(summary.size, bytes.len() as u64, "{what}");
                    assert!(summary.segments > 0, "{what}");
                }
                (Err(error), Err(message)) => {
                    assert_eq!(error.to_string(), message, "{what}");
                    assert!(!error.is_incomplete(), "{what}");
                }
                (got, want) => panic!("{what}: got {got:?}, expected {want:?}"),
            }
        }
    }
    // Each library is accepted where it belongs (the universal one on both Macs).
    assert_eq!(accepted, 12);
}

#[test]
fn on_disk_the_check_says_the_same() {
    for sample in &SAMPLES {
        let path = samples_dir().join(sample.file);
        let bytes = read_sample(sample.file);
        for target in &TARGETS {
            let on_disk = check_file_for(&path, target).map_err(|e| e.to_string());
            let in_memory = check(&bytes, target).map_err(|e| e.to_string());
            assert_eq!(on_disk, in_memory, "{} as {target:?}", sample.file);
        }
        // And the public entry points, as this host.
        assert_eq!(
            check_library_file(&path).map_err(|e| e.to_string()),
            check_library_bytes(&bytes).map_err(|e| e.to_string()),
            "{}",
            sample.file
        );
    }
}

#[test]
fn this_host_accepts_only_its_own_libraries() {
    for sample in &SAMPLES {
        let bytes = read_sample(sample.file);
        let result = check_library_bytes(&bytes).map(|s| s.arch);
        let want = expected(sample, &Target::HOST);
        assert_eq!(result.map_err(|e| e.to_string()), want, "{}", sample.file);
    }
}

/// Every (sample, platform) pair that is accepted.
fn accepted() -> Vec<(&'static Sample, Target, Vec<u8>)> {
    let mut pairs = Vec::new();
    for sample in &SAMPLES {
        let bytes = read_sample(sample.file);
        for target in TARGETS {
            if expected(sample, &target).is_ok() {
                pairs.push((sample, target, bytes.clone()));
            }
        }
    }
    pairs
}

#[test]
fn every_cut_of_every_library_is_incomplete() {
    for (sample, target, bytes) in accepted() {
        for len in 0..bytes.len() {
            let what = format!("{} cut to {len} bytes as {target:?}", sample.file);
            let error = check(&bytes[..len], &target).expect_err(&what);
            assert!(error.is_incomplete(), "{what}: {error:?}");
            if let CheckError::Truncated {
                format,
                size,
                needed,
            } = error
            {
                assert_eq!(format, sample.format, "{what}");
                assert_eq!(size, len as u64, "{what}");
                assert!(
                    needed > size && needed <= bytes.len() as u64,
                    "{what}: {needed}"
                );
                assert_eq!(
                    error.to_string(),
                    format!("truncated: file is {size} bytes, {format} headers need {needed}")
                );
            } else {
                assert_eq!(len, 0, "{what}: {error:?}");
            }
        }
    }
}

#[test]
fn cut_files_on_disk_are_incomplete() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (sample, target, bytes) in accepted() {
        for per_mille in [1usize, 100, 500, 900, 999] {
            let len = (bytes.len() * per_mille / 1000).max(1);
            let path = dir.path().join(format!("cut-{per_mille}-{}", sample.file));
            std::fs::write(&path, &bytes[..len]).expect("write");
            let on_disk = check_file_for(&path, &target).expect_err("cut");
            let in_memory = check(&bytes[..len], &target).expect_err("cut");
            assert!(on_disk.is_incomplete(), "{}: {on_disk:?}", path.display());
            assert_eq!(on_disk.to_string(), in_memory.to_string());
        }
    }
}

#[test]
fn trailing_bytes_are_fine() {
    for (sample, target, mut bytes) in accepted() {
        bytes.extend_from_slice(b"trailing data");
        check(&bytes, &target).unwrap_or_else(|e| panic!("{}: {e}", sample.file));
    }
}

#[test]
fn empty_and_missing_files() {
    assert!(matches!(check_library_bytes(b""), Err(CheckError::Empty)));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("empty.so");
    std::fs::write(&path, b"").expect("write");
    let err = check_library_file(&path).expect_err("empty file refused");
    assert!(matches!(err, CheckError::Empty));
    assert_eq!(err.to_string(), "not a shared library (empty file)");
    assert!(err.is_incomplete());

    let err = check_library_file(&dir.path().join("nope.so")).expect_err("missing");
    assert!(matches!(err, CheckError::Read(_)));
    assert!(!err.is_incomplete());
}

#[test]
fn other_files_are_unknown() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let mut java = vec![0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x34];
    java.extend_from_slice(&[0u8; 64]);
    let inputs: [&[u8]; 5] = [
        &random,
        b"hello world, not a library at all",
        b"!<arch>\nlibstatic.a member",
        b"#!/bin/sh\necho hi\n",
        &java,
    ];
    for bytes in inputs {
        for target in &TARGETS {
            let err = check(bytes, target).expect_err("unknown");
            assert!(matches!(err, CheckError::Unknown), "{err:?}");
            assert!(!err.is_incomplete());
            assert_eq!(
                err.to_string(),
                "not a shared library (no ELF, PE or Mach-O header)"
            );
        }
    }
}

#[test]
fn a_file_shorter_than_its_magic_number_is_truncated() {
    let cases: [(&[u8], Format); 5] = [
        (b"\x7f", Format::Elf),
        (b"\x7fEL", Format::Elf),
        (b"M", Format::Pe),
        (&[0xcf, 0xfa, 0xed], Format::MachO),
        (&[0xca, 0xfe], Format::Universal),
    ];
    for (bytes, format) in cases {
        for target in &TARGETS {
            let err = check(bytes, target).expect_err("short");
            assert!(
                matches!(err, CheckError::Truncated { format: f, size, .. } if f == format && size == bytes.len() as u64),
                "{bytes:?}: {err:?}"
            );
        }
    }
}

/// Writes `value` little-endian at `at`.
fn put(bytes: &mut [u8], at: usize, value: &[u8]) {
    bytes[at..at + value.len()].copy_from_slice(value);
}

fn u32_le(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

#[test]
fn edited_pe_headers() {
    let dll = read_sample("pe-x86_64.dll");
    let nt = u32_le(&dll, 0x3c) as usize;
    let t = &WINDOWS_X86_64;
    check(&dll, t).expect("the sample is a library");

    // NT headers announced past the end.
    let mut b = dll.clone();
    put(&mut b, 0x3c, &100_000u32.to_le_bytes());
    let err = check(&b, t).expect_err("far NT headers");
    assert!(
        matches!(
            err,
            CheckError::Truncated {
                needed: 100_004,
                ..
            }
        ),
        "{err:?}"
    );

    // An MS-DOS program.
    let mut b = dll.clone();
    put(&mut b, nt, b"NOPE");
    let err = check(&b, t).expect_err("no PE signature");
    assert_eq!(
        err.to_string(),
        "not a shared library (malformed PE headers: an MS-DOS program without PE headers)"
    );

    // Without the DLL flag.
    let mut b = dll.clone();
    let flags = u16::from_le_bytes([b[nt + 22], b[nt + 23]]) & !0x2000;
    put(&mut b, nt + 22, &flags.to_le_bytes());
    let err = check(&b, t).expect_err("no DLL flag");
    assert!(
        matches!(err, CheckError::NotShared { format: Format::Pe, kind } if kind == u32::from(flags))
    );

    // A section whose raw data lies past the end.
    let sections = nt + 24 + usize::from(u16::from_le_bytes([b[nt + 20], b[nt + 21]]));
    let mut b = dll.clone();
    put(&mut b, sections + 20, &1_000_000u32.to_le_bytes());
    let err = check(&b, t).expect_err("section past the end");
    let size = u32_le(&dll, sections + 16);
    assert!(
        matches!(err, CheckError::Truncated { needed, .. } if needed == 1_000_000 + u64::from(size)),
        "{err:?}"
    );

    // More sections than the file holds.
    let mut b = dll.clone();
    put(&mut b, nt + 6, &60_000u16.to_le_bytes());
    let err = check(&b, t).expect_err("section table past the end");
    assert!(
        matches!(err, CheckError::Truncated { needed, .. } if needed == sections as u64 + 60_000 * 40),
        "{err:?}"
    );

    // An optional header too small for its magic.
    let mut b = dll.clone();
    put(&mut b, nt + 20, &16u16.to_le_bytes());
    let err = check(&b, t).expect_err("optional header too small");
    assert!(matches!(err, CheckError::Malformed { .. }), "{err:?}");
}

#[test]
fn edited_macho_headers() {
    let dylib = read_sample("macho-x86_64.dylib");
    let t = &MACOS_X86_64;
    check(&dylib, t).expect("the sample is a library");

    let mut b = dylib.clone();
    put(&mut b, 0, &[0xce, 0xfa, 0xed, 0xfe]);
    assert_eq!(
        check(&b, t).expect_err("32-bit").to_string(),
        "built for another platform: 32-bit Mach-O file, this host needs 64-bit"
    );
    let mut b = dylib.clone();
    put(&mut b, 0, &[0xfe, 0xed, 0xfa, 0xcf]);
    assert_eq!(
        check(&b, t).expect_err("big-endian").to_string(),
        "built for another platform: big-endian Mach-O file, this host is little-endian"
    );

    // Load commands announced past the end.
    let mut b = dylib.clone();
    put(&mut b, 20, &100_000u32.to_le_bytes());
    let err = check(&b, t).expect_err("commands");
    assert!(
        matches!(
            err,
            CheckError::Truncated {
                needed: 100_032,
                ..
            }
        ),
        "{err:?}"
    );

    // A segment past the end: the first segment command's file offset.
    let mut b = dylib.clone();
    let segment = first_command(&b, 0x19); // LC_SEGMENT_64
    put(&mut b, segment + 40, &1_000_000u64.to_le_bytes());
    let err = check(&b, t).expect_err("segment past the end");
    assert!(
        matches!(err, CheckError::Truncated { needed, .. } if needed > 1_000_000),
        "{err:?}"
    );

    // A load command that claims more than the command table.
    let mut b = dylib.clone();
    put(&mut b, 32 + 4, &0x7fff_0000u32.to_le_bytes());
    let err = check(&b, t).expect_err("command too large");
    assert!(matches!(err, CheckError::Malformed { .. }), "{err:?}");
}

/// The offset of the first load command of type `cmd` in a thin 64-bit Mach-O file.
fn first_command(bytes: &[u8], cmd: u32) -> usize {
    let count = u32_le(bytes, 16);
    let mut at = 32;
    for _ in 0..count {
        if u32_le(bytes, at) == cmd {
            return at;
        }
        at += u32_le(bytes, at + 4) as usize;
    }
    panic!("no load command {cmd:#x}");
}

fn u32_be(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// The universal sample rewritten with the 64-bit slice table (`FAT_MAGIC_64`).
fn universal_64(fat: &[u8]) -> Vec<u8> {
    let count = u32_be(fat, 4) as usize;
    let first = u32_be(fat, 8 + 8) as usize;
    assert!(8 + count * 32 <= first, "room for the wider table");
    let mut b = fat.to_vec();
    b[8..first].fill(0);
    put(&mut b, 0, &0xcafe_babfu32.to_be_bytes());
    for i in 0..count {
        let old = 8 + i * 20;
        let new = 8 + i * 32;
        put(&mut b, new, &fat[old..old + 8]); // cputype, cpusubtype
        put(
            &mut b,
            new + 8,
            &u64::from(u32_be(fat, old + 8)).to_be_bytes(),
        );
        put(
            &mut b,
            new + 16,
            &u64::from(u32_be(fat, old + 12)).to_be_bytes(),
        );
        put(&mut b, new + 24, &fat[old + 16..old + 20]); // align
    }
    b
}

#[test]
fn universal_files() {
    let fat = read_sample("macho-universal.dylib");
    for target in [MACOS_X86_64, MACOS_AARCH64] {
        let summary = check(&universal_64(&fat), &target).expect("64-bit slice table");
        assert_eq!(summary.format, Format::Universal);
        assert_eq!(Some(summary.arch), target.arch.map(arch_name));
        let wide = universal_64(&fat);
        for len in [1, 7, 8, 20, 71, 72, 73, 4096, wide.len() - 1] {
            let err = check(&wide[..len], &target).expect_err("cut");
            assert!(err.is_incomplete(), "{len}: {err:?}");
        }
    }

    // A slice announced past the end.
    let mut b = fat.clone();
    put(&mut b, 8 + 20 + 8, &1_000_000u32.to_be_bytes());
    let err = check(&b, &MACOS_X86_64).expect_err("slice past the end");
    assert!(
        matches!(err, CheckError::Truncated { format: Format::Universal, needed, .. } if needed > 1_000_000),
        "{err:?}"
    );

    // A slice for this CPU that is no library.
    let mut b = fat.clone();
    let slice = u32_be(&fat, 8 + 8) as usize;
    put(&mut b, slice + 12, &2u32.to_le_bytes());
    assert_eq!(
        check(&b, &MACOS_X86_64)
            .expect_err("executable slice")
            .to_string(),
        "not a shared library (Mach-O executable)"
    );
    check(&b, &MACOS_AARCH64).expect("the other slice is still a library");

    // No slices at all.
    let mut b = fat.clone();
    put(&mut b, 4, &0u32.to_be_bytes());
    assert_eq!(
        check(&b, &MACOS_AARCH64).expect_err("empty").to_string(),
        "built for another CPU: universal Mach-O file for no CPU, this host is aarch64"
    );
}

/// ELF files built by hand, so that each field can be set on its own.
mod hand_built {
    use super::*;

    /// A minimal, complete 64-bit x86_64 shared object: ELF header, then `phdrs` program
    /// headers of the given types, each segment covering 16 bytes after the headers.
    fn elf(e_type: u16, phdrs: &[u32]) -> Vec<u8> {
        let phoff = 64u64;
        let data_off = phoff + 56 * phdrs.len() as u64;
        let mut b = vec![0u8; 64];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2; // 64-bit
        b[5] = 1; // little-endian
        b[6] = 1; // version
        b[16..18].copy_from_slice(&e_type.to_le_bytes());
        b[18..20].copy_from_slice(&62u16.to_le_bytes());
        b[20..24].copy_from_slice(&1u32.to_le_bytes());
        b[32..40].copy_from_slice(&phoff.to_le_bytes());
        b[52..54].copy_from_slice(&64u16.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
        for &p_type in phdrs {
            let mut ph = [0u8; 56];
            ph[..4].copy_from_slice(&p_type.to_le_bytes());
            ph[8..16].copy_from_slice(&data_off.to_le_bytes());
            ph[32..40].copy_from_slice(&16u64.to_le_bytes());
            b.extend_from_slice(&ph);
        }
        b.extend_from_slice(&[0u8; 16]); // dynamic: DT_NULL
        b
    }

    const T: &Target = &LINUX_X86_64;

    #[test]
    fn a_minimal_library_passes() {
        let bytes = elf(3, &[1, 2]);
        let summary = check(&bytes, T).expect("minimal library");
        assert_eq!(
            summary,
            Summary {
                size: bytes.len() as u64,
                format: Format::Elf,
                arch: "x86_64",
                segments: 1,
            }
        );
        // One byte less cuts the segments short.
        let err = check(&bytes[..bytes.len() - 1], T).expect_err("short");
        assert!(
            matches!(err, CheckError::Truncated { needed, .. } if needed == bytes.len() as u64)
        );
    }

    #[test]
    fn executables_and_objects_are_refused() {
        for e_type in [1u16, 2, 4] {
            let err = check(&elf(e_type, &[1, 2]), T).expect_err("type");
            assert!(
                matches!(err, CheckError::NotShared { format: Format::Elf, kind } if kind == u32::from(e_type)),
                "{err:?}"
            );
            assert_eq!(
                err.to_string(),
                format!("not a shared library (ELF type {e_type})")
            );
        }
        // The header alone is enough to tell.
        let header = &elf(2, &[1, 2])[..64];
        assert!(matches!(
            check(header, T),
            Err(CheckError::NotShared { kind: 2, .. })
        ));
    }

    #[test]
    fn other_platforms_are_refused() {
        let mut b = elf(3, &[1, 2]);
        b[4] = 1;
        let err = check(&b, T).expect_err("32-bit");
        assert!(matches!(err, CheckError::WrongClass { found: 1, .. }));
        assert_eq!(
            err.to_string(),
            "built for another platform: 32-bit ELF file, this host needs 64-bit"
        );
        // Judged from the first bytes, before the header is complete.
        assert!(matches!(
            check(&b[..5], T),
            Err(CheckError::WrongClass { found: 1, .. })
        ));

        let mut b = elf(3, &[1, 2]);
        b[5] = 2;
        let err = check(&b, T).expect_err("big-endian");
        assert!(matches!(err, CheckError::WrongEndian { found: 2, .. }));
        assert_eq!(
            err.to_string(),
            "built for another platform: big-endian ELF file, this host is little-endian"
        );

        let mut b = elf(3, &[1, 2]);
        b[18..20].copy_from_slice(&183u16.to_le_bytes());
        let err = check(&b, T).expect_err("other machine");
        assert!(matches!(
            err,
            CheckError::WrongMachine {
                code: 183,
                arch: "aarch64",
                host: "x86_64",
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "built for another CPU: ELF machine 183 (aarch64), this host is x86_64"
        );
    }

    #[test]
    fn a_library_without_dynamic_segment_is_refused() {
        let err = check(&elf(3, &[1]), T).expect_err("no dynamic");
        assert!(matches!(err, CheckError::NoDynamic));
        assert_eq!(
            err.to_string(),
            "not a shared library (no PT_DYNAMIC segment)"
        );
        let err = check(&elf(3, &[]), T).expect_err("no segments");
        assert!(matches!(err, CheckError::NoDynamic));
    }

    #[test]
    fn a_pie_flag_makes_an_executable() {
        let mut b = elf(3, &[1, 2]);
        let dyn_at = b.len() - 16;
        b[dyn_at..dyn_at + 8].copy_from_slice(&0x6fff_fffbu64.to_le_bytes());
        b[dyn_at + 8..].copy_from_slice(&0x0800_0000u64.to_le_bytes());
        let err = check(&b, T).expect_err("pie");
        assert!(matches!(err, CheckError::Executable));
    }

    #[test]
    fn headers_pointing_past_the_end_are_truncated_or_malformed() {
        // Section header table announced far away.
        let mut b = elf(3, &[1, 2]);
        b[40..48].copy_from_slice(&1_000_000u64.to_le_bytes());
        b[58..60].copy_from_slice(&64u16.to_le_bytes());
        b[60..62].copy_from_slice(&10u16.to_le_bytes());
        let err = check(&b, T).expect_err("sections");
        assert!(matches!(
            err,
            CheckError::Truncated {
                needed: 1_000_640,
                ..
            }
        ));

        // Offsets that overflow.
        let mut b = elf(3, &[1, 2]);
        b[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        let err = check(&b, T).expect_err("overflow");
        assert!(matches!(err, CheckError::Malformed { .. }));

        // Entry size too small.
        let mut b = elf(3, &[1, 2]);
        b[54..56].copy_from_slice(&8u16.to_le_bytes());
        let err = check(&b, T).expect_err("phentsize");
        assert!(matches!(err, CheckError::Malformed { .. }));

        // A segment past the end.
        let mut b = elf(3, &[1, 2]);
        b[64 + 8..64 + 16].copy_from_slice(&5_000u64.to_le_bytes());
        let err = check(&b, T).expect_err("segment");
        assert!(matches!(err, CheckError::Truncated { needed: 5_016, .. }));
    }
}

/// This machine's own libraries and programs.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
mod system {
    use super::*;

    const LIBC: [&str; 4] = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/aarch64-linux-gnu/libc.so.6",
        "/usr/lib/aarch64-linux-gnu/libc.so.6",
    ];

    /// libc's path and bytes, or `None` (with a message) if this machine has none of the paths.
    fn libc() -> Option<(&'static Path, Vec<u8>)> {
        let found = LIBC
            .iter()
            .map(Path::new)
            .find_map(|p| std::fs::read(p).ok().map(|b| (p, b)));
        if found.is_none() {
            eprintln!("skipped: no libc.so.6 at {LIBC:?}");
        }
        found
    }

    #[test]
    fn libc_passes() {
        let Some((path, bytes)) = libc() else { return };
        let summary = check_library_bytes(&bytes).expect("libc is a library");
        assert_eq!(summary.size, bytes.len() as u64);
        assert_eq!(summary.format, Format::Elf);
        assert!(summary.segments > 0);
        assert_eq!(check_library_file(path).expect("libc on disk"), summary);
    }

    #[test]
    fn only_the_headers_are_read() {
        let Some((path, bytes)) = libc() else { return };
        let (result, read) = check_file_counted(path, &Target::HOST);
        result.expect("libc is a library");
        assert!(
            read < 64 * 1024 && read * 10 < bytes.len() as u64,
            "read {read} of {} bytes",
            bytes.len()
        );
    }

    #[test]
    fn truncated_copies_of_libc_are_refused() {
        let Some((_, bytes)) = libc() else { return };
        let dir = tempfile::tempdir().expect("tempdir");
        for per_mille in [100usize, 500, 900, 999] {
            let cut = &bytes[..bytes.len() * per_mille / 1000];
            let err = check_library_bytes(cut).expect_err("truncated");
            let CheckError::Truncated { size, needed, .. } = err else {
                panic!("{per_mille}‰: expected Truncated, got {err:?}");
            };
            assert_eq!(size, cut.len() as u64);
            assert!(needed > size && needed <= bytes.len() as u64);
            assert!(err.is_incomplete());
            assert_eq!(
                err.to_string(),
                format!("truncated: file is {size} bytes, ELF headers need {needed}")
            );

            let path = dir.path().join(format!("cut{per_mille}.so"));
            std::fs::write(&path, cut).expect("write");
            let on_disk = check_library_file(&path).expect_err("truncated on disk");
            assert!(
                matches!(on_disk, CheckError::Truncated { size: s, needed: n, .. } if s == size && n == needed),
                "{per_mille}‰ on disk: {on_disk:?}"
            );
        }
        // Even a few bytes short, and any prefix of the header.
        for len in [1, 3, 4, 20, 63, 64, 65, 4096, bytes.len() - 1] {
            let err = check_library_bytes(&bytes[..len]).expect_err("prefix");
            assert!(err.is_incomplete(), "prefix of {len} bytes: {err:?}");
        }
    }

    #[test]
    fn bin_true_is_refused_as_an_executable() {
        let Ok(bytes) = std::fs::read("/bin/true") else {
            eprintln!("skipped: no /bin/true");
            return;
        };
        let e_type = u16::from_le_bytes([bytes[16], bytes[17]]);
        let err = check_library_bytes(&bytes).expect_err("/bin/true is no library");
        match e_type {
            // PIE: ET_DYN flagged DF_1_PIE (what glibc refuses to dlopen).
            3 => assert!(matches!(err, CheckError::Executable), "{err:?}"),
            _ => assert!(
                matches!(err, CheckError::NotShared { kind, .. } if kind == u32::from(e_type)),
                "{err:?}"
            ),
        }
    }
}
