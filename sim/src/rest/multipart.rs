//! `multipart/form-data` bodies, as Discord takes messages with files: a `payload_json` part
//! (the JSON body) and one `files[n]` part per file.

use serde_json::Value;

use super::ApiError;

/// A file part of a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePart {
    /// The `n` of its `files[n]` name.
    pub index: u64,
    /// The part's `filename`.
    pub filename: String,
    /// The part's `Content-Type`, if it has one.
    pub content_type: Option<String>,
    /// The contents.
    pub bytes: Vec<u8>,
}

/// What a multipart body carried.
#[derive(Debug, Default)]
pub struct Multipart {
    /// The `payload_json` part, parsed.
    pub payload: Option<Value>,
    /// The `files[n]` parts, in the order sent.
    pub files: Vec<FilePart>,
}

/// The `boundary` parameter of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// A parameter of a `Content-Disposition` header: `name="x"`, or RFC 5987's
/// `filename*=utf-8''x` (percent-encoded) for `filename`.
fn disposition_param(header: &str, key: &str) -> Option<String> {
    let mut plain = None;
    for param in header.split(';').skip(1) {
        let Some((k, v)) = param.trim().split_once('=') else {
            continue;
        };
        let k = k.trim();
        if k.eq_ignore_ascii_case(&format!("{key}*")) {
            let encoded = v.trim().trim_matches('"');
            let text = encoded.split_once("''").map_or(encoded, |(_, t)| t);
            if let Some(decoded) = super::percent_decode(text) {
                return Some(decoded);
            }
        } else if k.eq_ignore_ascii_case(key) {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            plain = Some(v.replace("\\\"", "\""));
        }
    }
    plain
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| at + from)
}

/// 400 for a body that is not the multipart it says it is (Discord answers 50109, as for
/// JSON that does not parse).
fn malformed() -> ApiError {
    ApiError::bad_json()
}

/// Parses a `multipart/form-data` body with the boundary of `content_type`.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Multipart, ApiError> {
    let boundary = boundary(content_type).ok_or_else(malformed)?;
    let delimiter = format!("--{boundary}");
    let mut out = Multipart::default();
    let mut at = find(body, delimiter.as_bytes(), 0).ok_or_else(malformed)? + delimiter.len();
    loop {
        // After a delimiter: `--` ends the body, CRLF starts a part.
        if body.get(at..at + 2) == Some(b"--") {
            return Ok(out);
        }
        if body.get(at..at + 2) != Some(b"\r\n") {
            return Err(malformed());
        }
        let headers_end = find(body, b"\r\n\r\n", at + 2).ok_or_else(malformed)?;
        let headers = String::from_utf8_lossy(&body[at + 2..headers_end]);
        let content_start = headers_end + 4;
        let next = find(body, format!("\r\n{delimiter}").as_bytes(), content_start)
            .ok_or_else(malformed)?;
        let content = &body[content_start..next];
        at = next + 2 + delimiter.len();

        let mut name = None;
        let mut filename = None;
        let mut part_type = None;
        for line in headers.split("\r\n") {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            if key.trim().eq_ignore_ascii_case("content-disposition") {
                name = disposition_param(value, "name");
                filename = disposition_param(value, "filename");
            } else if key.trim().eq_ignore_ascii_case("content-type") {
                part_type = Some(value.trim().to_owned());
            }
        }
        match name.as_deref() {
            Some("payload_json") => {
                out.payload = Some(serde_json::from_slice(content).map_err(|_| malformed())?);
            }
            Some(other) => {
                let index = other
                    .strip_prefix("files[")
                    .and_then(|rest| rest.strip_suffix(']'))
                    .and_then(|n| n.parse::<u64>().ok());
                // Discord takes a file only from a part with a file name; other fields are
                // ignored, as it ignores unknown JSON keys.
                if let (Some(index), Some(filename)) = (index, filename) {
                    out.files.push(FilePart {
                        index,
                        filename,
                        content_type: part_type,
                        bytes: content.to_vec(),
                    });
                }
            }
            None => return Err(malformed()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_and_files_are_read() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n\r\n\
{\"content\":\"hi\"}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"files[0]\"; \
filename*=utf-8''a%20b.txt\r\nContent-Type: text/plain\r\n\r\nline\r\n\r\n--XyZ--\r\n";
        let parsed = parse("multipart/form-data; boundary=XyZ", body).expect("multipart");
        assert_eq!(parsed.payload, Some(serde_json::json!({"content": "hi"})));
        assert_eq!(
            parsed.files,
            [FilePart {
                index: 0,
                filename: "a b.txt".into(),
                content_type: Some("text/plain".into()),
                bytes: b"line\r\n".to_vec(),
            }]
        );
        assert!(parse("multipart/form-data", body).is_err());
        assert!(parse("multipart/form-data; boundary=XyZ", b"--XyZ\r\nno end").is_err());
    }
}
