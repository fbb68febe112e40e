//! A tiny Pebble stand-in for the client tests: raw HTTP/1.1 over a Unix socket in a temp dir,
//! one thread per connection, every request recorded, answers decided by the test.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{self, BufRead, BufReader, Cursor, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use pebble::{Client, Timeouts};
use serde_json::{Value, json};
use tungstenite::WebSocket;

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the body came chunked.
    pub chunked: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    /// "METHOD target", for compact assertions.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.target)
    }
}

/// The server side of a websocket connection.
pub type ServerWs = WebSocket<Replay>;

/// What the server does with a request.
pub enum Reply {
    /// An envelope (already whole), sent with a Content-Length.
    Json(u16, Value),
    /// A body sent with chunked transfer encoding, in small chunks.
    Chunked(u16, &'static str, Vec<u8>),
    /// Bytes sent as they are, then the connection closes.
    Raw(Vec<u8>),
    /// Bytes sent as they are; the connection stays open for the next request.
    RawKeep(Vec<u8>),
    /// The reply, then the connection closes (without saying so in the answer).
    ThenClose(Box<Reply>),
    /// Close without answering.
    Close,
    /// Never answer (until the client goes away).
    Hang,
    /// Upgrade to a websocket and hand it to the closure.
    WebSocket(Box<dyn FnOnce(ServerWs) + Send>),
}

pub fn sync(result: Value) -> Reply {
    Reply::Json(
        200,
        json!({"type": "sync", "status-code": 200, "status": "OK", "result": result}),
    )
}

pub fn accepted(change: &str, result: Option<Value>) -> Reply {
    let mut v =
        json!({"type": "async", "status-code": 202, "status": "Accepted", "change": change});
    if let Some(result) = result {
        v["result"] = result;
    }
    Reply::Json(202, v)
}

pub fn error(status: u16, kind: Option<&str>, message: &str) -> Reply {
    let mut result = json!({"message": message});
    if let Some(kind) = kind {
        result["kind"] = json!(kind);
    }
    Reply::Json(
        status,
        json!({"type": "error", "status-code": status,
               "status": pebble::types::status_text(status), "result": result}),
    )
}

pub fn not_found() -> Reply {
    error(404, None, "invalid API endpoint requested")
}

/// A change object; `exit_code` goes into the first task's data.
pub fn change(id: &str, status: &str, err: Option<&str>, exit_code: Option<i64>) -> Value {
    let mut task = json!({"id": "t1", "kind": "exec", "summary": "Execute command", "status": status,
        "progress": {"label": "", "done": 1, "total": 1}, "spawn-time": "2026-07-01T10:00:00Z"});
    if let Some(code) = exit_code {
        task["data"] = json!({"exit-code": code});
    }
    if err.is_some() {
        task["log"] = json!(["2026-07-01T10:00:01Z ERROR it broke"]);
    }
    let ready = matches!(status, "Done" | "Error" | "Hold" | "Undone");
    let mut c = json!({"id": id, "kind": "start", "summary": "Start service \"web\"", "status": status,
        "ready": ready, "spawn-time": "2026-07-01T10:00:00Z", "tasks": [task]});
    if let Some(err) = err {
        c["err"] = json!(err);
    }
    c
}

/// A stream that first replays bytes already read, then reads the socket.
pub struct Replay {
    prefix: Cursor<Vec<u8>>,
    stream: UnixStream,
}

impl Read for Replay {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.prefix.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        self.stream.read(buf)
    }
}

impl Write for Replay {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// The running server; stops and removes its socket when dropped.
pub struct Server {
    pub socket: PathBuf,
    dir: TempDir,
    requests: Arc<Mutex<Vec<Request>>>,
    accepts: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    accept: Option<thread::JoinHandle<()>>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh temp dir (short, so the socket path fits in sun_path), removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn temp_dir() -> TempDir {
    let dir = std::env::temp_dir().join(format!(
        "pebble-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

impl Server {
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
        let dir = temp_dir();
        let socket = dir.join("pebble.socket");
        let listener = UnixListener::bind(&socket).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let accepts = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let accept = {
            let (requests, stop, accepts) = (requests.clone(), stop.clone(), accepts.clone());
            thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    accepts.fetch_add(1, Ordering::SeqCst);
                    let (requests, handler) = (requests.clone(), handler.clone());
                    thread::spawn(move || serve(conn, &requests, &*handler));
                }
            })
        };
        Server {
            socket,
            dir,
            requests,
            accepts,
            stop,
            accept: Some(accept),
        }
    }

    /// A client with timeouts short enough that a broken test fails quickly.
    pub fn client(&self) -> Client {
        Client::new(&self.socket).with_timeouts(Timeouts {
            connect: Duration::from_secs(5),
            io: Duration::from_secs(10),
            change: Duration::from_secs(10),
            exec: Duration::from_secs(10),
        })
    }

    /// How many connections were accepted.
    pub fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// "METHOD target" of every request so far.
    pub fn lines(&self) -> Vec<String> {
        self.requests().iter().map(Request::line).collect()
    }

    pub fn last(&self) -> Request {
        self.requests().last().cloned().expect("a request")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = UnixStream::connect(&self.socket);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn decode_query(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn read_request(reader: &mut BufReader<UnixStream>) -> Option<(Request, Vec<u8>)> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        head.extend_from_slice(&line);
        if line == b"\r\n" {
            break;
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut headers);
    parsed.parse(&head).ok()?;
    let target = parsed.path?.to_string();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q),
        None => (target.clone(), ""),
    };
    let query = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode_query(k), decode_query(v))
        })
        .collect();
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let mut request = Request {
        method: parsed.method?.to_string(),
        target,
        path,
        query,
        headers,
        body: Vec::new(),
        chunked: false,
    };
    if request
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        request.chunked = true;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).ok()?;
            let size = usize::from_str_radix(line.trim(), 16).ok()?;
            if size == 0 {
                let mut end = String::new();
                reader.read_line(&mut end).ok()?;
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            request.body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = request.header("content-length") {
        let mut body = vec![0; length.parse().ok()?];
        reader.read_exact(&mut body).ok()?;
        request.body = body;
    }
    Some((request, head))
}

/// Serves requests on one connection, as Pebble does, until a reply ends it, the client asks
/// for `Connection: close` or goes away.
fn serve(conn: UnixStream, requests: &Mutex<Vec<Request>>, handler: &Handler) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    loop {
        let Some((request, head)) = read_request(&mut reader) else {
            return;
        };
        requests.lock().unwrap().push(request.clone());
        let close = request
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let conn = conn.try_clone().unwrap();
        if !answer(conn, &mut reader, head, handler(&request)) || close {
            return;
        }
    }
}

/// Sends one reply; whether the connection stays open.
fn answer(
    mut conn: UnixStream,
    reader: &mut BufReader<UnixStream>,
    head: Vec<u8>,
    reply: Reply,
) -> bool {
    match reply {
        Reply::Json(status, value) => {
            let body = serde_json::to_vec(&value).unwrap();
            let _ = write!(
                conn,
                "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                pebble::types::status_text(status),
                body.len()
            );
            let _ = conn.write_all(&body);
            true
        }
        Reply::Chunked(status, content_type, body) => {
            let _ = write!(
                conn,
                "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n",
                pebble::types::status_text(status)
            );
            for chunk in body.chunks(7) {
                let _ = write!(conn, "{:X};ext=1\r\n", chunk.len());
                let _ = conn.write_all(chunk);
                let _ = conn.write_all(b"\r\n");
            }
            let _ = conn.write_all(b"0\r\nTrailer: x\r\n\r\n");
            true
        }
        Reply::ThenClose(reply) => {
            answer(conn.try_clone().unwrap(), reader, head, *reply);
            let _ = conn.shutdown(std::net::Shutdown::Both);
            false
        }
        Reply::Raw(bytes) => {
            let _ = conn.write_all(&bytes);
            false
        }
        Reply::RawKeep(bytes) => {
            let _ = conn.write_all(&bytes);
            true
        }
        Reply::Close => false,
        Reply::Hang => {
            let _ = conn.set_read_timeout(Some(Duration::from_secs(20)));
            let _ = conn.read(&mut [0u8; 1]);
            false
        }
        Reply::WebSocket(run) => {
            let buffered = reader.buffer().to_vec();
            let mut prefix = head;
            prefix.extend_from_slice(&buffered);
            let replay = Replay {
                prefix: Cursor::new(prefix),
                stream: conn,
            };
            if let Ok(ws) = tungstenite::accept(replay) {
                run(ws);
            }
            false
        }
    }
}

/// A multipart/form-data body as Pebble writes a pull answer.
pub fn multipart(boundary: &str, parts: &[(&str, Option<&str>, &str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, filename, content_type, content) in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n")
                    .as_bytes(),
            ),
            None => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n").as_bytes(),
            ),
        }
        out.extend_from_slice(format!("Content-Type: {content_type}\r\n\r\n").as_bytes());
        out.extend_from_slice(content);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// A raw HTTP answer with a body.
pub fn raw_answer(status: u16, content_type: &str, body: &[u8]) -> Reply {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        pebble::types::status_text(status),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    Reply::Raw(out)
}

/// Splits a multipart body (as the client sends a push) into (head, content) per part.
pub fn parts(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .unwrap()
        .trim_matches('"')
        .to_string();
    let delimiter = format!("--{boundary}");
    let text = body;
    let mut out = Vec::new();
    let mut rest = text;
    let find = |h: &[u8], n: &[u8]| h.windows(n.len()).position(|w| w == n);
    let start = find(rest, delimiter.as_bytes()).unwrap();
    rest = &rest[start + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            break;
        }
        rest = &rest[2..];
        let head_end = find(rest, b"\r\n\r\n").unwrap();
        let head = String::from_utf8(rest[..head_end].to_vec()).unwrap();
        rest = &rest[head_end + 4..];
        let end = find(rest, format!("\r\n{delimiter}").as_bytes()).unwrap();
        out.push((head, rest[..end].to_vec()));
        rest = &rest[end + 2 + delimiter.len()..];
    }
    out
}
