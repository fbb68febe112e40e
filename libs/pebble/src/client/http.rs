//! HTTP/1.1 over a Unix socket: one idle connection kept for the next request (each new
//! connection costs the charm a socket and a connect), request bodies with a length or chunked,
//! response heads parsed by `httparse`, bodies framed by length, chunks or EOF.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use socket2::{Domain, SockAddr, Socket, Type};

use crate::error::{ConnectionError, ConnectionErrorKind, Error};

/// The longest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// The most headers a response head may have.
const MAX_HEADERS: usize = 64;
/// The longest chunk-size line (or trailer line) of a chunked body.
const MAX_CHUNK_LINE: usize = 4096;
/// How much of a streamed request body is gathered before it is sent.
const CHUNK: usize = 64 * 1024;
/// The most read from a streamed request body's source at a time (each read is one chunk).
const READ_BUF: usize = 16 * 1024;

/// Maps an I/O error on `socket` to a connection error.
pub(crate) fn io_error(socket: &Path, e: &io::Error) -> Error {
    let kind = match e.kind() {
        io::ErrorKind::NotFound => ConnectionErrorKind::SocketMissing,
        io::ErrorKind::ConnectionRefused => ConnectionErrorKind::Refused,
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ConnectionErrorKind::TimedOut,
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted => ConnectionErrorKind::Closed,
        _ => ConnectionErrorKind::Io,
    };
    let message = match kind {
        ConnectionErrorKind::SocketMissing => "socket not found (container restarted?)".to_string(),
        ConnectionErrorKind::TimedOut => "timed out".to_string(),
        ConnectionErrorKind::Closed => format!("connection closed early ({e})"),
        _ => e.to_string(),
    };
    Error::Connection(ConnectionError {
        socket: socket.to_path_buf(),
        kind,
        message,
    })
}

/// Connects to `socket` within `timeout`.
///
/// `UnixStream::connect` blocks without limit when the listener's backlog is full; a non-blocking
/// connect is retried instead until the deadline.
pub(crate) fn connect(socket: &Path, timeout: Duration) -> Result<UnixStream, Error> {
    let fail = |e: &io::Error| io_error(socket, e);
    let addr = SockAddr::unix(socket).map_err(|e| fail(&e))?;
    let sock = Socket::new(Domain::UNIX, Type::STREAM, None).map_err(|e| fail(&e))?;
    sock.set_nonblocking(true).map_err(|e| fail(&e))?;
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        match sock.connect(&addr) {
            Ok(()) => break,
            Err(e) if e.raw_os_error() == Some(libc::EISCONN) => break,
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.raw_os_error() == Some(libc::EINPROGRESS)
                    || e.raw_os_error() == Some(libc::EALREADY) =>
            {
                let now = Instant::now();
                if now >= deadline {
                    return Err(fail(&io::Error::from(io::ErrorKind::TimedOut)));
                }
                std::thread::sleep(pause.min(deadline - now));
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(fail(&e)),
        }
    }
    sock.set_nonblocking(false).map_err(|e| fail(&e))?;
    Ok(UnixStream::from(std::os::fd::OwnedFd::from(sock)))
}

/// Percent-encodes a query component as Python's `urlencode` does (space as `+`).
pub(crate) fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `path?k=v&k=v`, encoded.
pub(crate) fn target(path: &str, query: &[(&str, String)]) -> String {
    if query.is_empty() {
        return path.to_string();
    }
    let pairs: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

/// A request body.
pub(crate) enum Body<'a> {
    /// No body.
    Empty,
    /// A body of known length.
    Bytes { content_type: String, data: Vec<u8> },
    /// A body written in pieces (sent chunked): a prefix, a stream, a suffix.
    Stream {
        content_type: String,
        prefix: Vec<u8>,
        stream: &'a mut dyn Read,
        suffix: Vec<u8>,
    },
}

/// A response head and its body.
pub(crate) struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: BodyReader,
}

impl Response {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The media type of `Content-Type`, lowercased, without parameters.
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

/// The one idle connection a client keeps: one whose last answer was read to its end.
#[derive(Debug, Default)]
pub(crate) struct Pool(Mutex<Option<UnixStream>>);

impl Pool {
    fn take(&self) -> Option<UnixStream> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// Keeps the connection of `body` for the next request if its answer was read to its end
    /// and the server keeps it open.
    pub fn recycle(&self, body: BodyReader) {
        if let Some(stream) = body.into_idle() {
            *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(stream);
        }
    }
}

/// Sends one request and reads the response head: on the pool's idle connection if there is one
/// (once more on a new connection if the server had closed it), else on a new connection. A
/// streamed body cannot be sent twice, so it always goes on a new connection.
#[allow(clippy::too_many_arguments)]
pub(crate) fn request(
    pool: &Pool,
    socket: &Path,
    connect_timeout: Duration,
    io_timeout: Duration,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Body<'_>,
) -> Result<Response, Error> {
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: rust-pebble/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    // A request of known size goes out in one write, with no buffer of the streaming size: most
    // requests are small, and a large buffer costs its allocation each time.
    let request = match body {
        Body::Empty => {
            head.push_str("\r\n");
            head.into_bytes()
        }
        Body::Bytes { content_type, data } => {
            head.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                data.len()
            ));
            let mut request = head.into_bytes();
            request.extend_from_slice(&data);
            request
        }
        Body::Stream {
            content_type,
            prefix,
            stream: source,
            suffix,
        } => {
            head.push_str(&format!(
                "Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
            ));
            let stream = open(socket, connect_timeout, io_timeout)?;
            return stream_request(socket, stream, head, prefix, source, suffix);
        }
    };
    if let Some(stream) = pool.take() {
        match exchange(socket, stream, io_timeout, &request) {
            Ok(response) => return Ok(response),
            // The server closed the idle connection before reading the request: it was not
            // processed, so it is sent once more on a new connection.
            Err(Attempt::Unanswered(_)) => {}
            Err(Attempt::Failed(e)) => return Err(e),
        }
    }
    let stream = open(socket, connect_timeout, io_timeout)?;
    exchange(socket, stream, io_timeout, &request).map_err(|a| match a {
        Attempt::Unanswered(e) | Attempt::Failed(e) => e,
    })
}

/// A new connection with the read and write timeouts set.
fn open(
    socket: &Path,
    connect_timeout: Duration,
    io_timeout: Duration,
) -> Result<UnixStream, Error> {
    let stream = connect(socket, connect_timeout)?;
    set_timeouts(socket, &stream, io_timeout)?;
    Ok(stream)
}

fn set_timeouts(socket: &Path, stream: &UnixStream, io_timeout: Duration) -> Result<(), Error> {
    stream
        .set_read_timeout(Some(io_timeout))
        .and_then(|()| stream.set_write_timeout(Some(io_timeout)))
        .map_err(|e| io_error(socket, &e))
}

/// How one try of a request failed.
enum Attempt {
    /// The connection was closed before any byte of an answer (the request was not processed).
    Unanswered(Error),
    /// Any other failure.
    Failed(Error),
}

/// Whether an I/O error means the peer has closed the connection.
fn is_closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
    )
}

/// Writes a whole request on `stream` and reads the answer's head.
fn exchange(
    socket: &Path,
    stream: UnixStream,
    io_timeout: Duration,
    request: &[u8],
) -> Result<Response, Attempt> {
    // A kept connection gets this call's timeouts.
    set_timeouts(socket, &stream, io_timeout).map_err(Attempt::Failed)?;
    let written = (&stream).write_all(request);
    // Pebble may have answered (and closed) before reading the whole body: prefer its answer.
    match (written, read_head(socket, stream)) {
        (_, Ok(response)) => Ok(response),
        (Ok(()), Err(head)) if head.unanswered => Err(Attempt::Unanswered(head.error)),
        (Ok(()), Err(head)) => Err(Attempt::Failed(head.error)),
        (Err(e), Err(head)) if head.unanswered && is_closed(&e) => {
            Err(Attempt::Unanswered(io_error(socket, &e)))
        }
        (Err(e), Err(_)) => Err(Attempt::Failed(io_error(socket, &e))),
    }
}

/// Sends a request whose body is streamed (chunked) from `source`, and reads the answer's head.
fn stream_request(
    socket: &Path,
    stream: UnixStream,
    head: String,
    prefix: Vec<u8>,
    source: &mut dyn Read,
    suffix: Vec<u8>,
) -> Result<Response, Error> {
    let sent = (|| -> io::Result<()> {
        // What is gathered goes out once it reaches CHUNK, read through a buffer on the stack: a
        // small file is one write, with no buffer of the streaming size allocated for it.
        let mut out = head.into_bytes();
        write_chunk(&mut out, &prefix)?;
        let mut buf = [0u8; READ_BUF];
        loop {
            let n = match source.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(local(e)),
            };
            write_chunk(&mut out, &buf[..n])?;
            if out.len() >= CHUNK {
                (&stream).write_all(&out)?;
                out.clear();
            }
        }
        write_chunk(&mut out, &suffix)?;
        out.extend_from_slice(b"0\r\n\r\n");
        (&stream).write_all(&out)
    })();
    if let Err(e) = sent {
        if is_local(&e) {
            return Err(stream_error(socket, e, "", 0));
        }
        // Pebble may have answered (and closed) before reading the whole body: prefer its answer.
        return read_head(socket, stream).map_err(|_| io_error(socket, &e));
    }
    read_head(socket, stream).map_err(|head| head.error)
}

/// An error of the caller's own reader or writer, told apart from socket errors.
#[derive(Debug)]
struct LocalError(io::Error);

impl std::fmt::Display for LocalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for LocalError {}

/// Marks an error of the caller's reader or writer.
pub(crate) fn local(e: io::Error) -> io::Error {
    io::Error::new(e.kind(), LocalError(e))
}

fn is_local(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<LocalError>())
}

/// A writer whose errors are marked as the caller's.
pub(crate) struct LocalWriter<'a, W: ?Sized>(pub &'a mut W);

impl<W: Write + ?Sized> Write for LocalWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(local)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(local)
    }
}

/// Maps an error met while streaming a body: the caller's side ([`Error::Local`]), a limit
/// (`OutOfMemory` → [`Error::TooLarge`]), bad framing (`InvalidData` → [`Error::Protocol`]), or
/// the socket.
pub(crate) fn stream_error(socket: &Path, e: io::Error, what: &'static str, limit: u64) -> Error {
    if is_local(&e) {
        let inner = e
            .into_inner()
            .and_then(|inner| inner.downcast::<LocalError>().ok())
            .map_or_else(|| io::Error::other("local I/O error"), |l| l.0);
        return Error::Local(inner);
    }
    match e.kind() {
        io::ErrorKind::OutOfMemory => Error::TooLarge { what, limit },
        io::ErrorKind::InvalidData => Error::Protocol(e.to_string()),
        _ => io_error(socket, &e),
    }
}

fn write_chunk(w: &mut impl Write, data: &[u8]) -> io::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    write!(w, "{:x}\r\n", data.len())?;
    w.write_all(data)?;
    w.write_all(b"\r\n")
}

/// Why no response head was read.
struct HeadError {
    error: Error,
    /// The connection closed before any byte of an answer.
    unanswered: bool,
}

impl From<Error> for HeadError {
    fn from(error: Error) -> HeadError {
        HeadError {
            error,
            unanswered: false,
        }
    }
}

fn read_head(socket: &Path, stream: UnixStream) -> Result<Response, HeadError> {
    let mut reader = BufReader::with_capacity(16 * 1024, stream);
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let (status, reason, headers, http11) = loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(HeadError {
                    unanswered: buf.is_empty() && is_closed(&e),
                    error: io_error(socket, &e),
                });
            }
        };
        if available.is_empty() {
            return Err(HeadError {
                unanswered: buf.is_empty(),
                error: io_error(
                    socket,
                    &io::Error::new(io::ErrorKind::UnexpectedEof, "no complete response"),
                ),
            });
        }
        let old = buf.len();
        buf.extend_from_slice(available);
        let mut header_buf = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut header_buf);
        match parsed.parse(&buf) {
            Ok(httparse::Status::Complete(n)) => {
                let status = parsed.code.unwrap_or(0);
                let http11 = parsed.version == Some(1);
                let reason = parsed.reason.unwrap_or("").to_string();
                let headers = parsed
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect::<Vec<_>>();
                // Consume only the head's bytes from the reader.
                reader.consume(n - old);
                break (status, reason, headers, http11);
            }
            Ok(httparse::Status::Partial) => {
                let len = available.len();
                reader.consume(len);
                if buf.len() > MAX_HEAD {
                    return Err(Error::Protocol("response head too large".into()).into());
                }
            }
            Err(e) => return Err(Error::Protocol(format!("invalid response head: {e}")).into()),
        }
    };
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    };
    let framing =
        if header("transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked")) {
            Framing::Chunked(ChunkState::Size)
        } else if let Some(length) = header("content-length") {
            let length = length
                .parse::<u64>()
                .map_err(|_| Error::Protocol(format!("invalid Content-Length {length:?}")))?;
            Framing::Length(length)
        } else {
            Framing::Eof
        };
    // HTTP/1.1 keeps a connection open unless the server says otherwise; a body that ends at
    // EOF ends the connection with it.
    let reusable = http11
        && !matches!(framing, Framing::Eof)
        && !header("connection").is_some_and(|c| c.to_ascii_lowercase().contains("close"));
    Ok(Response {
        status,
        reason,
        headers,
        body: BodyReader {
            reader,
            framing,
            reusable,
            socket: socket.to_path_buf(),
        },
    })
}

enum ChunkState {
    Size,
    Data(u64),
    DataEnd,
    Done,
}

enum Framing {
    Length(u64),
    Chunked(ChunkState),
    Eof,
}

/// A response body, de-framed. Read errors are I/O errors; use [`BodyReader::read_limited`].
pub(crate) struct BodyReader {
    reader: BufReader<UnixStream>,
    framing: Framing,
    /// The server keeps the connection open after this body.
    reusable: bool,
    socket: std::path::PathBuf,
}

impl BodyReader {
    /// The connection, for the next request: only if this body was read to its end, nothing
    /// follows it, and the server keeps the connection open.
    fn into_idle(self) -> Option<UnixStream> {
        let done = matches!(
            self.framing,
            Framing::Length(0) | Framing::Chunked(ChunkState::Done)
        );
        (self.reusable && done && self.reader.buffer().is_empty()).then(|| self.reader.into_inner())
    }

    /// Reads the rest of the body, failing past `limit` bytes.
    pub fn read_limited(&mut self, limit: u64, what: &'static str) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        let n = self
            .by_ref()
            .take(limit.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| self.error(&e))?;
        if n as u64 > limit {
            return Err(Error::TooLarge { what, limit });
        }
        Ok(out)
    }

    /// Maps an error from reading this body.
    pub fn error(&self, e: &io::Error) -> Error {
        if e.kind() == io::ErrorKind::InvalidData {
            Error::Protocol(e.to_string())
        } else {
            io_error(&self.socket, e)
        }
    }

    fn read_line(&mut self) -> io::Result<String> {
        let mut line = Vec::new();
        (&mut self.reader)
            .take(MAX_CHUNK_LINE as u64)
            .read_until(b'\n', &mut line)?;
        if !line.ends_with(b"\n") {
            return Err(if line.len() >= MAX_CHUNK_LINE {
                io::Error::new(io::ErrorKind::InvalidData, "chunk line too long")
            } else {
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "body ended inside a chunk line",
                )
            });
        }
        Ok(String::from_utf8_lossy(&line).trim_end().to_string())
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match &mut self.framing {
                Framing::Eof => return self.reader.read(buf),
                Framing::Length(0) => return Ok(0),
                Framing::Length(left) => {
                    let max = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                    let n = self.reader.read(&mut buf[..max])?;
                    if n == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "body shorter than its Content-Length",
                        ));
                    }
                    *left -= n as u64;
                    return Ok(n);
                }
                Framing::Chunked(ChunkState::Done) => return Ok(0),
                Framing::Chunked(ChunkState::Size) => {
                    let line = self.read_line()?;
                    let size_text = line.split(';').next().unwrap_or("").trim();
                    let size = u64::from_str_radix(size_text, 16).map_err(|_| {
                        io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("invalid chunk size {size_text:?}"),
                        )
                    })?;
                    if size == 0 {
                        // Trailers, up to the empty line.
                        while !self.read_line()?.is_empty() {}
                        self.framing = Framing::Chunked(ChunkState::Done);
                        return Ok(0);
                    }
                    self.framing = Framing::Chunked(ChunkState::Data(size));
                }
                Framing::Chunked(ChunkState::Data(left)) => {
                    let max = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                    let n = self.reader.read(&mut buf[..max])?;
                    if n == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "body ended inside a chunk",
                        ));
                    }
                    *left -= n as u64;
                    if *left == 0 {
                        self.framing = Framing::Chunked(ChunkState::DataEnd);
                    }
                    return Ok(n);
                }
                Framing::Chunked(ChunkState::DataEnd) => {
                    if !self.read_line()?.is_empty() {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "chunk not followed by CRLF",
                        ));
                    }
                    self.framing = Framing::Chunked(ChunkState::Size);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_encoding_matches_python_urlencode() {
        assert_eq!(
            target(
                "/v1/files",
                &[("action", "list".into()), ("path", "/etc/a b.conf".into())]
            ),
            "/v1/files?action=list&path=%2Fetc%2Fa+b.conf"
        );
        assert_eq!(
            target("/v1/services", &[("names", "a,b".into())]),
            "/v1/services?names=a%2Cb"
        );
        assert_eq!(target("/v1/plan", &[]), "/v1/plan");
        assert_eq!(
            encode_component("*.conf?[x]&=é"),
            "%2A.conf%3F%5Bx%5D%26%3D%C3%A9"
        );
    }
}
