//! Shared helpers of the integration tests: a server in a temp dir, raw HTTP over its socket,
//! waiting on conditions (never on durations) and the exec websocket client side.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pebble_server::{Event, RunningServer, Server, ServerConfig};
use serde_json::Value;
use tungstenite::{Message, WebSocket};

/// Generous: conditions normally hold within milliseconds.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A running server with its directory.
pub struct Pebble {
    pub server: Option<RunningServer>,
    pub dir: PathBuf,
    pub socket: PathBuf,
    pub root: PathBuf,
    pub events: Arc<Mutex<Vec<Event>>>,
}

impl Drop for Pebble {
    fn drop(&mut self) {
        drop(self.server.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "pebble-server-test-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts a server (okay delay shortened to keep the suite quick).
pub fn start(name: &str) -> Pebble {
    start_with(name, |c| c)
}

pub fn start_with(name: &str, tweak: impl FnOnce(ServerConfig) -> ServerConfig) -> Pebble {
    let dir = temp_dir(name);
    let socket = dir.join("pebble.socket");
    let root = dir.join("root");
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let mut config =
        ServerConfig::new(&socket, &root).on_event(move |e| sink.lock().unwrap().push(e.clone()));
    config.okay_delay = Duration::from_millis(300);
    let server = Server::new(tweak(config)).unwrap().spawn();
    Pebble {
        server: Some(server),
        dir,
        socket,
        root,
        events,
    }
}

impl Pebble {
    pub fn get(&self, path: &str) -> (u16, Value) {
        json(&self.socket, "GET", path, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        json(&self.socket, "POST", path, Some(body))
    }

    /// Waits for a change to be ready and returns it.
    pub fn wait_change(&self, id: &str) -> Value {
        let (status, body) = self.get(&format!("/v1/changes/{id}/wait?timeout=20s"));
        assert_eq!(status, 200, "{body}");
        body["result"].clone()
    }

    /// Adds a layer (YAML) and asserts it was accepted.
    pub fn add_layer(&self, label: &str, yaml: &str) {
        let (status, body) = self.post(
            "/v1/layers",
            &serde_json::json!({"action": "add", "label": label, "combine": true, "format": "yaml", "layer": yaml}),
        );
        assert_eq!(status, 200, "{body}");
    }

    /// Posts a service action and waits for its change.
    pub fn services(&self, action: &str, names: &[&str]) -> Value {
        let (status, body) = self.post(
            "/v1/services",
            &serde_json::json!({"action": action, "services": names}),
        );
        assert_eq!(status, 202, "{body}");
        self.wait_change(body["change"].as_str().unwrap())
    }

    /// The `current` of a service.
    pub fn current(&self, name: &str) -> String {
        let (_, body) = self.get(&format!("/v1/services?names={name}"));
        body["result"][0]["current"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    pub fn host(&self, container_path: &str) -> PathBuf {
        self.root.join(container_path.trim_start_matches('/'))
    }
}

/// Polls `f` until it returns true; fails the test at the deadline.
pub fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + DEADLINE;
    while Instant::now() < until {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

/// A raw response.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends raw bytes and reads one response (the server closes after it: `Connection: close`).
pub fn raw(socket: &Path, request: &[u8]) -> Response {
    let mut s = UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s.write_all(request).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    parse_response(&buf)
}

pub fn parse_response(buf: &[u8]) -> Response {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut resp = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(len) = resp.parse(buf).unwrap() else {
        panic!("incomplete response: {}", String::from_utf8_lossy(buf));
    };
    Response {
        status: resp.code.unwrap(),
        headers: resp
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        body: buf[len..].to_vec(),
    }
}

/// A request with optional headers and body.
pub fn request(
    socket: &Path,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    raw(socket, &bytes)
}

/// A JSON request; returns the status and the parsed envelope.
pub fn json(socket: &Path, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let bytes = body
        .map(|b| serde_json::to_vec(b).unwrap())
        .unwrap_or_default();
    let headers: &[(&str, &str)] = if body.is_some() {
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ]
    } else {
        &[("Accept", "application/json")]
    };
    let r = request(socket, method, path, headers, &bytes);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/json"),
        "{}",
        r.text()
    );
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        v["status-code"], r.status,
        "status-code must equal the HTTP status: {v}"
    );
    (r.status, v)
}

// Exec.

pub type Ws = WebSocket<UnixStream>;

/// Opens one websocket of an exec task.
pub fn connect_ws(socket: &Path, task: &str, id: &str) -> Ws {
    let stream = UnixStream::connect(socket).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let url = format!("ws://localhost/v1/tasks/{task}/websocket/{id}");
    let (ws, _) = tungstenite::client(url.as_str(), stream).unwrap();
    ws
}

/// Reads binary frames until the text frame `{"command":"end"}`.
pub fn read_until_end(ws: &mut Ws) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        match ws.read().unwrap() {
            Message::Binary(b) => out.extend_from_slice(&b),
            Message::Text(t) => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if v["command"] == "end" {
                    return out;
                }
            }
            Message::Close(_) => panic!("closed before end"),
            _ => {}
        }
    }
}

/// The result of running a command through exec.
pub struct ExecRun {
    pub change: Value,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: Value,
}

/// Runs an exec request to completion: connects control/stdio(/stderr), sends `stdin` and
/// `end`, reads the output, waits for the change.
pub fn exec(p: &Pebble, body: &Value, stdin: Option<&[u8]>) -> ExecRun {
    let (status, resp) = p.post("/v1/exec", body);
    assert_eq!(status, 202, "{resp}");
    let change = resp["change"].as_str().unwrap().to_string();
    let task = resp["result"]["task-id"].as_str().unwrap().to_string();
    let split = body["split-stderr"].as_bool().unwrap_or(false);
    let mut control = connect_ws(&p.socket, &task, "control");
    let mut stdio = connect_ws(&p.socket, &task, "stdio");
    let mut stderr_ws = split.then(|| connect_ws(&p.socket, &task, "stderr"));
    if let Some(input) = stdin {
        stdio.send(Message::binary(input.to_vec())).unwrap();
        stdio.send(Message::text(r#"{"command":"end"}"#)).unwrap();
    }
    let stdout = read_until_end(&mut stdio);
    let stderr = stderr_ws.as_mut().map(read_until_end).unwrap_or_default();
    let change = p.wait_change(&change);
    let _ = control.close(None);
    let _ = stdio.close(None);
    ExecRun {
        exit_code: change["tasks"][0]["data"]["exit-code"].clone(),
        change,
        stdout,
        stderr,
    }
}

/// Whether a process is alive (a zombie waiting for whoever inherited it is dead).
pub fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the parenthesised command name.
    let state = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .next();
    !matches!(state, Some("Z") | Some("X") | None)
}
