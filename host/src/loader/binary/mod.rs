//! Is this file a complete shared library for this machine? Checked before any library is opened.
//!
//! `dlopen` of a truncated library is not an error return: the process dies of SIGBUS when the
//! dynamic loader touches a mapped page past the end of the file. Everything a loader maps is
//! described by the file's headers, so a file shorter than its headers describe is refused here,
//! and so is anything that is not a shared library for this platform.
//!
//! ELF, PE and Mach-O files (universal Mach-O files too) are read with the `object` crate. Checked,
//! in order: not empty; a known header; the format this OS loads (ELF, PE or Mach-O); the host's
//! word size, byte order and CPU (a universal file must hold a slice for this CPU); a library and
//! not an executable or object file (ELF `ET_DYN` without `DF_1_PIE`, which glibc refuses to
//! `dlopen`; PE with the DLL flag; Mach-O dylib or bundle); a complete file: the header tables and
//! the file range of every segment and section (Mach-O: load command, segment and section; PE:
//! headers and section) lie within the file; and for ELF a `PT_DYNAMIC` segment.
//!
//! What can be judged from the bytes present is judged before completeness, so that a 32-bit file
//! is "another platform" rather than "truncated". [`check_library_file`] reads only the headers
//! (and an ELF file's dynamic segment), not the whole file.

mod elf;
mod macho;
mod pe;
#[cfg(test)]
mod tests;

use std::io::SeekFrom;
use std::path::Path;

use object::{Architecture, Pod, ReadRef};

/// An object-file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// ELF (Linux and most other Unix systems).
    Elf,
    /// PE (Windows).
    Pe,
    /// Mach-O (macOS).
    MachO,
    /// A universal ("fat") Mach-O file: one Mach-O slice per CPU.
    Universal,
}

impl Format {
    /// The systems that load this format.
    fn os(self) -> &'static str {
        match self {
            Self::Elf => "Linux/Unix",
            Self::Pe => "Windows",
            Self::MachO | Self::Universal => "macOS",
        }
    }

    /// The format a loader for `self` files loads (a universal file is Mach-O).
    fn loaded_as(self) -> Self {
        match self {
            Self::Universal => Self::MachO,
            other => other,
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Elf => "ELF",
            Self::Pe => "PE",
            Self::MachO => "Mach-O",
            Self::Universal => "universal Mach-O",
        })
    }
}

/// What the check found in a file that passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// File size in bytes.
    pub size: u64,
    /// The file's format.
    pub format: Format,
    /// The CPU the library is built for (for a universal file: the slice this host loads).
    pub arch: &'static str,
    /// Loadable segments (ELF `PT_LOAD`, Mach-O segments) or sections (PE).
    pub segments: usize,
}

/// Why a file is not a loadable shared library. Each message is one line for the operator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The file could not be opened or read (or it shrank while it was read).
    #[error("cannot read the file: {0}")]
    Read(#[source] std::io::Error),
    /// The file is empty.
    #[error("not a shared library (empty file)")]
    Empty,
    /// Neither ELF, PE nor Mach-O.
    #[error("not a shared library (no ELF, PE or Mach-O header)")]
    Unknown,
    /// A library format this OS does not load (a PE file on Linux, ...).
    #[error(
        "built for another platform: {format} file ({}{}), this host loads {host} libraries",
        format.os(),
        cpu_list(cpus, ", ")
    )]
    WrongFormat {
        /// The file's format.
        format: Format,
        /// The CPUs it is built for, where the header says.
        cpus: Vec<&'static str>,
        /// The format this host loads.
        host: Format,
    },
    /// A 32-bit file on a 64-bit host (or the other way round).
    #[error("built for another platform: {} {format} file, this host needs {host_bits}-bit", class_name(*.found))]
    WrongClass {
        /// The file's format.
        format: Format,
        /// Word size in ELF's `EI_CLASS` coding (1 = 32-bit, 2 = 64-bit).
        found: u8,
        /// This host's word size in bits.
        host_bits: u8,
    },
    /// A big-endian file on a little-endian host (or the other way round).
    #[error(
        "built for another platform: {} {format} file, this host is {}",
        data_name(*.found),
        data_name(*.host)
    )]
    WrongEndian {
        /// The file's format.
        format: Format,
        /// Byte order in ELF's `EI_DATA` coding (1 = little-endian, 2 = big-endian).
        found: u8,
        /// This host's byte order, coded the same way.
        host: u8,
    },
    /// Built for another CPU architecture.
    #[error("built for another CPU: {} ({arch}), this host is {host}", machine_label(*.format, *.code))]
    WrongMachine {
        /// The file's format.
        format: Format,
        /// ELF `e_machine`, PE `Machine` or Mach-O `cputype`.
        code: u32,
        /// The CPU that code names.
        arch: &'static str,
        /// This host's CPU.
        host: &'static str,
    },
    /// A universal Mach-O file without a slice for this CPU.
    #[error(
        "built for another CPU: universal Mach-O file for {}, this host is {host}",
        slice_list(arches)
    )]
    NoHostSlice {
        /// The CPUs it holds slices for.
        arches: Vec<&'static str>,
        /// This host's CPU.
        host: &'static str,
    },
    /// An executable, object file, core dump...
    #[error("not a shared library ({})", kind_label(*.format, *.kind))]
    NotShared {
        /// The file's format.
        format: Format,
        /// ELF `e_type`, PE `Characteristics` or Mach-O `filetype`.
        kind: u32,
    },
    /// A position-independent executable: `ET_DYN`, but flagged `DF_1_PIE`.
    #[error("not a shared library (position-independent executable)")]
    Executable,
    /// The file is shorter than its headers say: still being written, or cut short.
    #[error("truncated: file is {size} bytes, {format} headers need {needed}")]
    Truncated {
        /// The file's format.
        format: Format,
        /// Actual size in bytes.
        size: u64,
        /// Size the headers describe (as far as read).
        needed: u64,
    },
    /// No `PT_DYNAMIC` segment, so nothing `dlopen` could link.
    #[error("not a shared library (no PT_DYNAMIC segment)")]
    NoDynamic,
    /// Headers that contradict themselves.
    #[error("not a shared library (malformed {format} headers: {what})")]
    Malformed {
        /// The file's format.
        format: Format,
        /// What is wrong.
        what: &'static str,
    },
}

impl CheckError {
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

/// `", a, b"` for `cpus = [a, b]` and `sep = ", "`; empty for no CPUs.
fn cpu_list(cpus: &[&str], sep: &str) -> String {
    if cpus.is_empty() {
        String::new()
    } else {
        format!(", {}", cpus.join(sep))
    }
}

/// `"a and b"`, or `"no CPU"`.
fn slice_list(arches: &[&str]) -> String {
    if arches.is_empty() {
        "no CPU".to_owned()
    } else {
        arches.join(" and ")
    }
}

fn machine_label(format: Format, code: u32) -> String {
    match format {
        Format::Elf => format!("ELF machine {code}"),
        Format::Pe => format!("PE machine {code:#x}"),
        Format::MachO | Format::Universal => format!("Mach-O CPU type {code:#x}"),
    }
}

fn kind_label(format: Format, kind: u32) -> String {
    match format {
        Format::Elf => format!("ELF type {kind}"),
        Format::Pe => "PE executable without the DLL flag".to_owned(),
        Format::MachO | Format::Universal => match kind {
            object::macho::MH_OBJECT => "Mach-O object file".to_owned(),
            object::macho::MH_EXECUTE => "Mach-O executable".to_owned(),
            object::macho::MH_CORE => "Mach-O core file".to_owned(),
            other => format!("Mach-O file type {other}"),
        },
    }
}

/// A short CPU name for messages.
fn arch_name(arch: Architecture) -> &'static str {
    match arch {
        Architecture::X86_64 => "x86_64",
        Architecture::X86_64_X32 => "x32",
        Architecture::I386 => "x86",
        Architecture::Aarch64 => "aarch64",
        Architecture::Aarch64_Ilp32 => "aarch64_ilp32",
        Architecture::Arm => "arm",
        Architecture::Riscv64 => "riscv64",
        Architecture::Riscv32 => "riscv32",
        Architecture::LoongArch64 => "loongarch64",
        Architecture::PowerPc => "powerpc",
        Architecture::PowerPc64 => "powerpc64",
        Architecture::S390x => "s390x",
        Architecture::Mips => "mips",
        Architecture::Mips64 => "mips64",
        Architecture::Sparc64 => "sparc64",
        _ => "unknown",
    }
}

/// The platform a library must be built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Target {
    /// [`Format::Elf`], [`Format::Pe`] or [`Format::MachO`].
    format: Format,
    /// `None`: a CPU this check does not know; any CPU passes.
    arch: Option<Architecture>,
    /// Word size in bits.
    bits: u8,
    little_endian: bool,
}

impl Target {
    /// This host.
    const HOST: Self = Self {
        format: if cfg!(windows) {
            Format::Pe
        } else if cfg!(target_vendor = "apple") {
            Format::MachO
        } else {
            Format::Elf
        },
        arch: HOST_ARCH,
        bits: if cfg!(target_pointer_width = "64") {
            64
        } else {
            32
        },
        little_endian: cfg!(target_endian = "little"),
    };

    fn arch_name(&self) -> &'static str {
        self.arch.map_or("unknown", arch_name)
    }

    /// Word size in ELF's `EI_CLASS` coding.
    fn class(&self) -> u8 {
        if self.bits == 64 { 2 } else { 1 }
    }

    /// `Err(WrongFormat)` unless files of `format` are loaded here.
    /// `cpus` names the CPUs the file is built for, as far as its header says.
    fn expect_format(
        &self,
        format: Format,
        cpus: impl FnOnce() -> Vec<&'static str>,
    ) -> Result<(), CheckError> {
        if format.loaded_as() == self.format {
            Ok(())
        } else {
            Err(CheckError::WrongFormat {
                format,
                cpus: cpus(),
                host: self.format,
            })
        }
    }

    /// Byte order in ELF's `EI_DATA` coding.
    fn data(&self) -> u8 {
        if self.little_endian { 1 } else { 2 }
    }

    /// `Err(WrongEndian)` unless `little_endian` is this target's byte order.
    fn expect_endian(&self, format: Format, little_endian: bool) -> Result<(), CheckError> {
        if little_endian == self.little_endian {
            Ok(())
        } else {
            Err(CheckError::WrongEndian {
                format,
                found: if little_endian { 1 } else { 2 },
                host: self.data(),
            })
        }
    }

    /// `Err(WrongClass)` unless `bits` is this target's word size.
    fn expect_bits(&self, format: Format, bits: u8) -> Result<(), CheckError> {
        if bits == self.bits {
            Ok(())
        } else {
            Err(CheckError::WrongClass {
                format,
                found: if bits == 64 { 2 } else { 1 },
                host_bits: self.bits,
            })
        }
    }

    /// `Err(WrongMachine)` unless `arch` runs here.
    fn expect_arch(&self, format: Format, code: u32, arch: Architecture) -> Result<(), CheckError> {
        match self.arch {
            Some(host) if host != arch => Err(CheckError::WrongMachine {
                format,
                code,
                arch: arch_name(arch),
                host: arch_name(host),
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(target_arch = "x86_64")]
const HOST_ARCH: Option<Architecture> = Some(Architecture::X86_64);
#[cfg(target_arch = "aarch64")]
const HOST_ARCH: Option<Architecture> = Some(Architecture::Aarch64);
#[cfg(target_arch = "x86")]
const HOST_ARCH: Option<Architecture> = Some(Architecture::I386);
#[cfg(target_arch = "arm")]
const HOST_ARCH: Option<Architecture> = Some(Architecture::Arm);
#[cfg(target_arch = "riscv64")]
const HOST_ARCH: Option<Architecture> = Some(Architecture::Riscv64);
#[cfg(target_arch = "loongarch64")]
const HOST_ARCH: Option<Architecture> = Some(Architecture::LoongArch64);
#[cfg(target_arch = "powerpc64")]
const HOST_ARCH: Option<Architecture> = Some(Architecture::PowerPc64);
#[cfg(target_arch = "s390x")]
const HOST_ARCH: Option<Architecture> = Some(Architecture::S390x);
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "x86",
    target_arch = "arm",
    target_arch = "riscv64",
    target_arch = "loongarch64",
    target_arch = "powerpc64",
    target_arch = "s390x"
)))]
const HOST_ARCH: Option<Architecture> = None;

/// A header table larger than this is nonsense (real ones are a few KiB).
const MAX_TABLE: u64 = 16 << 20;

/// Checks a file on disk, reading only its headers.
pub fn check_library_file(path: &Path) -> Result<Summary, CheckError> {
    check_file_for(path, &Target::HOST)
}

/// Checks the bytes of a would-be shared library.
pub fn check_library_bytes(bytes: &[u8]) -> Result<Summary, CheckError> {
    check_for(bytes, bytes.len() as u64, &Target::HOST)
}

fn check_file_for(path: &Path, target: &Target) -> Result<Summary, CheckError> {
    check_file_counted(path, target).0
}

/// [`check_file_for`], and how many bytes of the file it read.
fn check_file_counted(path: &Path, target: &Target) -> (Result<Summary, CheckError>, u64) {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) => return (Err(CheckError::Read(error)), 0),
    };
    let size = match file.metadata() {
        Ok(metadata) => metadata.len(),
        Err(error) => return (Err(CheckError::Read(error)), 0),
    };
    let cache = object::ReadCache::new(FileReader {
        file,
        size,
        read: 0,
        error: None,
    });
    let result = check_for(&cache, size, target);
    let reader = cache.into_inner();
    let read = reader.read;
    (reader.outcome(result), read)
}

impl FileReader {
    /// The check's result, unless a read failed: then the reason is the file.
    fn outcome(self, result: Result<Summary, CheckError>) -> Result<Summary, CheckError> {
        match self.error {
            Some(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
                Err(CheckError::Read(std::io::Error::new(
                    error.kind(),
                    format!(
                        "it got shorter than {} bytes while it was checked",
                        self.size
                    ),
                )))
            }
            Some(error) => Err(CheckError::Read(error)),
            None => result,
        }
    }
}

/// Checks `data` (`size` bytes) against `target`.
fn check_for<'d, R: ReadRef<'d>>(
    data: R,
    size: u64,
    target: &Target,
) -> Result<Summary, CheckError> {
    if size == 0 {
        return Err(CheckError::Empty);
    }
    match identify(data, size)? {
        Format::Elf => elf::check(data, size, target),
        Format::Pe => pe::check(data, size, target),
        Format::MachO => macho::check(data, size, target),
        Format::Universal => macho::check_universal(data, size, target),
    }
}

/// Each format's magic number, and the size of the header that follows it.
const MAGICS: [(&[u8], Format, u64); 8] = [
    (b"\x7fELF", Format::Elf, 64),
    (b"MZ", Format::Pe, 64),
    (&[0xcf, 0xfa, 0xed, 0xfe], Format::MachO, 32),
    (&[0xfe, 0xed, 0xfa, 0xcf], Format::MachO, 32),
    (&[0xce, 0xfa, 0xed, 0xfe], Format::MachO, 28),
    (&[0xfe, 0xed, 0xfa, 0xce], Format::MachO, 28),
    (&[0xca, 0xfe, 0xba, 0xbe], Format::Universal, 8),
    (&[0xca, 0xfe, 0xba, 0xbf], Format::Universal, 8),
];

/// The format `data` starts with. A file shorter than a magic number it starts with is
/// truncated, not unknown: it may still be being written.
fn identify<'d, R: ReadRef<'d>>(data: R, size: u64) -> Result<Format, CheckError> {
    let head = data
        .read_bytes_at(0, size.min(4))
        .map_err(|()| CheckError::Unknown)?;
    for (magic, format, header) in MAGICS {
        if head.starts_with(magic) {
            return Ok(format);
        }
        if magic.starts_with(head) {
            return Err(CheckError::Truncated {
                format,
                size,
                needed: header,
            });
        }
    }
    Err(CheckError::Unknown)
}

/// How much of the file the headers read so far describe.
#[derive(Debug)]
struct Extent {
    format: Format,
    size: u64,
    needed: u64,
}

impl Extent {
    fn new(format: Format, size: u64) -> Self {
        Self {
            format,
            size,
            needed: 0,
        }
    }

    fn malformed(&self, what: &'static str) -> CheckError {
        CheckError::Malformed {
            format: self.format,
            what,
        }
    }

    /// Notes that `len` bytes at `offset` must be in the file.
    fn cover(&mut self, offset: u64, len: u64) -> Result<(), CheckError> {
        let end = offset
            .checked_add(len)
            .ok_or_else(|| self.malformed("a range past the end of the address space"))?;
        self.needed = self.needed.max(end);
        Ok(())
    }

    /// `count` entries of `T` at `offset`.
    fn cover_table<T>(&mut self, offset: u64, count: u64) -> Result<(), CheckError> {
        let len = count
            .checked_mul(size_of::<T>() as u64)
            .ok_or_else(|| self.malformed("a table past the end of the address space"))?;
        self.cover(offset, len)
    }

    /// `Err(Truncated)` if something noted so far lies past the end of the file.
    fn complete(&self) -> Result<(), CheckError> {
        if self.needed > self.size {
            Err(CheckError::Truncated {
                format: self.format,
                size: self.size,
                needed: self.needed,
            })
        } else {
            Ok(())
        }
    }

    /// Reads a `T` at `offset`, or `Err(Truncated)` if the file ends before it.
    fn read<'d, T: Pod, R: ReadRef<'d>>(
        &mut self,
        data: R,
        offset: u64,
    ) -> Result<&'d T, CheckError> {
        self.cover(offset, size_of::<T>() as u64)?;
        self.complete()?;
        data.read_at(offset)
            .map_err(|()| self.malformed("an unreadable header"))
    }
}

/// Reads a file on demand for `object`, remembering the first I/O error.
struct FileReader {
    file: std::fs::File,
    size: u64,
    /// Bytes read so far.
    read: u64,
    error: Option<std::io::Error>,
}

impl FileReader {
    fn keep<T>(&mut self, result: std::io::Result<T>) -> Result<T, ()> {
        result.map_err(|error| {
            self.error.get_or_insert(error);
        })
    }
}

impl object::ReadCacheOps for FileReader {
    fn len(&mut self) -> Result<u64, ()> {
        Ok(self.size)
    }

    fn seek(&mut self, pos: u64) -> Result<u64, ()> {
        let result = std::io::Seek::seek(&mut self.file, SeekFrom::Start(pos));
        self.keep(result)
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ()> {
        let result = std::io::Read::read(&mut self.file, buf);
        let n = self.keep(result)?;
        self.read += n as u64;
        Ok(n)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ()> {
        let result = std::io::Read::read_exact(&mut self.file, buf);
        self.keep(result)?;
        self.read += buf.len() as u64;
        Ok(())
    }
}
