//! `multipart/form-data` as the files API uses it: parsing a push (metadata part named
//! `request`, then parts named `files` whose `filename` is the full path) and writing a pull.

use crate::http::find;

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Part {
    /// The `name` of its `Content-Disposition`.
    pub name: String,
    /// The `filename` of its `Content-Disposition` (the full path for the files API).
    pub filename: Option<String>,
    pub body: Vec<u8>,
}

/// Splits a buffered multipart body into its parts.
pub(crate) fn parse(body: &[u8], boundary: &str) -> Result<Vec<Part>, String> {
    let delimiter = format!("--{boundary}");
    let delim = delimiter.as_bytes();
    let start = find(body, delim).ok_or("multipart: NextPart: EOF")?;
    let mut rest = &body[start + delim.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        rest = skip_line_end(rest).ok_or("multipart: boundary not followed by a line end")?;
        let head_end = find(rest, b"\r\n\r\n").ok_or("multipart: part headers not terminated")?;
        let head = std::str::from_utf8(&rest[..head_end])
            .map_err(|_| "multipart: part headers are not UTF-8")?;
        let after_head = &rest[head_end + 4..];
        let mut close = b"\r\n".to_vec();
        close.extend_from_slice(delim);
        let body_end = find(after_head, &close).ok_or("multipart: unexpected EOF")?;
        let (name, filename) = disposition(head)?;
        parts.push(Part {
            name,
            filename,
            body: after_head[..body_end].to_vec(),
        });
        rest = &after_head[body_end + close.len()..];
    }
}

fn skip_line_end(b: &[u8]) -> Option<&[u8]> {
    // Transport padding (spaces/tabs) may precede the line end.
    let trimmed = b
        .iter()
        .position(|c| *c != b' ' && *c != b'\t')
        .map_or(b, |i| &b[i..]);
    trimmed
        .strip_prefix(b"\r\n")
        .or_else(|| trimmed.strip_prefix(b"\n"))
}

/// The `name` and `filename` of a part's `Content-Disposition` header.
fn disposition(head: &str) -> Result<(String, Option<String>), String> {
    for line in head.split("\r\n") {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if key.trim().eq_ignore_ascii_case("content-disposition") {
            let params = header_params(value);
            let name = params
                .iter()
                .find(|(k, _)| k == "name")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let filename = params
                .into_iter()
                .find(|(k, _)| k == "filename")
                .map(|(_, v)| v);
            return Ok((name, filename));
        }
    }
    Ok((String::new(), None))
}

/// The `key=value` parameters after the first `;` of a header value (quoted values unescaped).
pub(crate) fn header_params(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let chars: Vec<char> = value.chars().collect();
    let mut i = chars
        .iter()
        .position(|c| *c == ';')
        .map_or(chars.len(), |p| p + 1);
    while i < chars.len() {
        while i < chars.len() && (chars[i] == ' ' || chars[i] == '\t' || chars[i] == ';') {
            i += 1;
        }
        let key_start = i;
        while i < chars.len() && chars[i] != '=' && chars[i] != ';' {
            i += 1;
        }
        let key: String = chars[key_start..i]
            .iter()
            .collect::<String>()
            .trim()
            .to_ascii_lowercase();
        if i >= chars.len() || chars[i] == ';' {
            continue;
        }
        i += 1; // '='
        let mut val = String::new();
        if chars.get(i) == Some(&'"') {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                val.push(chars[i]);
                i += 1;
            }
            i += 1;
        } else {
            while i < chars.len() && chars[i] != ';' {
                val.push(chars[i]);
                i += 1;
            }
            val = val.trim().to_string();
        }
        if !key.is_empty() {
            out.push((key, val));
        }
    }
    out
}

/// A part to write: its headers (name, value) and its body.
pub(crate) type OutPart = (Vec<(String, String)>, Vec<u8>);

/// Builds a multipart body from parts.
pub(crate) fn write(boundary: &str, parts: &[OutPart]) -> Vec<u8> {
    let mut out = Vec::new();
    for (headers, body) in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        for (k, v) in headers {
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// Quotes a parameter value for a header (`"` and `\` escaped).
pub(crate) fn quote(value: &str) -> String {
    let mut s = String::from("\"");
    for c in value.chars() {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

#[cfg(test)]
#[path = "multipart_test.rs"]
mod tests;
