//! What the simulated CDN serves (`cdn.discordapp.com` / `media.discordapp.net` on the
//! simulator's own listener): the contents of attachments and the images of custom emojis.
//!
//! Files are registered when their message is stored or edited (and users' uploads for slash
//! commands when made) and are kept for the simulator's lifetime, after their message, channel
//! or emoji is gone: Discord's CDN keeps serving them for a while, and a bot that restores a
//! deleted emoji or re-posts a deleted file reads them from there.

use std::collections::HashMap;
use std::sync::Arc;

use super::Attachment;

/// A file the CDN serves under `/attachments/...` or `/ephemeral-attachments/...`.
#[derive(Debug, Clone)]
pub struct CdnFile {
    /// The channel of its message; `None` for an ephemeral attachment (a slash command's
    /// upload), whose URL names the application instead.
    pub channel: Option<u64>,
    /// File name, as in its URL.
    pub filename: String,
    /// Media type, if known.
    pub content_type: Option<String>,
    /// The contents.
    pub data: Arc<[u8]>,
}

/// An emoji's image.
#[derive(Debug, Clone)]
pub struct EmojiImage {
    /// Media type (`image/png`, `image/gif`, `image/jpeg`, `image/webp`).
    pub content_type: &'static str,
    /// The image bytes.
    pub data: Arc<[u8]>,
}

/// The CDN's contents.
#[derive(Debug, Default)]
pub struct Cdn {
    /// Files by attachment id.
    pub files: HashMap<u64, CdnFile>,
    /// Emoji images by emoji id (deleted emojis included).
    pub emojis: HashMap<u64, EmojiImage>,
}

impl Cdn {
    /// Registers the attachments of a message in `channel` that have contents.
    pub fn keep_attachments(&mut self, channel: u64, attachments: &[Attachment]) {
        for a in attachments {
            if let Some(data) = &a.data {
                self.files.entry(a.id).or_insert_with(|| CdnFile {
                    channel: Some(channel),
                    filename: a.filename.clone(),
                    content_type: a.content_type.clone(),
                    data: data.clone(),
                });
            }
        }
    }

    /// The file with attachment id `id` named `filename`, in `channel` when given (the
    /// `/attachments/{channel}/...` form; the ephemeral form passes `None` and matches any).
    pub fn file(&self, channel: Option<u64>, id: u64, filename: &str) -> Option<&CdnFile> {
        self.files
            .get(&id)
            .filter(|f| f.filename == filename)
            .filter(|f| channel.is_none() || f.channel == channel)
    }
}

/// The media type Discord gives an uploaded file, guessed from its extension (`None` when
/// unknown). Text types carry `; charset=utf-8`, as Discord reports them.
pub fn guess_content_type(filename: &str) -> Option<&'static str> {
    let ext = filename.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "json" => "application/json; charset=utf-8",
        "txt" | "log" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "xml" => "application/xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "mp4" => "video/mp4",
        _ => return None,
    })
}

/// The format of image bytes, by their signature: `(media type, animated)` for PNG, GIF
/// (always animated, as Discord marks GIF emojis), JPEG and WebP (animated when its VP8X
/// header says so); `None` for anything else.
pub fn sniff_image(bytes: &[u8]) -> Option<(&'static str, bool)> {
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(("image/png", false))
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(("image/gif", true))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", false))
    } else if bytes.len() >= 16 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        // VP8X: flags byte after the chunk header; bit 1 = animation.
        let animated = &bytes[12..16] == b"VP8X" && bytes.get(20).is_some_and(|f| f & 0x02 != 0);
        Some(("image/webp", animated))
    } else {
        None
    }
}

/// A small valid PNG (16×16, one colour derived from `id`): the image of an emoji created
/// without one (by [`crate::Simulator::add_emoji`]). The same id always gives the same bytes.
pub fn placeholder_png(id: u64) -> Vec<u8> {
    const SIDE: u32 = 16;
    let mixed = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let rgba = [
        (mixed >> 16) as u8,
        (mixed >> 24) as u8,
        (mixed >> 32) as u8,
        0xFF,
    ];
    // Each scanline: filter type 0 (none), then the pixels.
    let mut row = vec![0u8];
    for _ in 0..SIDE {
        row.extend_from_slice(&rgba);
    }
    let raw = row.repeat(SIDE as usize);
    // zlib stream with one stored (uncompressed) deflate block.
    let len = raw.len() as u16;
    let mut zlib = vec![0x78, 0x01, 0x01];
    zlib.extend_from_slice(&len.to_le_bytes());
    zlib.extend_from_slice(&(!len).to_le_bytes());
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&SIDE.to_be_bytes());
    ihdr.extend_from_slice(&SIDE.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8 bits, RGBA, deflate, no filter, no interlace

    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", zlib), (b"IEND", Vec::new())] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(&data);
        let crc = crc32(&png[start..]);
        png.extend_from_slice(&crc.to_be_bytes());
    }
    png
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Decodes standard base64 (padding optional, no whitespace); `None` when malformed.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let trimmed = text.trim_end_matches('=');
    if text.len() - trimmed.len() > 2 || trimmed.len() % 4 == 1 {
        return None;
    }
    let bytes = trimmed.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= value(*c)? << (18 - 6 * i);
        }
        let [_, a, b, c] = acc.to_be_bytes();
        out.push(a);
        if chunk.len() > 2 {
            out.push(b);
        }
        if chunk.len() > 3 {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_known_vectors() {
        assert_eq!(decode_base64("").as_deref(), Some(&b""[..]));
        assert_eq!(decode_base64("Zg==").as_deref(), Some(&b"f"[..]));
        assert_eq!(decode_base64("Zm8=").as_deref(), Some(&b"fo"[..]));
        assert_eq!(decode_base64("Zm9v").as_deref(), Some(&b"foo"[..]));
        assert_eq!(decode_base64("Zm9vYg").as_deref(), Some(&b"foob"[..]));
        assert_eq!(decode_base64("/+8=").as_deref(), Some(&[0xFF, 0xEF][..]));
        assert_eq!(decode_base64("Zm9v!"), None);
        assert_eq!(decode_base64("Z"), None);
        assert_eq!(decode_base64("Zg==="), None);
    }

    #[test]
    fn placeholder_is_a_valid_png_and_deterministic() {
        let png = placeholder_png(42);
        assert_eq!(sniff_image(&png), Some(("image/png", false)));
        assert_eq!(png, placeholder_png(42));
        assert_ne!(png, placeholder_png(43));
        // Chunk CRCs check out: IHDR's is over "IHDR" + its 13 bytes.
        let ihdr_crc = u32::from_be_bytes([png[29], png[30], png[31], png[32]]);
        assert_eq!(ihdr_crc, crc32(&png[12..29]));
        // The known CRC-32 of "123456789".
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn images_are_sniffed_by_signature() {
        assert_eq!(sniff_image(b"GIF89a...."), Some(("image/gif", true)));
        assert_eq!(
            sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(("image/jpeg", false))
        );
        let mut webp = b"RIFF\0\0\0\0WEBPVP8X".to_vec();
        webp.extend_from_slice(&[0, 0, 0, 0, 0x02]);
        assert_eq!(sniff_image(&webp), Some(("image/webp", true)));
        assert_eq!(sniff_image(b"hello"), None);
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(
            guess_content_type("a.JSON"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(guess_content_type("x.png"), Some("image/png"));
        assert_eq!(
            guess_content_type("notes.txt"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(guess_content_type("noext"), None);
        assert_eq!(guess_content_type("a.unknown"), None);
    }
}
