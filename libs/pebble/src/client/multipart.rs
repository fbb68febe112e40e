//! `multipart/form-data` as Pebble's files API speaks it: the push body we write, and the pull
//! response we read as a stream (so a large file never has to fit in memory).
//!
//! Written by hand: the format is small, and the crates that parse it are async or unmaintained.

use std::io::{self, Read, Write};

/// The longest part head accepted.
const MAX_PART_HEAD: usize = 16 * 1024;

/// A random boundary: 32 hex characters, as ops makes them (Pebble wants at least 32).
pub(crate) fn boundary() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: time and PID still make a collision with file content unlikely.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
            ^ u128::from(std::process::id()) << 64;
        bytes = seed.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A `Content-Disposition` parameter value, quoted.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The bytes before and after one file's content in a push body: the `request` part with the
/// JSON metadata, then the head of the `files` part.
pub(crate) fn push_envelope(boundary: &str, metadata: &[u8], path: &str) -> (Vec<u8>, Vec<u8>) {
    let mut prefix = Vec::with_capacity(metadata.len() + 256);
    prefix.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Type: application/json\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n"
        )
        .as_bytes(),
    );
    prefix.extend_from_slice(metadata);
    prefix.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Disposition: form-data; name=\"files\"; filename={}\r\n\r\n",
            quote(path)
        )
        .as_bytes(),
    );
    let suffix = format!("\r\n--{boundary}--\r\n").into_bytes();
    (prefix, suffix)
}

/// A whole push body: the `request` part with the JSON metadata, then one `files` part per file.
pub(crate) fn push_body(boundary: &str, metadata: &[u8], files: &[(&str, &[u8])]) -> Vec<u8> {
    let size = files
        .iter()
        .map(|(p, c)| p.len() + c.len() + 160)
        .sum::<usize>();
    let mut out = Vec::with_capacity(metadata.len() + size + 256);
    out.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Type: application/json\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(metadata);
    for (path, content) in files {
        out.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Disposition: form-data; name=\"files\"; filename={}\r\n\r\n",
                quote(path)
            )
            .as_bytes(),
        );
        out.extend_from_slice(content);
    }
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

/// The `boundary` parameter of a `multipart/form-data` content type.
pub(crate) fn boundary_of(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    if !parts
        .next()?
        .trim()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        return None;
    }
    params(parts.collect::<Vec<_>>().join(";").as_str())
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v)
        .filter(|b| !b.is_empty())
}

/// `k=v; k="quoted \" value"` parameters.
fn params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ';' || c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ';' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() && chars.peek().is_none() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ';' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        out.push((
            key.trim().to_ascii_lowercase(),
            value.trim_end().to_string(),
        ));
    }
}

/// The head of one part.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct PartHead {
    /// The `name` of its `Content-Disposition`.
    pub name: String,
    /// The `filename` of its `Content-Disposition`, if any.
    pub filename: Option<String>,
}

/// Reads a multipart body part by part, streaming each part's content.
pub(crate) struct MultipartReader<R> {
    inner: R,
    /// `\r\n--<boundary>`: what ends a part.
    delimiter: Vec<u8>,
    buf: Vec<u8>,
    /// Inside a part's content (the delimiter not yet met).
    in_part: bool,
    finished: bool,
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed multipart body: {message}"),
    )
}

impl<R: Read> MultipartReader<R> {
    /// A reader of `inner`, a body with this boundary.
    pub fn new(inner: R, boundary: &str) -> MultipartReader<R> {
        MultipartReader {
            inner,
            delimiter: format!("\r\n--{boundary}").into_bytes(),
            // The first delimiter has no CRLF before it: pretend it had.
            buf: b"\r\n".to_vec(),
            in_part: true,
            finished: false,
        }
    }

    /// Reads more of the body into the buffer; false at EOF.
    fn fill(&mut self) -> io::Result<bool> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.inner.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Copies the current part's content (or the preamble) to `out` until the delimiter,
    /// failing past `limit` bytes. Returns the number of bytes copied.
    pub fn copy_part(&mut self, out: &mut dyn Write, limit: u64) -> io::Result<u64> {
        let mut copied: u64 = 0;
        let mut emit = |data: &[u8], out: &mut dyn Write| -> io::Result<()> {
            copied += data.len() as u64;
            if copied > limit {
                return Err(io::Error::new(io::ErrorKind::OutOfMemory, "part too large"));
            }
            out.write_all(data)
        };
        while self.in_part {
            if let Some(at) = find(&self.buf, &self.delimiter) {
                emit(&self.buf[..at], out)?;
                self.buf.drain(..at + self.delimiter.len());
                self.in_part = false;
                break;
            }
            // Keep what could be the start of a delimiter split across reads.
            let keep = self.delimiter.len().saturating_sub(1).min(self.buf.len());
            let flush = self.buf.len() - keep;
            emit(&self.buf[..flush], out)?;
            self.buf.drain(..flush);
            if !self.fill()? {
                return Err(invalid("ended inside a part"));
            }
        }
        Ok(copied)
    }

    /// Moves to the next part and reads its head; `None` after the closing delimiter.
    pub fn next_part(&mut self) -> io::Result<Option<PartHead>> {
        if self.finished {
            return Ok(None);
        }
        if self.in_part {
            self.copy_part(&mut io::sink(), u64::MAX)?;
        }
        // After the delimiter: `--` (end) or optional whitespace then CRLF.
        while self.buf.len() < 2 {
            if !self.fill()? {
                return Err(invalid("ended after a boundary"));
            }
        }
        if self.buf.starts_with(b"--") {
            self.finished = true;
            return Ok(None);
        }
        let head_end = loop {
            if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                break at;
            }
            if self.buf.len() > MAX_PART_HEAD {
                return Err(invalid("part head too large"));
            }
            if !self.fill()? {
                return Err(invalid("ended inside a part head"));
            }
        };
        let head_text = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        self.buf.drain(..head_end + 4);
        let mut lines = head_text.split("\r\n");
        // The rest of the boundary line (transport padding) must be blank.
        if !lines.next().unwrap_or("").trim().is_empty() {
            return Err(invalid("text after a boundary"));
        }
        let mut head = PartHead::default();
        for line in lines {
            let Some((key, value)) = line.split_once(':') else {
                return Err(invalid("bad part header"));
            };
            if key.trim().eq_ignore_ascii_case("content-disposition") {
                for (k, v) in params(value.split_once(';').map_or("", |(_, p)| p)) {
                    match k.as_str() {
                        "name" => head.name = v,
                        "filename" => head.filename = Some(v),
                        _ => {}
                    }
                }
            }
        }
        self.in_part = true;
        Ok(Some(head))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out at most `step` bytes per read, to split delimiters across reads.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    const BODY: &[u8] = b"preamble\r\n--XYZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"/a \\\"b\\\".txt\"\r\nContent-Type: application/octet-stream\r\n\r\nline1\r\n--XY not yet\r\n\r\n--XYZ  \r\nContent-Disposition: form-data; name=\"response\"\r\n\r\n{}\r\n--XYZ--\r\nepilogue";

    #[test]
    fn reads_parts_across_any_split() {
        for step in [1, 2, 3, 7, 64, 4096] {
            let mut r = MultipartReader::new(Trickle(BODY, step), "XYZ");
            let head = r.next_part().unwrap().unwrap();
            assert_eq!(head.name, "files");
            assert_eq!(head.filename.as_deref(), Some("/a \"b\".txt"));
            let mut content = Vec::new();
            r.copy_part(&mut content, 1024).unwrap();
            assert_eq!(content, b"line1\r\n--XY not yet\r\n", "step {step}");
            let head = r.next_part().unwrap().unwrap();
            assert_eq!((head.name.as_str(), head.filename), ("response", None));
            let mut json = Vec::new();
            r.copy_part(&mut json, 1024).unwrap();
            assert_eq!(json, b"{}");
            assert_eq!(r.next_part().unwrap(), None);
            assert_eq!(r.next_part().unwrap(), None);
        }
    }

    #[test]
    fn truncated_and_oversized_bodies_fail() {
        let mut r = MultipartReader::new(&BODY[..60], "XYZ");
        let failed = r
            .next_part()
            .and_then(|_| r.copy_part(&mut io::sink(), 1024));
        assert_eq!(failed.unwrap_err().kind(), io::ErrorKind::InvalidData);
        let mut r = MultipartReader::new(BODY, "XYZ");
        r.next_part().unwrap();
        let err = r.copy_part(&mut io::sink(), 5).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::OutOfMemory);
        let mut r = MultipartReader::new(&b"--XYZ\r\nno colon\r\n\r\n"[..], "XYZ");
        assert!(r.next_part().is_err());
        let mut r = MultipartReader::new(&b"no boundary at all"[..], "XYZ");
        assert!(r.next_part().is_err());
    }

    #[test]
    fn boundaries_and_content_types() {
        let b = boundary();
        assert_eq!(b.len(), 32);
        assert!(b.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(b, boundary());
        assert_eq!(
            boundary_of("multipart/form-data; boundary=\"abc\"").as_deref(),
            Some("abc")
        );
        assert_eq!(
            boundary_of("Multipart/Form-Data;charset=x; Boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(boundary_of("application/json"), None);
        assert_eq!(boundary_of("multipart/form-data"), None);
    }

    #[test]
    fn push_envelope_is_what_ops_sends() {
        let (prefix, suffix) = push_envelope("B", br#"{"x":1}"#, "/etc/a\"b");
        assert_eq!(
            String::from_utf8(prefix).unwrap(),
            "--B\r\nContent-Type: application/json\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n{\"x\":1}\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: form-data; name=\"files\"; filename=\"/etc/a\\\"b\"\r\n\r\n"
        );
        assert_eq!(suffix, b"\r\n--B--\r\n");
    }
}
