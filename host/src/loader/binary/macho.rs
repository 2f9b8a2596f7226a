//! Mach-O: a dylib or bundle, its load commands, segments and sections in the file; a universal
//! file must hold a slice for this CPU, and every slice must be in the file.

use object::endian::{BigEndian as BE, U32};
use object::macho::{self as raw, FatHeader, MachHeader32, MachHeader64};
use object::read::macho::{FatArch, MachHeader, MachOFatFile, Section as _, Segment as _};
use object::{Architecture, Endianness, ReadRef};

use super::{CheckError, Extent, Format, MAX_TABLE, Summary, Target, arch_name};

/// More slices than this is no universal file; a Java class file starts with the same magic
/// number, followed by its version (45 and up) where the slice count would be.
const MAX_SLICES: u32 = 32;

pub(super) fn check<'d, R: ReadRef<'d>>(
    data: R,
    size: u64,
    target: &Target,
) -> Result<Summary, CheckError> {
    let format = Format::MachO;
    target.expect_format(format, || {
        slice_arch(data, 0).map(arch_name).into_iter().collect()
    })?;
    let mut extent = Extent::new(format, size);
    let (arch, segments) = check_slice(data, 0, target, &mut extent)?;
    Ok(Summary {
        size,
        format,
        arch: arch_name(arch),
        segments,
    })
}

pub(super) fn check_universal<'d, R: ReadRef<'d>>(
    data: R,
    size: u64,
    target: &Target,
) -> Result<Summary, CheckError> {
    let format = Format::Universal;
    let mut extent = Extent::new(format, size);
    let header: &FatHeader = extent.read(data, 0)?;
    let count = header.nfat_arch.get(BE);
    if count > MAX_SLICES {
        return Err(CheckError::Unknown);
    }
    let wide = header.magic.get(BE) == raw::FAT_MAGIC_64;
    target.expect_format(format, || {
        if wide {
            slice_cpus::<raw::FatArch64, R>(data)
        } else {
            slice_cpus::<raw::FatArch32, R>(data)
        }
    })?;
    if wide {
        universal_as::<raw::FatArch64, R>(data, count, target, &mut extent)
    } else {
        universal_as::<raw::FatArch32, R>(data, count, target, &mut extent)
    }
}

fn universal_as<'d, Fat: FatArch, R: ReadRef<'d>>(
    data: R,
    count: u32,
    target: &Target,
    extent: &mut Extent,
) -> Result<Summary, CheckError> {
    extent.cover_table::<Fat>(size_of::<FatHeader>() as u64, count.into())?;
    extent.complete()?;
    let fat =
        MachOFatFile::<Fat>::parse(data).map_err(|_| extent.malformed("unreadable slice table"))?;
    let arches: Vec<Architecture> = fat.arches().iter().map(|a| arch(a.cputype())).collect();
    let chosen = match target.arch {
        Some(host) => arches.iter().position(|&a| a == host),
        None => (!arches.is_empty()).then_some(0),
    };
    let Some(chosen) = chosen.and_then(|i| fat.arches().get(i)) else {
        return Err(CheckError::NoHostSlice {
            arches: arches.into_iter().map(arch_name).collect(),
            host: target.arch_name(),
        });
    };
    for slice in fat.arches() {
        let (offset, len) = slice.file_range();
        extent.cover(offset, len)?;
    }
    extent.complete()?;
    let (arch, segments) = check_slice(data, chosen.file_range().0, target, extent)?;
    Ok(Summary {
        size: extent.size,
        format: Format::Universal,
        arch: arch_name(arch),
        segments,
    })
}

/// The CPUs of a universal file's slices, if its slice table is there.
fn slice_cpus<'d, Fat: FatArch, R: ReadRef<'d>>(data: R) -> Vec<&'static str> {
    MachOFatFile::<Fat>::parse(data).map_or_else(
        |_| Vec::new(),
        |fat| {
            fat.arches()
                .iter()
                .map(|a| arch_name(arch(a.cputype())))
                .collect()
        },
    )
}

/// The CPU of the Mach-O header at `base`, if it is there.
fn slice_arch<'d, R: ReadRef<'d>>(data: R, base: u64) -> Option<Architecture> {
    let header = MachHeader64::<Endianness>::parse(data, base).ok()?;
    Some(arch(header.cputype(header.endian().ok()?)))
}

/// Checks the Mach-O file at `base` (0, or a slice of a universal file); returns its CPU and
/// number of segments.
fn check_slice<'d, R: ReadRef<'d>>(
    data: R,
    base: u64,
    target: &Target,
    extent: &mut Extent,
) -> Result<(Architecture, usize), CheckError> {
    let format = extent.format;
    let magic: &U32<BE> = extent.read(data, base)?;
    let (bits, little_endian) = match magic.get(BE) {
        raw::MH_CIGAM_64 => (64, true),
        raw::MH_MAGIC_64 => (64, false),
        raw::MH_CIGAM => (32, true),
        raw::MH_MAGIC => (32, false),
        _ => return Err(extent.malformed("a slice without a Mach-O header")),
    };
    target.expect_bits(format, bits)?;
    target.expect_endian(format, little_endian)?;
    if bits == 64 {
        check_as::<MachHeader64<Endianness>, R>(data, base, target, extent)
    } else {
        check_as::<MachHeader32<Endianness>, R>(data, base, target, extent)
    }
}

fn check_as<'d, Mach, R>(
    data: R,
    base: u64,
    target: &Target,
    extent: &mut Extent,
) -> Result<(Architecture, usize), CheckError>
where
    Mach: MachHeader<Endian = Endianness>,
    R: ReadRef<'d>,
{
    let format = extent.format;
    let header: &Mach = extent.read(data, base)?;
    let endian = header
        .endian()
        .map_err(|_| extent.malformed("unknown byte order"))?;
    let cputype = header.cputype(endian);
    let arch = arch(cputype);
    target.expect_arch(format, cputype, arch)?;
    let filetype = header.filetype(endian);
    if filetype != raw::MH_DYLIB && filetype != raw::MH_BUNDLE {
        return Err(CheckError::NotShared {
            format,
            kind: filetype,
        });
    }
    let commands_len = u64::from(header.sizeofcmds(endian));
    extent.cover(base + size_of::<Mach>() as u64, commands_len)?;
    extent.complete()?;
    if commands_len > MAX_TABLE {
        return Err(extent.malformed("load commands too large"));
    }
    let mut commands = header
        .load_commands(endian, data, base)
        .map_err(|_| extent.malformed("unreadable load commands"))?;
    let mut segments = 0;
    while let Some(command) = commands
        .next()
        .map_err(|_| extent.malformed("a load command past the end of the command table"))?
    {
        let Some((segment, section_data)) = Mach::Segment::from_command(command)
            .map_err(|_| extent.malformed("a segment command too small"))?
        else {
            continue;
        };
        segments += 1;
        let (offset, len) = segment.file_range(endian);
        extent.cover(slice_offset(base, offset, extent)?, len)?;
        let sections = segment
            .sections(endian, section_data)
            .map_err(|_| extent.malformed("more sections than the segment command holds"))?;
        for section in sections {
            if let Some((offset, len)) = section.file_range(endian) {
                extent.cover(slice_offset(base, offset, extent)?, len)?;
            }
        }
    }
    extent.complete()?;
    Ok((arch, segments))
}

/// A slice-relative offset as a file offset.
fn slice_offset(base: u64, offset: u64, extent: &Extent) -> Result<u64, CheckError> {
    base.checked_add(offset)
        .ok_or_else(|| extent.malformed("a range past the end of the address space"))
}

/// The CPU a `cputype` names.
fn arch(cputype: u32) -> Architecture {
    match cputype {
        raw::CPU_TYPE_X86_64 => Architecture::X86_64,
        raw::CPU_TYPE_ARM64 => Architecture::Aarch64,
        raw::CPU_TYPE_ARM64_32 => Architecture::Aarch64_Ilp32,
        raw::CPU_TYPE_X86 => Architecture::I386,
        raw::CPU_TYPE_ARM => Architecture::Arm,
        raw::CPU_TYPE_POWERPC => Architecture::PowerPc,
        raw::CPU_TYPE_POWERPC64 => Architecture::PowerPc64,
        _ => Architecture::Unknown,
    }
}
