//! An ELF sanity check, so the host never `dlopen`s a file that is not a complete shared library.
//!
//! `dlopen` of a truncated library is not an error return: the process dies of SIGBUS when the
//! dynamic loader touches a mapped page past the end of the file. Everything the loader maps is
//! described by the headers, so a file shorter than what its headers describe is refused here,
//! and so is anything that is not a shared library for this machine.
//!
//! Checked, in order: not empty; ELF magic; 64-bit, little-endian, this CPU; `ET_DYN`; the file
//! holds the program header table, the section header table and the file range of every
//! `PT_LOAD` and `PT_DYNAMIC` segment; a `PT_DYNAMIC` segment exists; it is not a
//! position-independent executable (`DF_1_PIE`, which is `ET_DYN` too and which glibc refuses to
//! `dlopen`).
//!
//! [`check_library_file`] reads only the headers and the dynamic segment, not the whole file.
//!
//! The full check exists on 64-bit little-endian Linux. Elsewhere only an empty file is refused
//! (the trial load still guards).

use std::path::Path;

/// What the check found in a file that passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfSummary {
    /// File size in bytes.
    pub size: u64,
    /// Number of `PT_LOAD` segments (0 where the full check does not exist).
    pub load_segments: usize,
    /// Whether a `PT_DYNAMIC` segment exists (always `true` on Linux; `false` where the full
    /// check does not exist, meaning "not looked at").
    pub has_dynamic: bool,
}

/// Why a file is not a loadable shared library. Each message is one line for the operator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ElfError {
    /// The file could not be opened or read.
    #[error("cannot read the file: {0}")]
    Read(#[source] std::io::Error),
    /// The file is empty.
    #[error("not a shared library (empty file)")]
    Empty,
    /// The file does not start with the ELF magic.
    #[error("not a shared library (no ELF header)")]
    NotElf,
    /// A 32-bit (or unknown class) ELF file on a 64-bit host.
    #[error("built for another platform: {} ELF file, this host needs 64-bit", class_name(*.found))]
    WrongClass {
        /// `e_ident[EI_CLASS]` (1 = 32-bit, 2 = 64-bit).
        found: u8,
    },
    /// A big-endian (or unknown byte order) ELF file on a little-endian host.
    #[error("built for another platform: {} ELF file, this host is little-endian", data_name(*.found))]
    WrongEndian {
        /// `e_ident[EI_DATA]` (1 = little-endian, 2 = big-endian).
        found: u8,
    },
    /// Built for another CPU architecture.
    #[error(
        "built for another CPU: ELF machine {found} ({}), this host is {expected} ({})",
        machine_name(*.found),
        machine_name(*.expected)
    )]
    WrongMachine {
        /// `e_machine` of the file.
        found: u16,
        /// `e_machine` of this host.
        expected: u16,
    },
    /// An executable, relocatable object, core dump...: `e_type` is not `ET_DYN`.
    #[error("not a shared library (ELF type {e_type})")]
    NotShared {
        /// `e_type` of the file (1 = relocatable, 2 = executable, 4 = core).
        e_type: u16,
    },
    /// A position-independent executable: `ET_DYN`, but flagged `DF_1_PIE`.
    #[error("not a shared library (position-independent executable)")]
    Executable,
    /// The file is shorter than its headers say: still being written, or cut short.
    #[error("truncated: file is {size} bytes, ELF headers need {needed}")]
    Truncated {
        /// Actual size in bytes.
        size: u64,
        /// Size the headers describe.
        needed: u64,
    },
    /// No `PT_DYNAMIC` segment, so nothing `dlopen` could link.
    #[error("not a shared library (no PT_DYNAMIC segment)")]
    NoDynamic,
    /// Headers that contradict themselves.
    #[error("not a shared library (malformed ELF headers: {0})")]
    Malformed(&'static str),
}

impl ElfError {
    /// Whether the file may simply not be fully written yet (empty or truncated), as opposed to
    /// being complete but not a loadable library.
    pub fn is_incomplete(&self) -> bool {
        matches!(self, Self::Empty | Self::Truncated { .. })
    }
}

fn class_name(class: u8) -> String {
    match class {
        1 => "32-bit".to_owned(),
        2 => "64-bit".to_owned(),
        other => format!("class {other}"),
    }
}

fn data_name(data: u8) -> String {
    match data {
        1 => "little-endian".to_owned(),
        2 => "big-endian".to_owned(),
        other => format!("byte order {other}"),
    }
}

fn machine_name(machine: u16) -> &'static str {
    match machine {
        3 => "x86",
        8 => "mips",
        20 => "powerpc",
        21 => "powerpc64",
        22 => "s390",
        40 => "arm",
        62 => "x86_64",
        183 => "aarch64",
        243 => "riscv",
        258 => "loongarch",
        _ => "unknown",
    }
}

/// Checks a file on disk without reading all of it: the headers, the program headers and the
/// dynamic segment.
pub fn check_library_file(path: &Path) -> Result<ElfSummary, ElfError> {
    let file = std::fs::File::open(path).map_err(ElfError::Read)?;
    let size = file.metadata().map_err(ElfError::Read)?.len();
    check_source(&FileSource { file, size })
}

/// Checks the bytes of a would-be shared library.
pub fn check_library_bytes(bytes: &[u8]) -> Result<ElfSummary, ElfError> {
    check_source(&bytes)
}

/// Random access to the file being checked.
#[cfg_attr(
    not(all(
        target_os = "linux",
        target_endian = "little",
        target_pointer_width = "64"
    )),
    allow(dead_code)
)]
trait Source {
    /// Size in bytes.
    fn size(&self) -> u64;
    /// Fills `buf` from `offset`; the caller has checked that the range lies within `size()`.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ElfError>;
}

impl Source for &[u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ElfError> {
        let truncated = || ElfError::Truncated {
            size: self.size(),
            needed: offset.saturating_add(buf.len() as u64),
        };
        let start = usize::try_from(offset).map_err(|_| truncated())?;
        let end = start.checked_add(buf.len()).ok_or_else(truncated)?;
        let src = self.get(start..end).ok_or_else(truncated)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

struct FileSource {
    file: std::fs::File,
    size: u64,
}

impl Source for FileSource {
    fn size(&self) -> u64 {
        self.size
    }

    #[cfg(unix)]
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ElfError> {
        use std::os::unix::fs::FileExt as _;
        self.file.read_exact_at(buf, offset).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                // Shrunk since `size` was taken.
                ElfError::Truncated {
                    size: self.size,
                    needed: offset.saturating_add(buf.len() as u64),
                }
            } else {
                ElfError::Read(e)
            }
        })
    }

    #[cfg(not(unix))]
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ElfError> {
        use std::io::{Read as _, Seek as _, SeekFrom};
        let mut file = &self.file;
        file.seek(SeekFrom::Start(offset)).map_err(ElfError::Read)?;
        file.read_exact(buf).map_err(ElfError::Read)
    }
}

/// Other platforms: only refuse empty files (the trial load in a child process still guards).
#[cfg(not(all(
    target_os = "linux",
    target_endian = "little",
    target_pointer_width = "64"
)))]
fn check_source(source: &dyn Source) -> Result<ElfSummary, ElfError> {
    let size = source.size();
    if size == 0 {
        return Err(ElfError::Empty);
    }
    Ok(ElfSummary {
        size,
        load_segments: 0,
        has_dynamic: false,
    })
}

#[cfg(all(
    target_os = "linux",
    target_endian = "little",
    target_pointer_width = "64"
))]
use linux::check_source;

#[cfg(all(
    target_os = "linux",
    target_endian = "little",
    target_pointer_width = "64"
))]
mod linux {
    use super::{ElfError, ElfSummary, Source};

    const MAGIC: &[u8; 4] = b"\x7fELF";
    const EHDR_SIZE: usize = 64;
    const PHDR_SIZE: u64 = 56;
    const SHDR_SIZE: u64 = 64;
    const ELFCLASS64: u8 = 2;
    const ELFDATA2LSB: u8 = 1;
    const ET_DYN: u16 = 3;
    const PT_LOAD: u32 = 1;
    const PT_DYNAMIC: u32 = 2;
    /// `e_phnum` value meaning "the real count is in section header 0's `sh_info`".
    const PN_XNUM: u16 = 0xffff;
    const DT_NULL: u64 = 0;
    const DT_FLAGS_1: u64 = 0x6fff_fffb;
    const DF_1_PIE: u64 = 0x0800_0000;
    /// Read at most this much of the dynamic segment (real ones are a few hundred bytes).
    const MAX_DYNAMIC_READ: u64 = 1 << 20;
    /// A larger program header table is nonsense (real ones are under 1 KiB).
    const MAX_PHDR_TABLE: u64 = 16 << 20;

    #[cfg(target_arch = "x86_64")]
    const MACHINE: Option<u16> = Some(62);
    #[cfg(target_arch = "aarch64")]
    const MACHINE: Option<u16> = Some(183);
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    const MACHINE: Option<u16> = None;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        let mut raw = [0; 2];
        if let Some(src) = b.get(at..at + 2) {
            raw.copy_from_slice(src);
        }
        u16::from_le_bytes(raw)
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        let mut raw = [0; 4];
        if let Some(src) = b.get(at..at + 4) {
            raw.copy_from_slice(src);
        }
        u32::from_le_bytes(raw)
    }

    fn u64_at(b: &[u8], at: usize) -> u64 {
        let mut raw = [0; 8];
        if let Some(src) = b.get(at..at + 8) {
            raw.copy_from_slice(src);
        }
        u64::from_le_bytes(raw)
    }

    /// `offset + count * entry`, or `Malformed` on overflow.
    fn table_end(offset: u64, count: u64, entry: u64) -> Result<u64, ElfError> {
        count
            .checked_mul(entry)
            .and_then(|len| len.checked_add(offset))
            .ok_or(ElfError::Malformed(
                "header table past the end of the address space",
            ))
    }

    fn to_usize(n: u64) -> Result<usize, ElfError> {
        usize::try_from(n).map_err(|_| ElfError::Malformed("table too large"))
    }

    pub(super) fn check_source(source: &dyn Source) -> Result<ElfSummary, ElfError> {
        let size = source.size();
        if size == 0 {
            return Err(ElfError::Empty);
        }
        let truncated = |needed: u64| ElfError::Truncated { size, needed };

        // ELF header: judge what is there before complaining that it is short, so that a
        // 32-bit file is "wrong class" rather than "truncated".
        let have = usize::try_from(size).map_or(EHDR_SIZE, |s| s.min(EHDR_SIZE));
        let mut header = [0u8; EHDR_SIZE];
        source.read_at(0, &mut header[..have])?;
        let header = &header[..have];
        let magic_len = have.min(MAGIC.len());
        if header[..magic_len] != MAGIC[..magic_len] {
            return Err(ElfError::NotElf);
        }
        if let Some(&class) = header.get(4)
            && class != ELFCLASS64
        {
            return Err(ElfError::WrongClass { found: class });
        }
        if let Some(&data) = header.get(5)
            && data != ELFDATA2LSB
        {
            return Err(ElfError::WrongEndian { found: data });
        }
        if have < EHDR_SIZE {
            return Err(truncated(EHDR_SIZE as u64));
        }
        let e_type = u16_at(header, 16);
        let machine = u16_at(header, 18);
        if let Some(expected) = MACHINE
            && machine != expected
        {
            return Err(ElfError::WrongMachine {
                found: machine,
                expected,
            });
        }
        if e_type != ET_DYN {
            return Err(ElfError::NotShared { e_type });
        }
        let phoff = u64_at(header, 32);
        let shoff = u64_at(header, 40);
        let phentsize = u64::from(u16_at(header, 54));
        let mut phnum = u64::from(u16_at(header, 56));
        let shentsize = u64::from(u16_at(header, 58));
        let mut shnum = u64::from(u16_at(header, 60));

        // Huge tables keep their real counts in section header 0.
        if shoff != 0 && (shnum == 0 || phnum == u64::from(PN_XNUM)) {
            let end = table_end(shoff, 1, SHDR_SIZE)?;
            if end > size {
                return Err(truncated(end));
            }
            let mut sh0 = [0u8; SHDR_SIZE as usize];
            source.read_at(shoff, &mut sh0)?;
            if shnum == 0 {
                shnum = u64_at(&sh0, 32);
            }
            if phnum == u64::from(PN_XNUM) {
                phnum = u64::from(u32_at(&sh0, 44));
            }
        }
        if phnum == 0 {
            return Err(ElfError::NoDynamic);
        }
        if phentsize < PHDR_SIZE {
            return Err(ElfError::Malformed("program header entries too small"));
        }
        if shoff != 0 && shnum != 0 && shentsize < SHDR_SIZE {
            return Err(ElfError::Malformed("section header entries too small"));
        }

        let ph_end = table_end(phoff, phnum, phentsize)?;
        let sh_end = if shoff != 0 {
            table_end(shoff, shnum, shentsize)?
        } else {
            0
        };
        let mut needed = ph_end.max(sh_end);
        if needed > size {
            return Err(truncated(needed));
        }

        if ph_end - phoff > MAX_PHDR_TABLE {
            return Err(ElfError::Malformed("program header table too large"));
        }
        let mut table = vec![0u8; to_usize(ph_end - phoff)?];
        source.read_at(phoff, &mut table)?;
        let entry = to_usize(phentsize)?;
        let mut load_segments = 0;
        let mut dynamic = None;
        for ph in table.chunks_exact(entry) {
            let p_type = u32_at(ph, 0);
            if p_type != PT_LOAD && p_type != PT_DYNAMIC {
                continue;
            }
            let p_offset = u64_at(ph, 8);
            let p_filesz = u64_at(ph, 32);
            let end = p_offset.checked_add(p_filesz).ok_or(ElfError::Malformed(
                "segment past the end of the address space",
            ))?;
            needed = needed.max(end);
            if p_type == PT_LOAD {
                load_segments += 1;
            } else if dynamic.is_none() {
                dynamic = Some((p_offset, p_filesz));
            }
        }
        if needed > size {
            return Err(truncated(needed));
        }
        let Some((dyn_offset, dyn_size)) = dynamic else {
            return Err(ElfError::NoDynamic);
        };
        if is_pie(source, dyn_offset, dyn_size.min(MAX_DYNAMIC_READ))? {
            return Err(ElfError::Executable);
        }
        Ok(ElfSummary {
            size,
            load_segments,
            has_dynamic: true,
        })
    }

    /// Whether the dynamic segment carries `DT_FLAGS_1` with `DF_1_PIE`.
    fn is_pie(source: &dyn Source, offset: u64, len: u64) -> Result<bool, ElfError> {
        let mut segment = vec![0u8; to_usize(len)?];
        source.read_at(offset, &mut segment)?;
        for entry in segment.chunks_exact(16) {
            let tag = u64_at(entry, 0);
            let value = u64_at(entry, 8);
            if tag == DT_NULL {
                break;
            }
            if tag == DT_FLAGS_1 && value & DF_1_PIE != 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_is_refused() {
        assert!(matches!(check_library_bytes(b""), Err(ElfError::Empty)));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("empty.so");
        std::fs::write(&path, b"").expect("write");
        let err = check_library_file(&path).expect_err("empty file refused");
        assert!(matches!(err, ElfError::Empty));
        assert_eq!(err.to_string(), "not a shared library (empty file)");
        assert!(err.is_incomplete());
    }

    #[test]
    fn a_missing_file_is_a_read_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = check_library_file(&dir.path().join("nope.so")).expect_err("missing");
        assert!(matches!(err, ElfError::Read(_)));
        assert!(!err.is_incomplete());
    }

    #[cfg(all(
        target_os = "linux",
        target_endian = "little",
        target_pointer_width = "64"
    ))]
    mod linux {
        use super::super::*;

        const LIBC: [&str; 2] = [
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
        ];

        #[cfg(target_arch = "x86_64")]
        const HOST_MACHINE: u16 = 62;
        #[cfg(target_arch = "aarch64")]
        const HOST_MACHINE: u16 = 183;
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        const HOST_MACHINE: u16 = 0;

        /// libc's path and bytes, or `None` (with a message) if this machine has neither path.
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

        /// A minimal, complete 64-bit shared object header: ELF header, then `phdrs` program
        /// headers of the given types, each segment covering 16 bytes after the headers.
        fn hand_built(e_type: u16, phdrs: &[u32]) -> Vec<u8> {
            let phoff = 64u64;
            let data_off = phoff + 56 * phdrs.len() as u64;
            let mut b = vec![0u8; 64];
            b[..4].copy_from_slice(b"\x7fELF");
            b[4] = 2; // 64-bit
            b[5] = 1; // little-endian
            b[6] = 1; // version
            b[16..18].copy_from_slice(&e_type.to_le_bytes());
            b[18..20].copy_from_slice(&HOST_MACHINE.to_le_bytes());
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

        #[test]
        fn a_real_library_passes() {
            let Some((path, bytes)) = libc() else { return };
            let summary = check_library_bytes(&bytes).expect("libc is a library");
            assert_eq!(summary.size, bytes.len() as u64);
            assert!(summary.has_dynamic);
            assert!(summary.load_segments > 0);
            assert_eq!(check_library_file(path).expect("libc on disk"), summary);
        }

        #[test]
        fn truncated_copies_are_refused() {
            let Some((_, bytes)) = libc() else { return };
            let dir = tempfile::tempdir().expect("tempdir");
            for per_mille in [100usize, 500, 900, 999] {
                let cut = &bytes[..bytes.len() * per_mille / 1000];
                let err = check_library_bytes(cut).expect_err("truncated");
                let ElfError::Truncated { size, needed } = err else {
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
                    matches!(on_disk, ElfError::Truncated { size: s, needed: n } if s == size && n == needed),
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
        fn trailing_bytes_are_fine() {
            let Some((_, mut bytes)) = libc() else { return };
            bytes.extend_from_slice(b"trailing data");
            assert!(check_library_bytes(&bytes).is_ok());
        }

        #[test]
        fn random_bytes_are_not_elf() {
            let mut state = 0x2545_f491_4f6c_dd1du64;
            let bytes: Vec<u8> = (0..4096)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 24) as u8
                })
                .collect();
            assert_ne!(bytes[0], 0x7f);
            let err = check_library_bytes(&bytes).expect_err("random");
            assert!(matches!(err, ElfError::NotElf));
            assert!(!err.is_incomplete());
            assert_eq!(err.to_string(), "not a shared library (no ELF header)");
            let err = check_library_bytes(b"hello world, not elf at all").expect_err("text");
            assert!(matches!(err, ElfError::NotElf));
        }

        #[test]
        fn a_minimal_hand_built_library_passes() {
            let bytes = hand_built(3, &[1, 2]);
            let summary = check_library_bytes(&bytes).expect("minimal library");
            assert_eq!(
                summary,
                ElfSummary {
                    size: bytes.len() as u64,
                    load_segments: 1,
                    has_dynamic: true
                }
            );
            // One byte less cuts the segments short.
            let err = check_library_bytes(&bytes[..bytes.len() - 1]).expect_err("short");
            assert!(
                matches!(err, ElfError::Truncated { needed, .. } if needed == bytes.len() as u64)
            );
        }

        #[test]
        fn executables_and_objects_are_refused() {
            for e_type in [1u16, 2, 4] {
                let err = check_library_bytes(&hand_built(e_type, &[1, 2])).expect_err("type");
                assert!(
                    matches!(err, ElfError::NotShared { e_type: t } if t == e_type),
                    "{err:?}"
                );
                assert_eq!(
                    err.to_string(),
                    format!("not a shared library (ELF type {e_type})")
                );
            }
            // The header alone is enough to tell.
            let header = &hand_built(2, &[1, 2])[..64];
            assert!(matches!(
                check_library_bytes(header),
                Err(ElfError::NotShared { e_type: 2 })
            ));
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
                3 => assert!(matches!(err, ElfError::Executable), "{err:?}"),
                _ => assert!(
                    matches!(err, ElfError::NotShared { e_type: t } if t == e_type),
                    "{err:?}"
                ),
            }
        }

        #[test]
        fn other_platforms_are_refused() {
            let mut b = hand_built(3, &[1, 2]);
            b[4] = 1;
            let err = check_library_bytes(&b).expect_err("32-bit");
            assert!(matches!(err, ElfError::WrongClass { found: 1 }));
            assert_eq!(
                err.to_string(),
                "built for another platform: 32-bit ELF file, this host needs 64-bit"
            );

            let mut b = hand_built(3, &[1, 2]);
            b[5] = 2;
            let err = check_library_bytes(&b).expect_err("big-endian");
            assert!(matches!(err, ElfError::WrongEndian { found: 2 }));

            if HOST_MACHINE != 0 {
                let other: u16 = if HOST_MACHINE == 62 { 183 } else { 62 };
                let mut b = hand_built(3, &[1, 2]);
                b[18..20].copy_from_slice(&other.to_le_bytes());
                let err = check_library_bytes(&b).expect_err("other machine");
                assert!(
                    matches!(err, ElfError::WrongMachine { found, expected } if found == other && expected == HOST_MACHINE)
                );
                assert!(
                    err.to_string()
                        .starts_with("built for another CPU: ELF machine")
                );
            }
        }

        #[test]
        fn a_library_without_dynamic_segment_is_refused() {
            let err = check_library_bytes(&hand_built(3, &[1])).expect_err("no dynamic");
            assert!(matches!(err, ElfError::NoDynamic));
            let err = check_library_bytes(&hand_built(3, &[])).expect_err("no segments");
            assert!(matches!(err, ElfError::NoDynamic));
        }

        #[test]
        fn a_pie_flag_makes_an_executable() {
            let mut b = hand_built(3, &[1, 2]);
            let dyn_at = b.len() - 16;
            b[dyn_at..dyn_at + 8].copy_from_slice(&0x6fff_fffbu64.to_le_bytes());
            b[dyn_at + 8..].copy_from_slice(&0x0800_0000u64.to_le_bytes());
            let err = check_library_bytes(&b).expect_err("pie");
            assert!(matches!(err, ElfError::Executable));
        }

        #[test]
        fn headers_pointing_past_the_end_are_truncated_or_malformed() {
            // Section header table announced far away.
            let mut b = hand_built(3, &[1, 2]);
            b[40..48].copy_from_slice(&1_000_000u64.to_le_bytes());
            b[58..60].copy_from_slice(&64u16.to_le_bytes());
            b[60..62].copy_from_slice(&10u16.to_le_bytes());
            let err = check_library_bytes(&b).expect_err("sections");
            assert!(matches!(
                err,
                ElfError::Truncated {
                    needed: 1_000_640,
                    ..
                }
            ));

            // Offsets that overflow.
            let mut b = hand_built(3, &[1, 2]);
            b[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
            let err = check_library_bytes(&b).expect_err("overflow");
            assert!(matches!(err, ElfError::Malformed(_)));

            // Entry size too small.
            let mut b = hand_built(3, &[1, 2]);
            b[54..56].copy_from_slice(&8u16.to_le_bytes());
            let err = check_library_bytes(&b).expect_err("phentsize");
            assert!(matches!(err, ElfError::Malformed(_)));
        }
    }
}
