//! An ELF sanity check, so the host never `dlopen`s a file that is not a complete shared library.
//!
//! `dlopen` of a truncated library is not an error return: the process dies of SIGBUS when the
//! loader touches a page past the end of the file. Everything the loader maps is described by the
//! headers, so a file shorter than what its headers describe is refused here.

use std::path::Path;

/// What the check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfSummary {
    /// File size in bytes.
    pub size: u64,
    /// Number of `PT_LOAD` segments.
    pub load_segments: usize,
    /// Whether a `PT_DYNAMIC` segment exists.
    pub dynamic: bool,
}

/// Why a file is not a loadable shared library.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    /// Could not be read.
    #[error("cannot read the file: {0}")]
    Read(String),
    /// Empty.
    #[error("not a shared library (empty file)")]
    Empty,
    /// No ELF magic.
    #[error("not a shared library (no ELF header)")]
    NotElf,
    /// Wrong class, byte order or machine.
    #[error("built for another platform ({0})")]
    WrongPlatform(&'static str),
    /// An executable or object file.
    #[error("not a shared library (ELF type {0})")]
    NotShared(u16),
    /// Shorter than its headers say.
    #[error("truncated: file is {size} bytes, ELF headers need {needed}")]
    Truncated {
        /// Actual size.
        size: u64,
        /// Size the headers describe.
        needed: u64,
    },
    /// No dynamic section.
    #[error("not a shared library (no dynamic segment)")]
    NoDynamic,
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const ET_DYN: u16 = 3;

#[cfg(target_arch = "x86_64")]
const MACHINE: u16 = 62;
#[cfg(target_arch = "aarch64")]
const MACHINE: u16 = 183;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const MACHINE: u16 = 0;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2)?.try_into().ok().map(u16::from_le_bytes)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)?.try_into().ok().map(u32::from_le_bytes)
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 8)?.try_into().ok().map(u64::from_le_bytes)
}

/// Checks a file on disk.
pub fn check_library_file(path: &Path) -> Result<ElfSummary, ElfError> {
    let bytes = std::fs::read(path).map_err(|e| ElfError::Read(e.to_string()))?;
    check_library_bytes(&bytes)
}

/// Checks the bytes of a would-be shared library (64-bit little-endian ELF on Linux).
#[cfg(target_os = "linux")]
pub fn check_library_bytes(bytes: &[u8]) -> Result<ElfSummary, ElfError> {
    let size = bytes.len() as u64;
    if bytes.is_empty() {
        return Err(ElfError::Empty);
    }
    if bytes.len() < 4 || &bytes[..4] != b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    let truncated = |needed: u64| ElfError::Truncated { size, needed };
    if bytes.len() < 64 {
        return Err(truncated(64));
    }
    if bytes[4] != 2 {
        return Err(ElfError::WrongPlatform("not 64-bit"));
    }
    if bytes[5] != 1 {
        return Err(ElfError::WrongPlatform("not little-endian"));
    }
    let e_type = u16_at(bytes, 16).ok_or_else(|| truncated(64))?;
    let machine = u16_at(bytes, 18).ok_or_else(|| truncated(64))?;
    if MACHINE != 0 && machine != MACHINE {
        return Err(ElfError::WrongPlatform("another CPU architecture"));
    }
    if e_type != ET_DYN {
        return Err(ElfError::NotShared(e_type));
    }
    let phoff = u64_at(bytes, 32).ok_or_else(|| truncated(64))?;
    let shoff = u64_at(bytes, 40).ok_or_else(|| truncated(64))?;
    let phentsize = u64::from(u16_at(bytes, 54).ok_or_else(|| truncated(64))?);
    let phnum = u64::from(u16_at(bytes, 56).ok_or_else(|| truncated(64))?);
    let shentsize = u64::from(u16_at(bytes, 58).ok_or_else(|| truncated(64))?);
    let shnum = u64::from(u16_at(bytes, 60).ok_or_else(|| truncated(64))?);

    let mut needed = phoff.saturating_add(phentsize.saturating_mul(phnum));
    if shnum > 0 {
        needed = needed.max(shoff.saturating_add(shentsize.saturating_mul(shnum)));
    }
    if needed > size {
        return Err(truncated(needed));
    }
    let mut load_segments = 0;
    let mut dynamic = false;
    for i in 0..phnum {
        let at = usize::try_from(phoff + i * phentsize).map_err(|_| truncated(needed))?;
        let p_type = u32_at(bytes, at).ok_or_else(|| truncated(needed))?;
        let p_offset = u64_at(bytes, at + 8).ok_or_else(|| truncated(needed))?;
        let p_filesz = u64_at(bytes, at + 32).ok_or_else(|| truncated(needed))?;
        if p_type == PT_LOAD || p_type == PT_DYNAMIC {
            let end = p_offset.saturating_add(p_filesz);
            needed = needed.max(end);
            load_segments += usize::from(p_type == PT_LOAD);
            dynamic |= p_type == PT_DYNAMIC;
        }
    }
    if needed > size {
        return Err(truncated(needed));
    }
    if !dynamic {
        return Err(ElfError::NoDynamic);
    }
    Ok(ElfSummary {
        size,
        load_segments,
        dynamic,
    })
}

/// Other platforms: only refuse empty files (the trial load in a child process still guards).
#[cfg(not(target_os = "linux"))]
pub fn check_library_bytes(bytes: &[u8]) -> Result<ElfSummary, ElfError> {
    if bytes.is_empty() {
        return Err(ElfError::Empty);
    }
    Ok(ElfSummary {
        size: bytes.len() as u64,
        load_segments: 0,
        dynamic: true,
    })
}

#[cfg(all(test, target_os = "linux", target_arch = "x86_64"))]
mod tests {
    use super::*;

    fn libc() -> Vec<u8> {
        [
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
        ]
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .expect("libc.so.6 on this machine")
    }

    #[test]
    fn a_real_library_passes() {
        let summary = check_library_bytes(&libc()).expect("libc is a library");
        assert!(summary.dynamic && summary.load_segments > 0);
    }

    #[test]
    fn truncated_copies_are_refused() {
        let bytes = libc();
        for per_mille in [100usize, 500, 900, 999] {
            let cut = &bytes[..bytes.len() * per_mille / 1000];
            assert!(
                matches!(check_library_bytes(cut), Err(ElfError::Truncated { .. })),
                "{per_mille}‰"
            );
        }
    }

    #[test]
    fn other_files_are_refused() {
        assert_eq!(check_library_bytes(b""), Err(ElfError::Empty));
        assert_eq!(
            check_library_bytes(b"hello world, not elf at all"),
            Err(ElfError::NotElf)
        );
        let mut exec = libc()[..64].to_vec();
        exec[16] = 2;
        assert_eq!(check_library_bytes(&exec), Err(ElfError::NotShared(2)));
    }
}
