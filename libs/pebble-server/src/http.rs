//! HTTP/1.1 over the Unix socket: reading one request (head parsed by `httparse`, body by
//! `Content-Length` or chunked, both bounded) and writing one response.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;

/// Largest request head (request line plus headers).
const MAX_HEAD: usize = 64 * 1024;
/// Most headers in one request.
const MAX_HEADERS: usize = 64;

/// One parsed request.
#[derive(Debug)]
pub(crate) struct Request {
    pub method: String,
    /// The percent-decoded path, without the query.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Header names are lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// HTTP/1.0 (no keep-alive unless asked for).
    pub http10: bool,
    /// The requester's UID (`SO_PEERCRED`), when the socket tells it.
    pub peer_uid: Option<u32>,
}

impl Request {
    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of query parameter `key`, in order.
    pub fn query_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of query parameter `key`.
    pub fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a list parameter given repeated and/or comma-separated (`names=a,b&names=c`).
    pub fn query_list(&self, key: &str) -> Vec<String> {
        self.query_all(key)
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Whether the connection stays open after the response.
    pub fn keep_alive(&self) -> bool {
        let conn = self.header("connection").unwrap_or("").to_ascii_lowercase();
        if self.http10 {
            conn.contains("keep-alive")
        } else {
            !conn.contains("close")
        }
    }

    /// The media type of the body, lower-cased, without parameters.
    pub fn media_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed the connection (or went idle) between requests.
    Closed,
    /// A malformed request: answer 400 and close.
    Bad(String),
    /// A head or body over the limits: answer 413 and close.
    TooLarge(String),
}

/// One response, ready to be written.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// A client connection: the stream and bytes read past the last request.
pub(crate) struct Conn {
    stream: UnixStream,
    buf: Vec<u8>,
}

impl Conn {
    pub fn new(stream: UnixStream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// The stream and any bytes already read past the request (for a websocket upgrade).
    pub fn into_parts(self) -> (UnixStream, Vec<u8>) {
        (self.stream, self.buf)
    }

    /// Reads the next request; the body is limited to `max_body` bytes.
    pub fn read_request(&mut self, max_body: usize) -> Result<Request, ReadError> {
        let mut request = loop {
            if !self.buf.is_empty() {
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut req = httparse::Request::new(&mut headers);
                match req.parse(&self.buf) {
                    Ok(httparse::Status::Complete(len)) => {
                        let parsed = head_of(&req)?;
                        self.buf.drain(..len);
                        break parsed;
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(e) => return Err(ReadError::Bad(format!("malformed request: {e}"))),
                }
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::TooLarge("request head too large".into()));
            }
            match self.fill() {
                Ok(0) if self.buf.is_empty() => return Err(ReadError::Closed),
                Ok(0) => return Err(ReadError::Bad("connection closed mid-request".into())),
                Ok(_) => {}
                Err(_) if self.buf.is_empty() => return Err(ReadError::Closed),
                Err(e) => return Err(ReadError::Bad(format!("cannot read request: {e}"))),
            }
        };
        if request
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            let _ = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let chunked = request
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        request.body = if chunked {
            self.read_chunked(max_body)?
        } else if let Some(len) = request.header("content-length") {
            let len: usize = len
                .trim()
                .parse()
                .map_err(|_| ReadError::Bad("invalid Content-Length".into()))?;
            if len > max_body {
                return Err(ReadError::TooLarge(format!(
                    "request body too large ({len} bytes, limit {max_body})"
                )));
            }
            self.read_exact_body(len)?
        } else {
            Vec::new()
        };
        request.peer_uid = crate::sys::peer_uid(&self.stream).ok();
        Ok(request)
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    fn fill_or_bad(&mut self) -> Result<(), ReadError> {
        match self.fill() {
            Ok(0) => Err(ReadError::Bad("connection closed mid-body".into())),
            Ok(_) => Ok(()),
            Err(e) => Err(ReadError::Bad(format!("cannot read request body: {e}"))),
        }
    }

    fn read_exact_body(&mut self, len: usize) -> Result<Vec<u8>, ReadError> {
        while self.buf.len() < len {
            self.fill_or_bad()?;
        }
        Ok(self.buf.drain(..len).collect())
    }

    fn read_chunked(&mut self, max_body: usize) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let (consumed, size) = loop {
                match httparse::parse_chunk_size(&self.buf) {
                    Ok(httparse::Status::Complete(v)) => break v,
                    Ok(httparse::Status::Partial) => {
                        if self.buf.len() > MAX_HEAD {
                            return Err(ReadError::Bad("invalid chunk size line".into()));
                        }
                        self.fill_or_bad()?;
                    }
                    Err(_) => return Err(ReadError::Bad("invalid chunk size".into())),
                }
            };
            self.buf.drain(..consumed);
            let size = usize::try_from(size)
                .ok()
                .filter(|s| body.len().saturating_add(*s) <= max_body)
                .ok_or_else(|| {
                    ReadError::TooLarge(format!("request body too large (limit {max_body})"))
                })?;
            if size == 0 {
                // Trailers (ignored) end with an empty line.
                loop {
                    if let Some(pos) = find(&self.buf, b"\r\n") {
                        let empty = pos == 0;
                        self.buf.drain(..pos + 2);
                        if empty {
                            return Ok(body);
                        }
                    } else {
                        if self.buf.len() > MAX_HEAD {
                            return Err(ReadError::Bad("trailers too large".into()));
                        }
                        self.fill_or_bad()?;
                    }
                }
            }
            while self.buf.len() < size + 2 {
                self.fill_or_bad()?;
            }
            body.extend_from_slice(&self.buf[..size]);
            if &self.buf[size..size + 2] != b"\r\n" {
                return Err(ReadError::Bad("chunk not terminated by CRLF".into()));
            }
            self.buf.drain(..size + 2);
        }
    }

    /// Writes a complete response with `Content-Length`.
    pub fn write_response(&mut self, resp: &HttpResponse, keep_alive: bool) -> io::Result<()> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            resp.status,
            reason(resp.status),
            resp.content_type,
            resp.body.len()
        );
        if !keep_alive {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(&resp.body);
        self.stream.write_all(&out)?;
        self.stream.flush()
    }

    /// True once the peer has closed its end (used to give up long waits for gone clients).
    pub fn peer_gone(&self) -> bool {
        crate::sys::peer_closed(&self.stream)
    }
}

fn head_of(req: &httparse::Request<'_, '_>) -> Result<Request, ReadError> {
    let method = req.method.unwrap_or("").to_string();
    let target = req.path.unwrap_or("/");
    let (raw_path, raw_query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = Vec::with_capacity(req.headers.len());
    for h in req.headers.iter() {
        let value = std::str::from_utf8(h.value)
            .map_err(|_| ReadError::Bad(format!("header {} is not UTF-8", h.name)))?;
        headers.push((h.name.to_ascii_lowercase(), value.trim().to_string()));
    }
    // An absolute-form target (`http://localhost/v1/...`) is accepted too.
    let raw_path = match raw_path.strip_prefix("http://") {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => raw_path,
    };
    Ok(Request {
        method,
        path: percent_decode(raw_path, false),
        query: parse_query(raw_query),
        headers,
        body: Vec::new(),
        http10: req.version == Some(0),
        peer_uid: None,
    })
}

/// Splits `a=1&b=x%2Cy` into decoded pairs (`+` is a space in query strings).
pub(crate) fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Decodes `%XX` escapes (invalid ones are kept as they are).
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The reason phrase of a status code, as Go's `http.StatusText`.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Request Entity Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

#[cfg(test)]
#[path = "http_test.rs"]
mod tests;
