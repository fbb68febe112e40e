//! Running a command in the container: `POST /v1/exec`, then the task's websockets (`control`,
//! `stdio`, and `stderr` unless combined), then the change for the exit code.
//!
//! stdin and stdout share the `stdio` websocket; to write one while reading the other without
//! an async runtime, stdin is written from a thread over a second `WebSocket` on a clone of the
//! socket. A lock makes each frame one unbroken write, the reader's rare control replies
//! (pong, close) included.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Message, WebSocket};

use super::http::{self, LocalWriter};
use super::{Client, cap};
use crate::duration::GoDuration;
use crate::error::{ApiError, ChangeError, Error, ExecError};
use crate::types::{ExecRequest, ExecResult, Response, WsCommand, WsSignal, websocket};

/// The size of the stdin frames sent.
const STDIN_CHUNK: usize = 32 * 1024;
/// The largest websocket message accepted (Pebble sends at most 128 KiB per frame).
const MAX_MESSAGE: usize = 4 << 20;
/// The most of a refused websocket handshake's error document that is read.
const MAX_ERROR_BODY: usize = 64 << 10;

/// The read half and a write half of one socket.
struct WsStream {
    read: UnixStream,
    write: UnixStream,
    /// Held for each write call, so that the frames of two writers cannot interleave.
    lock: Option<Arc<Mutex<()>>>,
}

impl Read for WsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read.read(buf)
    }
}

impl Write for WsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &self.lock {
            Some(lock) => {
                let _guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
                // A whole buffer per lock: tungstenite hands over a frame at a time.
                self.write.write_all(buf).map(|()| buf.len())
            }
            None => self.write.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write.flush()
    }
}

type Ws = WebSocket<WsStream>;

/// A command to run, with its options. Created by [`Client::exec`].
pub struct Exec<'c> {
    client: &'c Client,
    request: ExecRequest,
    stdin: Option<Box<dyn Read + Send + 'c>>,
}

/// What a command wrote, captured.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// stdout (and stderr too when combined).
    pub stdout: Vec<u8>,
    /// stderr (empty when combined).
    pub stderr: Vec<u8>,
}

impl std::fmt::Debug for ExecOutput {
    // Output may hold secrets: Debug shows sizes only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecOutput")
            .field("stdout_len", &self.stdout.len())
            .field("stderr_len", &self.stderr.len())
            .finish()
    }
}

impl ExecOutput {
    /// stdout as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stderr as text (invalid UTF-8 replaced).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

impl<'c> Exec<'c> {
    pub(crate) fn new(client: &'c Client, command: Vec<String>) -> Exec<'c> {
        Exec {
            client,
            request: ExecRequest {
                command,
                split_stderr: true,
                ..ExecRequest::default()
            },
            stdin: None,
        }
    }

    /// Takes environment, user/group and working dir from a service of the plan.
    pub fn service_context(mut self, service: impl Into<String>) -> Exec<'c> {
        self.request.service_context = Some(service.into());
        self
    }

    /// Sets one environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Exec<'c> {
        self.request.environment.insert(key.into(), value.into());
        self
    }

    /// Sets the environment variables (on top of the service context's).
    pub fn environment(mut self, environment: BTreeMap<String, String>) -> Exec<'c> {
        self.request.environment = environment;
        self
    }

    /// Sets the working directory.
    pub fn working_dir(mut self, dir: impl Into<String>) -> Exec<'c> {
        self.request.working_dir = Some(dir.into());
        self
    }

    /// Sets the timeout after which Pebble kills the command (default: [`Timeouts::exec`](super::Timeouts::exec)).
    pub fn timeout(mut self, timeout: Duration) -> Exec<'c> {
        self.request.timeout = Some(GoDuration::from(cap(timeout)));
        self
    }

    /// Runs as this user.
    pub fn user(mut self, user: impl Into<String>) -> Exec<'c> {
        self.request.user = Some(user.into());
        self
    }

    /// Runs as this UID.
    pub fn user_id(mut self, uid: u32) -> Exec<'c> {
        self.request.user_id = Some(uid);
        self
    }

    /// Runs with this group.
    pub fn group(mut self, group: impl Into<String>) -> Exec<'c> {
        self.request.group = Some(group.into());
        self
    }

    /// Runs with this GID.
    pub fn group_id(mut self, gid: u32) -> Exec<'c> {
        self.request.group_id = Some(gid);
        self
    }

    /// Sends stderr into stdout instead of apart (Pebble's `split-stderr: false`).
    pub fn combine_stderr(mut self, combine: bool) -> Exec<'c> {
        self.request.split_stderr = !combine;
        self
    }

    /// Feeds the command's stdin from `input`, then closes it. Without this stdin is empty.
    pub fn stdin(mut self, input: impl Read + Send + 'c) -> Exec<'c> {
        self.stdin = Some(Box::new(input));
        self
    }

    /// The request as it will be sent.
    pub fn request(&self) -> &ExecRequest {
        &self.request
    }

    /// Runs the command and captures its output (each stream at most
    /// [`Limits::exec_output`](super::Limits::exec_output) bytes). A non-zero exit is an
    /// [`ExecError`] carrying the output; a timeout or start failure a [`ChangeError`].
    pub fn output(self) -> Result<ExecOutput, Error> {
        self.spawn()?.wait_output()
    }

    /// Runs the command, writing its output to `stdout` and `stderr` as it comes. A non-zero
    /// exit is an [`ExecError`] (without output).
    pub fn stream(
        self,
        stdout: &mut (dyn Write + Send),
        stderr: &mut (dyn Write + Send),
    ) -> Result<(), Error> {
        self.spawn()?.wait_stream(stdout, stderr)
    }

    /// Starts the command; use the [`ExecProcess`] to signal it and wait for it.
    pub fn spawn(mut self) -> Result<ExecProcess<'c>, Error> {
        let client = self.client;
        let timeouts = client.timeouts();
        if self.request.timeout.is_none() {
            self.request.timeout = Some(GoDuration::from(timeouts.exec));
        }
        let exec_timeout = self
            .request
            .timeout
            .and_then(GoDuration::to_std)
            .unwrap_or(timeouts.exec);
        let answer = client.post("/v1/exec", &self.request)?;
        let change_id = answer
            .change
            .ok_or_else(|| Error::Protocol("exec answer without a change ID".into()))?;
        let result: ExecResult = super::decode(answer.result, "exec result")?;
        let read_timeout = cap(exec_timeout).saturating_add(timeouts.io);
        let connect = |id: &str, lock: Option<Arc<Mutex<()>>>| {
            connect_ws(client, &result.task_id, id, lock, read_timeout)
        };
        let lock = Arc::new(Mutex::new(()));
        let sockets = (|| -> Result<_, Error> {
            let control = connect(websocket::CONTROL, None)?;
            let stdio = connect(websocket::STDIO, Some(lock.clone()))?;
            let stderr = if self.request.split_stderr {
                Some(connect(websocket::STDERR, None)?)
            } else {
                None
            };
            Ok((control, stdio, stderr))
        })();
        let (control, stdio, stderr) = match sockets {
            Ok(sockets) => sockets,
            Err(e) => {
                // As ops: a change that failed (say, to start) explains more than the socket.
                if let Ok(change) = client.wait_change(&change_id, timeouts.io)
                    && let Some(err) = change.err.clone()
                {
                    return Err(Error::Change(ChangeError {
                        err,
                        change: Box::new(change),
                    }));
                }
                return Err(e);
            }
        };
        Ok(ExecProcess {
            client,
            command: self.request.command,
            change_id,
            exec_timeout,
            control: Arc::new(Mutex::new(control)),
            stdio,
            lock,
            stderr,
            stdin: self.stdin,
        })
    }
}

fn connect_ws(
    client: &Client,
    task_id: &str,
    id: &str,
    lock: Option<Arc<Mutex<()>>>,
    read_timeout: Duration,
) -> Result<Ws, Error> {
    let socket = client.socket();
    let timeouts = client.timeouts();
    let stream = http::connect(socket, timeouts.connect)?;
    let io_err = |e: &io::Error| http::io_error(socket, e);
    stream
        .set_read_timeout(Some(timeouts.io))
        .and_then(|()| stream.set_write_timeout(Some(read_timeout)))
        .map_err(|e| io_err(&e))?;
    let ws_stream = WsStream {
        read: stream.try_clone().map_err(|e| io_err(&e))?,
        write: stream.try_clone().map_err(|e| io_err(&e))?,
        lock,
    };
    let url = format!(
        "ws://localhost/v1/tasks/{}/websocket/{id}",
        http::encode_component(task_id)
    );
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    match tungstenite::client::client_with_config(url.as_str(), ws_stream, Some(config)) {
        Ok((ws, _)) => {
            // Output may be silent until the command's own timeout.
            stream
                .set_read_timeout(Some(read_timeout))
                .map_err(|e| io_err(&e))?;
            Ok(ws)
        }
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) => {
            let status = response.status();
            let mut body = response.body().clone().unwrap_or_default();
            // The handshake keeps only the body bytes that came with the headers; the rest of
            // the error document may still be on its way.
            let want = response
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0)
                .min(MAX_ERROR_BODY);
            if want > body.len() {
                let mut rest = vec![0; want - body.len()];
                if (&stream).read_exact(&mut rest).is_ok() {
                    body.extend_from_slice(&rest);
                }
            }
            let message = serde_json::from_slice::<Response>(&body)
                .ok()
                .and_then(|r| r.error_result())
                .map_or_else(
                    || format!("cannot open the {id} websocket: HTTP {status}"),
                    |e| e.message,
                );
            Err(Error::Api(ApiError {
                status_code: status.as_u16(),
                status: status.canonical_reason().unwrap_or("").to_string(),
                kind: None,
                message,
            }))
        }
        Err(tungstenite::HandshakeError::Failure(e)) => Err(ws_error(socket, e)),
        Err(tungstenite::HandshakeError::Interrupted(_)) => {
            Err(io_err(&io::Error::from(io::ErrorKind::TimedOut)))
        }
    }
}

fn ws_error(socket: &std::path::Path, e: tungstenite::Error) -> Error {
    match e {
        tungstenite::Error::Io(e) => http::stream_error(socket, e, "exec output", 0),
        tungstenite::Error::ConnectionClosed
        | tungstenite::Error::AlreadyClosed
        | tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
        ) => http::io_error(socket, &io::Error::from(io::ErrorKind::UnexpectedEof)),
        tungstenite::Error::Capacity(e) => Error::Protocol(format!("websocket message: {e}")),
        e => Error::Protocol(format!("websocket: {e}")),
    }
}

/// Sends signals to a running command, from any thread.
#[derive(Clone)]
pub struct Signaller {
    control: Arc<Mutex<Ws>>,
    socket: std::path::PathBuf,
}

impl Signaller {
    /// Sends `signal` (a name such as `SIGTERM`) to the command.
    pub fn send(&self, signal: &str) -> Result<(), Error> {
        let message = WsCommand::Signal {
            signal: WsSignal {
                name: signal.to_string(),
            },
        };
        let text = serde_json::to_string(&message)
            .map_err(|e| Error::Protocol(format!("cannot encode the signal: {e}")))?;
        let mut control = self.control.lock().unwrap_or_else(PoisonError::into_inner);
        control
            .send(Message::text(text))
            .map_err(|e| ws_error(&self.socket, e))
    }
}

/// A started command. Wait for it with [`ExecProcess::wait_output`] or
/// [`ExecProcess::wait_stream`]; signal it meanwhile with a [`Signaller`]. Dropped without
/// waiting, it closes the websockets abruptly, and Pebble then kills the command.
pub struct ExecProcess<'c> {
    client: &'c Client,
    command: Vec<String>,
    change_id: String,
    exec_timeout: Duration,
    control: Arc<Mutex<Ws>>,
    stdio: Ws,
    lock: Arc<Mutex<()>>,
    stderr: Option<Ws>,
    stdin: Option<Box<dyn Read + Send + 'c>>,
}

/// A growable buffer that refuses to pass its limit.
struct Capped {
    data: Vec<u8>,
    limit: u64,
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.data.len() as u64 + buf.len() as u64 > self.limit {
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "output too large",
            ));
        }
        self.data.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'c> ExecProcess<'c> {
    /// The change running the command.
    pub fn change_id(&self) -> &str {
        &self.change_id
    }

    /// A handle that sends signals to the command (usable from another thread while waiting).
    pub fn signaller(&self) -> Signaller {
        Signaller {
            control: self.control.clone(),
            socket: self.client.socket().to_path_buf(),
        }
    }

    /// Sends `signal` (e.g. `SIGTERM`) to the command.
    pub fn send_signal(&self, signal: &str) -> Result<(), Error> {
        self.signaller().send(signal)
    }

    /// Waits for the command, capturing its output.
    pub fn wait_output(self) -> Result<ExecOutput, Error> {
        let limit = self.client.limits().exec_output;
        let mut stdout = Capped {
            data: Vec::new(),
            limit,
        };
        let mut stderr = Capped {
            data: Vec::new(),
            limit,
        };
        let (command, exit_code) = self.run(&mut stdout, &mut stderr)?;
        let output = ExecOutput {
            stdout: stdout.data,
            stderr: stderr.data,
        };
        if exit_code != 0 {
            return Err(Error::Exec(ExecError {
                command,
                exit_code,
                stdout: output.stdout,
                stderr: output.stderr,
            }));
        }
        Ok(output)
    }

    /// Waits for the command, writing its output to `stdout` and `stderr` as it comes.
    pub fn wait_stream(
        self,
        stdout: &mut (dyn Write + Send),
        stderr: &mut (dyn Write + Send),
    ) -> Result<(), Error> {
        let mut stdout = LocalWriter(stdout);
        let mut stderr = LocalWriter(stderr);
        let (command, exit_code) = self.run(&mut stdout, &mut stderr)?;
        if exit_code != 0 {
            return Err(Error::Exec(ExecError {
                command,
                exit_code,
                stdout: Vec::new(),
                stderr: Vec::new(),
            }));
        }
        Ok(())
    }

    /// Pumps stdin and output until the command's output ends, then reads its exit code.
    fn run(
        mut self,
        stdout: &mut (dyn Write + Send),
        stderr: &mut (dyn Write + Send),
    ) -> Result<(Vec<String>, i64), Error> {
        let socket = self.client.socket().to_path_buf();
        let limit = self.client.limits().exec_output;
        let raw = self.stdio.get_ref().read.try_clone();
        let raw = raw.map_err(|e| http::io_error(&socket, &e))?;
        let stdin = self.stdin.take();
        let stderr_ws = self.stderr.take();
        let stderr_raw = match &stderr_ws {
            Some(ws) => Some(
                ws.get_ref()
                    .read
                    .try_clone()
                    .map_err(|e| http::io_error(&socket, &e))?,
            ),
            None => None,
        };
        let lock = self.lock.clone();
        let (out_result, err_result, in_result) = std::thread::scope(|scope| {
            let writer = match stdin {
                Some(source) => {
                    let ws = writer_ws(&raw);
                    Some(scope.spawn(move || write_stdin(ws, &lock, source)))
                }
                None => {
                    // Empty stdin: end it at once, so a command reading stdin sees EOF.
                    let _ = send_end(&mut self.stdio);
                    None
                }
            };
            let err_reader =
                stderr_ws.map(|mut ws| scope.spawn(move || read_output(&mut ws, stderr)));
            let out_result = read_output(&mut self.stdio, stdout);
            if out_result.is_err()
                && let Some(raw) = &stderr_raw
            {
                // The command's output is lost anyway: do not wait for stderr's timeout.
                let _ = raw.shutdown(Shutdown::Both);
            }
            let in_result = match writer {
                Some(handle) => {
                    if !handle.is_finished() {
                        // Output is over: the command no longer reads stdin; unblock the writer.
                        let _ = raw.shutdown(Shutdown::Both);
                    }
                    handle.join().unwrap_or(Ok(()))
                }
                None => Ok(()),
            };
            let err_result = match err_reader {
                Some(handle) => handle.join().unwrap_or(Ok(())),
                None => Ok(()),
            };
            (out_result, err_result, in_result)
        });
        let map = |e: tungstenite::Error, what: &'static str| match e {
            tungstenite::Error::Io(e) => http::stream_error(&socket, e, what, limit),
            e => ws_error(&socket, e),
        };
        out_result.map_err(|e| map(e, "stdout"))?;
        err_result.map_err(|e| map(e, "stderr"))?;
        in_result.map_err(|e| http::stream_error(&socket, e, "stdin", 0))?;
        self.close();
        let wait = self.exec_timeout.saturating_add(self.client.timeouts().io);
        let change = self.client.wait_change(&self.change_id, wait)?;
        if let Some(err) = change.err.clone() {
            return Err(Error::Change(ChangeError {
                err,
                change: Box::new(change),
            }));
        }
        Ok((self.command, change.exit_code().unwrap_or(-1)))
    }

    /// Closes the websockets, best effort (the command is over).
    fn close(&mut self) {
        let _ = self.stdio.close(None);
        let _ = self.stdio.flush();
        let mut control = self.control.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = control.close(None);
        let _ = control.flush();
    }
}

/// A second websocket on the stdio socket, for writing stdin only.
fn writer_ws(raw: &UnixStream) -> Option<Ws> {
    let stream = WsStream {
        read: raw.try_clone().ok()?,
        write: raw.try_clone().ok()?,
        lock: None,
    };
    Some(WebSocket::from_raw_socket(stream, Role::Client, None))
}

fn send_end(ws: &mut Ws) -> Result<(), tungstenite::Error> {
    ws.send(Message::text(r#"{"command":"end"}"#))
}

/// Sends `source` as binary frames, then `end`. A closed socket ends it quietly (the command
/// stopped reading); only the caller's own read errors are errors.
fn write_stdin(
    ws: Option<Ws>,
    lock: &Mutex<()>,
    mut source: Box<dyn Read + Send + '_>,
) -> io::Result<()> {
    let Some(mut ws) = ws else { return Ok(()) };
    let mut buf = vec![0u8; STDIN_CHUNK];
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(http::local(e)),
        };
        let _guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
        if ws.send(Message::binary(buf[..n].to_vec())).is_err() {
            return Ok(());
        }
    }
    let _guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
    let _ = send_end(&mut ws);
    Ok(())
}

/// Copies binary frames to `out` until `end` (or the socket closes).
fn read_output(ws: &mut Ws, out: &mut (dyn Write + Send)) -> Result<(), tungstenite::Error> {
    loop {
        match ws.read() {
            Ok(Message::Binary(data)) => out.write_all(&data)?,
            Ok(Message::Text(text)) => {
                if matches!(serde_json::from_str(text.as_str()), Ok(WsCommand::End)) {
                    return Ok(());
                }
                // Any other command is unknown here: ignored, as ops does.
            }
            Ok(Message::Close(_))
            | Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                return Ok(());
            }
            Ok(_) => {}
            Err(e) => return Err(e),
        }
    }
}
