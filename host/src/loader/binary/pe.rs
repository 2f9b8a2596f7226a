//! PE: an image with the DLL flag, its headers and the raw data of every section in the file.

use object::endian::{LittleEndian as LE, U16, U32};
use object::pe::{
    self as raw, ImageDosHeader, ImageFileHeader, ImageNtHeaders32, ImageNtHeaders64,
};
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader as _};
use object::{Architecture, ReadRef};

use super::{CheckError, Extent, Format, Summary, Target, arch_name};

const FORMAT: Format = Format::Pe;

/// Where the NT headers start and what their fixed part says.
struct Headers<'d> {
    offset: u64,
    file: &'d ImageFileHeader,
    bits: u8,
}

pub(super) fn check<'d, R: ReadRef<'d>>(
    data: R,
    size: u64,
    target: &Target,
) -> Result<Summary, CheckError> {
    target.expect_format(FORMAT, || cpus(data, size))?;
    let mut extent = Extent::new(FORMAT, size);
    let headers = headers(data, &mut extent)?;
    target.expect_bits(FORMAT, headers.bits)?;
    let machine = headers.file.machine.get(LE);
    let arch = arch(machine);
    target.expect_arch(FORMAT, machine.into(), arch)?;
    let characteristics = headers.file.characteristics.get(LE);
    if characteristics & raw::IMAGE_FILE_DLL == 0 {
        return Err(CheckError::NotShared {
            format: FORMAT,
            kind: characteristics.into(),
        });
    }
    let sections = if headers.bits == 64 {
        sections::<ImageNtHeaders64, R>(data, &headers, &mut extent)?
    } else {
        sections::<ImageNtHeaders32, R>(data, &headers, &mut extent)?
    };
    Ok(Summary {
        size,
        format: FORMAT,
        arch: arch_name(arch),
        segments: sections,
    })
}

/// The CPU named in the header, if the header is there.
fn cpus<'d, R: ReadRef<'d>>(data: R, size: u64) -> Vec<&'static str> {
    headers(data, &mut Extent::new(FORMAT, size))
        .map(|h| arch_name(arch(h.file.machine.get(LE))))
        .into_iter()
        .collect()
}

/// The MS-DOS header, the PE signature, the file header and the optional header's magic.
fn headers<'d, R: ReadRef<'d>>(data: R, extent: &mut Extent) -> Result<Headers<'d>, CheckError> {
    let dos: &ImageDosHeader = extent.read(data, 0)?;
    let offset = u64::from(dos.nt_headers_offset());
    let signature: &U32<LE> = extent.read(data, offset)?;
    if signature.get(LE) != raw::IMAGE_NT_SIGNATURE {
        return Err(extent.malformed("an MS-DOS program without PE headers"));
    }
    let file: &ImageFileHeader = extent.read(data, offset + 4)?;
    let magic: &U16<LE> = extent.read(data, offset + 4 + size_of::<ImageFileHeader>() as u64)?;
    let bits = match magic.get(LE) {
        raw::IMAGE_NT_OPTIONAL_HDR64_MAGIC => 64,
        raw::IMAGE_NT_OPTIONAL_HDR32_MAGIC => 32,
        _ => return Err(extent.malformed("unknown optional header magic")),
    };
    Ok(Headers { offset, file, bits })
}

/// Checks that the optional header, the section table, the headers' declared size and every
/// section's raw data are in the file; returns the number of sections.
fn sections<'d, Pe: ImageNtHeaders, R: ReadRef<'d>>(
    data: R,
    headers: &Headers<'d>,
    extent: &mut Extent,
) -> Result<usize, CheckError> {
    let optional_at = headers.offset + 4 + size_of::<ImageFileHeader>() as u64;
    extent.cover(
        optional_at,
        headers.file.size_of_optional_header.get(LE).into(),
    )?;
    extent.complete()?;
    let mut offset = headers.offset;
    let (nt, _directories) = Pe::parse(data, &mut offset)
        .map_err(|_| extent.malformed("an optional header too small for its fields"))?;
    let count = headers.file.number_of_sections.get(LE);
    extent.cover_table::<raw::ImageSectionHeader>(offset, count.into())?;
    extent.cover(0, nt.optional_header().size_of_headers().into())?;
    extent.complete()?;
    let table = nt
        .sections(data, offset)
        .map_err(|_| extent.malformed("unreadable section table"))?;
    for section in table.iter() {
        let at = section.pointer_to_raw_data.get(LE);
        let len = section.size_of_raw_data.get(LE);
        if at != 0 && len != 0 {
            extent.cover(at.into(), len.into())?;
        }
    }
    extent.complete()?;
    Ok(count.into())
}

/// The CPU a `Machine` field names.
fn arch(machine: u16) -> Architecture {
    match machine {
        raw::IMAGE_FILE_MACHINE_AMD64 => Architecture::X86_64,
        raw::IMAGE_FILE_MACHINE_ARM64 => Architecture::Aarch64,
        raw::IMAGE_FILE_MACHINE_I386 => Architecture::I386,
        raw::IMAGE_FILE_MACHINE_ARM | raw::IMAGE_FILE_MACHINE_ARMNT => Architecture::Arm,
        raw::IMAGE_FILE_MACHINE_RISCV64 => Architecture::Riscv64,
        _ => Architecture::Unknown,
    }
}
