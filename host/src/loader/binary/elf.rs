//! ELF: `ET_DYN` without `DF_1_PIE`, with a `PT_DYNAMIC` segment, every table, segment and
//! section in the file.

use object::elf::{self as raw, FileHeader32, FileHeader64};
use object::read::elf::{Dyn as _, FileHeader, ProgramHeader as _, SectionHeader as _};
use object::{Architecture, Endianness, ReadRef};

use super::{CheckError, Extent, Format, MAX_TABLE, Summary, Target, arch_name};

const FORMAT: Format = Format::Elf;
const EI_CLASS: usize = 4;
const EI_DATA: usize = 5;
/// Read at most this much of the dynamic segment (real ones are a few hundred bytes).
const MAX_DYNAMIC_READ: u64 = 1 << 20;

pub(super) fn check<'d, R: ReadRef<'d>>(
    data: R,
    size: u64,
    target: &Target,
) -> Result<Summary, CheckError> {
    target.expect_format(FORMAT, || cpus(data))?;
    // `e_ident`: judge what is there before complaining that the header is short, so that a
    // 32-bit file is "another platform" rather than "truncated".
    let ident = data
        .read_bytes_at(0, size.min(16))
        .map_err(|()| Extent::new(FORMAT, size).malformed("an unreadable header"))?;
    if let Some(&class) = ident.get(EI_CLASS)
        && class != target.class()
    {
        return Err(CheckError::WrongClass {
            format: FORMAT,
            found: class,
            host_bits: target.bits,
        });
    }
    if let Some(&byte_order) = ident.get(EI_DATA)
        && byte_order != target.data()
    {
        return Err(CheckError::WrongEndian {
            format: FORMAT,
            found: byte_order,
            host: target.data(),
        });
    }
    if target.bits == 64 {
        check_as::<FileHeader64<Endianness>, R>(data, size, target)
    } else {
        check_as::<FileHeader32<Endianness>, R>(data, size, target)
    }
}

/// The CPU named in the header, if the header is there.
fn cpus<'d, R: ReadRef<'d>>(data: R) -> Vec<&'static str> {
    let arch = match FileHeader64::<Endianness>::parse(data) {
        Ok(header) => header_arch(header),
        Err(_) => FileHeader32::<Endianness>::parse(data)
            .ok()
            .and_then(header_arch),
    };
    arch.map(arch_name).into_iter().collect()
}

fn header_arch<Elf: FileHeader<Endian = Endianness>>(header: &Elf) -> Option<Architecture> {
    let endian = header.endian().ok()?;
    Some(arch(header.e_machine(endian), header.is_class_64()))
}

fn check_as<'d, Elf, R>(data: R, size: u64, target: &Target) -> Result<Summary, CheckError>
where
    Elf: FileHeader<Endian = Endianness>,
    R: ReadRef<'d>,
{
    let mut extent = Extent::new(FORMAT, size);
    let header: &Elf = extent.read(data, 0)?;
    let endian = header
        .endian()
        .map_err(|_| extent.malformed("unknown byte order"))?;
    let machine = header.e_machine(endian);
    let arch = arch(machine, header.is_class_64());
    target.expect_arch(FORMAT, machine.into(), arch)?;
    let e_type = header.e_type(endian);
    if e_type != raw::ET_DYN {
        return Err(CheckError::NotShared {
            format: FORMAT,
            kind: e_type.into(),
        });
    }

    // Huge tables keep their real counts in section header 0.
    let phoff: u64 = header.e_phoff(endian).into();
    let shoff: u64 = header.e_shoff(endian).into();
    if shoff != 0 && (header.e_shnum(endian) == 0 || header.e_phnum(endian) == raw::PN_XNUM) {
        extent.cover_table::<Elf::SectionHeader>(shoff, 1)?;
        extent.complete()?;
    }
    let phnum = header
        .phnum(endian, data)
        .map_err(|_| extent.malformed("no section header 0 for the program header count"))?;
    if phoff == 0 || phnum == 0 {
        return Err(CheckError::NoDynamic);
    }
    if usize::from(header.e_phentsize(endian)) != size_of::<Elf::ProgramHeader>() {
        return Err(extent.malformed("program header entries of the wrong size"));
    }
    let shnum = if shoff == 0 {
        0
    } else {
        header
            .shnum(endian, data)
            .map_err(|_| extent.malformed("no section header 0 for the section count"))?
    };
    if shnum != 0 && usize::from(header.e_shentsize(endian)) != size_of::<Elf::SectionHeader>() {
        return Err(extent.malformed("section header entries of the wrong size"));
    }
    extent.cover_table::<Elf::ProgramHeader>(phoff, phnum as u64)?;
    extent.cover_table::<Elf::SectionHeader>(shoff, shnum as u64)?;
    extent.complete()?;

    if (phnum as u64).saturating_mul(size_of::<Elf::ProgramHeader>() as u64) > MAX_TABLE {
        return Err(extent.malformed("program header table too large"));
    }
    if (shnum as u64).saturating_mul(size_of::<Elf::SectionHeader>() as u64) > MAX_TABLE {
        return Err(extent.malformed("section header table too large"));
    }
    let segments = header
        .program_headers(endian, data)
        .map_err(|_| extent.malformed("unreadable program headers"))?;
    let sections = header
        .section_headers(endian, data)
        .map_err(|_| extent.malformed("unreadable section headers"))?;

    let mut load_segments = 0;
    let mut dynamic = None;
    for segment in segments {
        let p_type = segment.p_type(endian);
        if p_type == raw::PT_NULL {
            continue;
        }
        let (offset, len) = segment.file_range(endian);
        extent.cover(offset, len)?;
        if p_type == raw::PT_LOAD {
            load_segments += 1;
        } else if p_type == raw::PT_DYNAMIC && dynamic.is_none() {
            dynamic = Some((offset, len));
        }
    }
    for section in sections {
        if section.sh_type(endian) == raw::SHT_NULL {
            continue;
        }
        if let Some((offset, len)) = section.file_range(endian) {
            extent.cover(offset, len)?;
        }
    }
    extent.complete()?;

    let Some((dyn_offset, dyn_size)) = dynamic else {
        return Err(CheckError::NoDynamic);
    };
    let count = dyn_size.min(MAX_DYNAMIC_READ) / size_of::<Elf::Dyn>() as u64;
    let entries: &[Elf::Dyn] = data
        .read_slice_at(dyn_offset, count as usize)
        .map_err(|()| extent.malformed("unreadable dynamic segment"))?;
    for entry in entries {
        let tag: u64 = entry.d_tag(endian).into();
        if tag == u64::from(raw::DT_NULL) {
            break;
        }
        if tag == u64::from(raw::DT_FLAGS_1)
            && entry.d_val(endian).into() & u64::from(raw::DF_1_PIE) != 0
        {
            return Err(CheckError::Executable);
        }
    }
    Ok(Summary {
        size,
        format: FORMAT,
        arch: arch_name(arch),
        segments: load_segments,
    })
}

/// The CPU an `e_machine` names.
fn arch(machine: u16, is_64: bool) -> Architecture {
    match (machine, is_64) {
        (raw::EM_X86_64, true) => Architecture::X86_64,
        (raw::EM_X86_64, false) => Architecture::X86_64_X32,
        (raw::EM_AARCH64, true) => Architecture::Aarch64,
        (raw::EM_AARCH64, false) => Architecture::Aarch64_Ilp32,
        (raw::EM_386, _) => Architecture::I386,
        (raw::EM_ARM, _) => Architecture::Arm,
        (raw::EM_RISCV, true) => Architecture::Riscv64,
        (raw::EM_RISCV, false) => Architecture::Riscv32,
        (raw::EM_LOONGARCH, true) => Architecture::LoongArch64,
        (raw::EM_PPC, _) => Architecture::PowerPc,
        (raw::EM_PPC64, _) => Architecture::PowerPc64,
        (raw::EM_S390, true) => Architecture::S390x,
        (raw::EM_MIPS, false) => Architecture::Mips,
        (raw::EM_MIPS, true) => Architecture::Mips64,
        (raw::EM_SPARCV9, true) => Architecture::Sparc64,
        _ => Architecture::Unknown,
    }
}
