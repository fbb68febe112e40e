//! `POST /v1/exec` and its websockets (`control`, `stdio`, `stderr`), exactly as Pebble speaks
//! them: binary frames carry data, the text frame `{"command":"end"}` ends a stream in either
//! direction, `control` carries signals, and the task's `exit-code` is the result.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Message, WebSocket};

use crate::changes::Status;
use crate::daemon::{Daemon, State};
use crate::http::{Conn, Request};
use crate::process::{Proc, signal_number};
use crate::response::{ApiError, ApiResult, Reply};
use crate::{duration, users};

/// How long a task waits for its I/O websockets (Pebble: 5 s).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long output may keep flowing after the process exited (Pebble's `WaitDelay`: 1 s).
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(1);
/// Largest data frame sent (Pebble: 128 KiB).
const CHUNK: usize = 128 * 1024;
/// How often a websocket pump looks at both directions.
const POLL: Duration = Duration::from_millis(20);
/// How long a write to a websocket may block before the peer counts as gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest message accepted from a client.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;
/// Default `PATH` when the environment has none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The base a `service-context` gives an exec: that service's environment, user and directory.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExecContext {
    pub environment: BTreeMap<String, String>,
    pub user_id: Option<u32>,
    pub user: Option<String>,
    pub group_id: Option<u32>,
    pub group: Option<String>,
    pub working_dir: Option<String>,
}

/// The websockets and process of one exec task, shared by its runner and its connections.
pub(crate) struct ExecIo {
    split_stderr: bool,
    inner: Mutex<IoInner>,
    cond: Condvar,
}

#[derive(Default)]
struct IoInner {
    claimed: HashSet<String>,
    stdio: Option<WebSocket<UnixStream>>,
    stderr: Option<WebSocket<UnixStream>>,
    proc: Option<Arc<Proc>>,
    finished: bool,
}

impl ExecIo {
    fn lock(&self) -> MutexGuard<'_, IoInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn finish(&self) {
        self.lock().finished = true;
        self.cond.notify_all();
    }
}

/// The exec tasks still accepting websockets, by task id.
#[derive(Default)]
pub(crate) struct ExecRegistry {
    tasks: Mutex<HashMap<String, Arc<ExecIo>>>,
}

impl ExecRegistry {
    fn get(&self, task_id: &str) -> Option<Arc<ExecIo>> {
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(task_id)
            .cloned()
    }

    fn insert(&self, task_id: &str, io: Arc<ExecIo>) {
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(task_id.to_string(), io);
    }

    fn remove(&self, task_id: &str) {
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(task_id);
    }

    /// Kills every running exec process (daemon shutdown).
    pub fn kill_all(&self) {
        let all: Vec<Arc<ExecIo>> = self
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for io in all {
            let proc = io.lock().proc.clone();
            if let Some(p) = proc {
                let _ = p.signal_group(libc::SIGKILL);
            }
            io.finish();
        }
    }
}

#[derive(Debug, Deserialize)]
struct ExecRequest {
    #[serde(default)]
    command: Option<Vec<String>>,
    #[serde(default, rename = "service-context")]
    service_context: Option<String>,
    #[serde(default)]
    environment: Option<BTreeMap<String, String>>,
    #[serde(default, rename = "working-dir")]
    working_dir: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
    #[serde(default, rename = "user-id")]
    user_id: Option<i64>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default, rename = "group-id")]
    group_id: Option<i64>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    terminal: Option<bool>,
    #[serde(default)]
    interactive: Option<bool>,
    #[serde(default, rename = "split-stderr")]
    split_stderr: Option<bool>,
}

/// Everything needed to start the command, computed before the change exists.
struct ExecSpec {
    program: PathBuf,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    dir: PathBuf,
    ids: Option<(u32, u32)>,
    timeout: Option<Duration>,
    split_stderr: bool,
}

/// `POST /v1/exec`.
pub(crate) fn post(d: &Arc<Daemon>, req: &Request) -> ApiResult {
    let r: ExecRequest = serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::bad_request(format!("cannot decode request body: {e}")))?;
    let command = r.command.clone().unwrap_or_default();
    if command.is_empty() {
        return Err(ApiError::bad_request("must specify command"));
    }
    let timeout = match r.timeout.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => Some(
            duration::parse(t)
                .map_err(|e| ApiError::bad_request(format!("invalid timeout: {e}")))?,
        )
        .filter(|t| !t.is_zero()),
        None => None,
    };
    let daemon_path = std::env::var("PATH").unwrap_or_else(|_| DEFAULT_PATH.to_string());
    let program = find_executable(&command[0], &daemon_path)
        .ok_or_else(|| ApiError::bad_request(format!("cannot find executable {:?}", command[0])))?;
    let context = match r.service_context.as_deref().filter(|s| !s.is_empty()) {
        Some(name) => d
            .with_state(|st| st.exec_context(name))
            .ok_or_else(|| ApiError::bad_request(format!("context service {name:?} not found")))?,
        None => ExecContext::default(),
    };
    let request_ids = users::id_from_i64(r.user_id, "user-id")
        .and_then(|u| users::id_from_i64(r.group_id, "group-id").map(|g| (u, g)))
        .map_err(ApiError::bad_request)?;
    let user_given = request_ids.0.is_some()
        || request_ids.1.is_some()
        || r.user.as_deref().is_some_and(|u| !u.is_empty())
        || r.group.as_deref().is_some_and(|g| !g.is_empty());
    let owner = if user_given {
        users::normalize(
            request_ids.0,
            r.user.as_deref(),
            request_ids.1,
            r.group.as_deref(),
        )
    } else {
        users::normalize(
            context.user_id,
            context.user.as_deref(),
            context.group_id,
            context.group.as_deref(),
        )
    }
    .map_err(ApiError::bad_request)?;
    if r.interactive.unwrap_or(false) && !r.terminal.unwrap_or(false) {
        return Err(ApiError::internal(
            "cannot use interactive mode without a terminal",
        ));
    }
    if r.terminal.unwrap_or(false) {
        return Err(ApiError::bad_request(
            "terminal mode is not supported by this Pebble",
        ));
    }

    // The environment: the daemon's, then the context's and the request's on top.
    let (daemon_uid, _) = crate::sys::current_ids();
    let target_uid = owner.ids.map_or(daemon_uid, |(u, _)| u);
    let mut env: BTreeMap<String, String> = std::env::vars().collect();
    if target_uid != daemon_uid {
        env.remove("HOME");
        env.remove("USER");
    }
    env.extend(context.environment.clone());
    env.extend(r.environment.clone().unwrap_or_default());
    env.entry("PATH".into())
        .or_insert_with(|| DEFAULT_PATH.into());
    let missing = |env: &BTreeMap<String, String>, k: &str| env.get(k).is_none_or(String::is_empty);
    if (missing(&env, "HOME") || missing(&env, "USER"))
        && let Some((home, name)) = users::home_of(target_uid)
    {
        if missing(&env, "HOME") {
            env.insert("HOME".into(), home);
        }
        if missing(&env, "USER") {
            env.insert("USER".into(), name);
        }
    }
    env.entry("LANG".into()).or_insert_with(|| "C.UTF-8".into());

    // The working directory: a container path under the root.
    let explicit = r
        .working_dir
        .clone()
        .filter(|w| !w.is_empty())
        .or(context.working_dir.clone().filter(|w| !w.is_empty()));
    let (dir_shown, dir) = match explicit {
        Some(w) => {
            let missing = || {
                ApiError::internal(format!(
                    "cannot call exec: working directory {w:?} does not exist"
                ))
            };
            let host = d
                .root
                .host_path(&w, true)
                .map_err(|e| ApiError::internal(format!("cannot call exec: {}", e.message)))?;
            if !host.is_dir() {
                return Err(missing());
            }
            (w, host)
        }
        None => default_working_dir(d, env.get("HOME").map(String::as_str)),
    };

    let split_stderr = r.split_stderr.unwrap_or(false);
    let spec = ExecSpec {
        program,
        args: command[1..].to_vec(),
        env: env.clone(),
        dir,
        ids: owner.ids,
        timeout,
        split_stderr,
    };
    let summary = format!("Execute command {:?}", command[0]);
    let (change_id, task_id) = d.with_state(|st| {
        let change_id = st.spawn_change("exec", &summary);
        let task_id = st.add_task(&change_id, "exec", &summary, 0);
        (change_id, task_id)
    });
    let io = Arc::new(ExecIo {
        split_stderr,
        inner: Mutex::new(IoInner::default()),
        cond: Condvar::new(),
    });
    d.exec.insert(&task_id, io.clone());
    let daemon = d.clone();
    let runner_task = task_id.clone();
    std::thread::spawn(move || run(&daemon, &runner_task, &io, spec));
    Ok(Reply::Async {
        change: change_id,
        result: Some(json!({
            "task-id": task_id,
            "environment": env,
            "working-dir": dir_shown,
        })),
    })
}

/// `$HOME` under the root when it exists there, else the root itself.
fn default_working_dir(d: &Daemon, home: Option<&str>) -> (String, PathBuf) {
    if let Some(home) = home.filter(|h| h.starts_with('/'))
        && let Ok(host) = d.root.host_path(home, true)
        && host.is_dir()
    {
        return (home.to_string(), host);
    }
    ("/".to_string(), d.root.dir().to_path_buf())
}

/// `command[0]` as Go's `exec.LookPath` finds it: a path as given, else the first executable
/// file of that name on `path`.
pub(crate) fn find_executable(name: &str, path: &str) -> Option<PathBuf> {
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        let p = PathBuf::from(name);
        return executable(&p).then_some(p);
    }
    path.split(':')
        .map(|dir| if dir.is_empty() { "." } else { dir })
        .map(|dir| Path::new(dir).join(name))
        .find(|p| executable(p))
}

/// The task: wait for the I/O websockets, run the command, pump its I/O, record the exit code.
fn run(d: &Arc<Daemon>, task_id: &str, io: &Arc<ExecIo>, spec: ExecSpec) {
    d.with_state(|st| st.set_task_status(task_id, Status::Doing));
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    let (stdio, stderr) = {
        let mut inner = io.lock();
        loop {
            let ready = inner.stdio.is_some() && (!io.split_stderr || inner.stderr.is_some());
            let now = Instant::now();
            if ready || now >= deadline || d.stopping() {
                break;
            }
            inner = io
                .cond
                .wait_timeout(inner, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        (inner.stdio.take(), inner.stderr.take())
    };
    let Some(stdio) = stdio.filter(|_| stderr.is_some() || !io.split_stderr) else {
        io.finish();
        d.exec.remove(task_id);
        d.with_state(|st| {
            st.task_fail(
                task_id,
                &format!(
                    "exec {task_id}: timeout waiting for websocket connections: context deadline exceeded"
                ),
            );
        });
        return;
    };

    let outcome = execute(io, spec, stdio, stderr);
    io.finish();
    d.exec.remove(task_id);
    d.with_state(|st| finish_task(st, task_id, &outcome));
}

enum Outcome {
    Exited(i32),
    TimedOut(Duration),
    StartFailed(String),
}

fn finish_task(st: &mut State, task_id: &str, outcome: &Outcome) {
    let code = match outcome {
        Outcome::Exited(c) => *c,
        _ => -1,
    };
    if let Some(t) = st.changes.task_mut(task_id) {
        t.data.insert("exit-code".into(), json!(code));
    }
    let aborted = st.changes.task(task_id).map(|t| t.status) == Some(Status::Abort);
    match outcome {
        Outcome::Exited(_) if aborted => st.set_task_status(task_id, Status::Undone),
        Outcome::Exited(_) => st.set_task_status(task_id, Status::Done),
        Outcome::TimedOut(t) => st.task_fail(
            task_id,
            &format!(
                "timed out after {}: context deadline exceeded",
                duration::format(*t)
            ),
        ),
        Outcome::StartFailed(e) => st.task_fail(task_id, e),
    }
}

fn execute(
    io: &Arc<ExecIo>,
    spec: ExecSpec,
    stdio: WebSocket<UnixStream>,
    stderr_ws: Option<WebSocket<UnixStream>>,
) -> Outcome {
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .env_clear()
        .envs(&spec.env)
        .current_dir(&spec.dir)
        .stdin(Stdio::piped())
        .process_group(0);
    crate::sys::unblock_signals_in_child(&mut cmd);
    let (daemon_uid, daemon_gid) = crate::sys::current_ids();
    if let Some((uid, gid)) = spec.ids
        && (uid, gid) != (daemon_uid, daemon_gid)
    {
        cmd.uid(uid).gid(gid);
    }
    // stdout (and stderr unless split) share one pipe, like a terminal would.
    let (out_reader, out_writer) = match io::pipe() {
        Ok(p) => p,
        Err(e) => return start_failed(&stdio, stderr_ws, &spec, &e),
    };
    let err_pipe = if spec.split_stderr {
        match io::pipe() {
            Ok((r, w)) => Some((r, w)),
            Err(e) => return start_failed(&stdio, stderr_ws, &spec, &e),
        }
    } else {
        None
    };
    let stderr_target = match &err_pipe {
        Some((_, w)) => w.try_clone(),
        None => out_writer.try_clone(),
    };
    let stderr_target = match stderr_target {
        Ok(t) => t,
        Err(e) => return start_failed(&stdio, stderr_ws, &spec, &e),
    };
    cmd.stdout(out_writer).stderr(stderr_target);
    let spawned = cmd.spawn();
    // Our copies of the write ends must go, or the readers never see EOF.
    drop(cmd);
    let err_reader = err_pipe.map(|(r, _)| r);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return start_failed(&stdio, stderr_ws, &spec, &e),
    };
    let stdin = child.stdin.take();
    let proc = Proc::new(child);
    io.lock().proc = Some(proc.clone());
    io.cond.notify_all();

    let exited: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let (stdin_tx, stdin_rx) = mpsc::sync_channel::<Vec<u8>>(8);
    if let Some(stdin) = stdin {
        std::thread::spawn(move || write_stdin(stdin, stdin_rx));
    }
    let stdout_rx = spawn_reader(out_reader);
    // Each pump drops its sender once its output is sent (`end` included); the task ends then,
    // while the pumps finish the close handshake on their own.
    let (sent_tx, sent_rx) = mpsc::channel::<()>();
    {
        let (exited, sent) = (exited.clone(), sent_tx.clone());
        std::thread::spawn(move || pump(stdio, stdout_rx, Some(stdin_tx), &exited, sent));
    }
    if let (Some(ws), Some(reader)) = (stderr_ws, err_reader) {
        let rx = spawn_reader(reader);
        let (exited, sent) = (exited.clone(), sent_tx.clone());
        std::thread::spawn(move || pump(ws, rx, None, &exited, sent));
    }
    drop(sent_tx);

    // The timeout kills the whole process group.
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = spec.timeout.map(|limit| {
        let proc = proc.clone();
        std::thread::spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = done_rx.recv_timeout(limit) {
                let _ = proc.signal_group(libc::SIGKILL);
                true
            } else {
                false
            }
        })
    });
    let code = proc.wait(|| false);
    drop(done_tx);
    let timed_out = watchdog.is_some_and(|w| w.join().unwrap_or(false));
    *exited.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    // Bounded: a pump gives up on its output DRAIN_AFTER_EXIT after the exit.
    while sent_rx.recv().is_ok() {}
    match (timed_out, spec.timeout) {
        (true, Some(limit)) => Outcome::TimedOut(limit),
        _ => Outcome::Exited(code),
    }
}

/// Reports a command that could not start: closes its streams and fails the task.
fn start_failed(
    stdio: &WebSocket<UnixStream>,
    stderr: Option<WebSocket<UnixStream>>,
    spec: &ExecSpec,
    e: &io::Error,
) -> Outcome {
    let _ = stdio.get_ref().shutdown(std::net::Shutdown::Both);
    if let Some(ws) = stderr {
        let _ = ws.get_ref().shutdown(std::net::Shutdown::Both);
    }
    Outcome::StartFailed(format!(
        "fork/exec {}: {}",
        spec.program.display(),
        crate::files::errno_text(e)
    ))
}

fn write_stdin(mut stdin: std::process::ChildStdin, rx: Receiver<Vec<u8>>) {
    // Ends (closing the pipe) when the sender is dropped: `end` received or the socket gone.
    while let Ok(chunk) = rx.recv() {
        if stdin.write_all(&chunk).is_err() {
            return;
        }
    }
}

fn spawn_reader(mut reader: io::PipeReader) -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(4);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; CHUNK];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    });
    rx
}

fn is_end(text: &str) -> bool {
    serde_json::from_str::<Value>(text)
        .ok()
        .is_some_and(|v| v["command"] == "end")
}

fn timed_out(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(io) if matches!(io.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
}

/// Moves one stream's output to its websocket (then `end`), and, for `stdio`, the websocket's
/// binary frames to the process's stdin until `end`. Never waits for stdin to finish.
fn pump(
    mut ws: WebSocket<UnixStream>,
    output: Receiver<Vec<u8>>,
    mut stdin: Option<SyncSender<Vec<u8>>>,
    exited: &Mutex<Option<Instant>>,
    sent: mpsc::Sender<()>,
) {
    let mut sent = Some(sent);
    let _ = ws.get_ref().set_read_timeout(Some(POLL));
    let _ = ws.get_ref().set_write_timeout(Some(WRITE_TIMEOUT));
    let mut out_done = false;
    let mut peer_open = true;
    let mut pending_stdin: Option<Vec<u8>> = None;
    loop {
        if out_done {
            sent.take();
        }
        // Output first: forward everything already read.
        while !out_done {
            match output.try_recv() {
                Ok(chunk) => {
                    if ws.send(Message::binary(chunk)).is_err() {
                        peer_open = false;
                        out_done = true;
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    out_done = true;
                    if peer_open && ws.send(Message::text(r#"{"command":"end"}"#)).is_err() {
                        peer_open = false;
                    }
                }
            }
        }
        let exited_at = *exited.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = exited_at {
            // Output held open by a leftover grandchild: stop after the drain delay.
            if !out_done && at.elapsed() >= DRAIN_AFTER_EXIT {
                out_done = true;
                if peer_open {
                    let _ = ws.send(Message::text(r#"{"command":"end"}"#));
                }
            }
            if out_done {
                break;
            }
        }
        if out_done {
            sent.take();
        }
        if !peer_open {
            if out_done {
                break;
            }
            // Nobody to talk to: keep draining output so the process is not blocked.
            let _ = output.recv_timeout(POLL);
            continue;
        }
        // Stdin: hand over what is pending before reading more.
        if let Some(chunk) = pending_stdin.take() {
            match stdin.as_ref().map(|tx| tx.try_send(chunk)) {
                Some(Err(TrySendError::Full(chunk))) => {
                    pending_stdin = Some(chunk);
                    std::thread::sleep(POLL);
                    continue;
                }
                Some(Err(TrySendError::Disconnected(_))) => stdin = None,
                _ => {}
            }
        }
        match ws.read() {
            Ok(Message::Binary(data)) => {
                if stdin.is_some() {
                    pending_stdin = Some(data.to_vec());
                }
            }
            Ok(Message::Text(text)) => {
                if is_end(text.as_str()) {
                    stdin = None;
                }
            }
            Ok(Message::Close(_)) => {
                stdin = None;
                peer_open = false;
            }
            Ok(_) => {}
            Err(e) if timed_out(&e) => {}
            Err(_) => {
                stdin = None;
                peer_open = false;
            }
        }
    }
    drop(sent);
    close(ws);
}

/// Sends a close frame and waits (briefly) for the peer's answer.
fn close(mut ws: WebSocket<UnixStream>) {
    let _ = ws.close(None);
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        match ws.read() {
            Err(e) if timed_out(&e) => {}
            Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// Aborts a running exec task: its process group is killed.
pub(crate) fn abort(d: &Daemon, task_id: &str) {
    if let Some(io) = d.exec.get(task_id) {
        let proc = io.lock().proc.clone();
        if let Some(p) = proc {
            let _ = p.signal_group(libc::SIGKILL);
        }
    }
}

/// Checks a websocket connection request before the upgrade and claims the slot.
pub(crate) fn claim(d: &Daemon, task_id: &str, ws_id: &str) -> Result<(), ApiError> {
    let kind = d.with_state(|st| st.changes.task(task_id).map(|t| t.kind.clone()));
    match kind.as_deref() {
        None => {
            return Err(ApiError::not_found(format!(
                "cannot find task with id {task_id:?}"
            )));
        }
        Some("exec") => {}
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "task {task_id:?} is not an exec task"
            )));
        }
    }
    let not_found = || {
        ApiError::not_found(format!(
            "cannot find {ws_id} websocket for task {task_id:?}"
        ))
    };
    let io = d.exec.get(task_id).ok_or_else(not_found)?;
    let known = ws_id == "control" || ws_id == "stdio" || (ws_id == "stderr" && io.split_stderr);
    if !known {
        return Err(not_found());
    }
    let mut inner = io.lock();
    if inner.finished {
        return Err(not_found());
    }
    if !inner.claimed.insert(ws_id.to_string()) {
        return Err(ApiError::internal(format!(
            "{ws_id} websocket already connected"
        )));
    }
    Ok(())
}

/// Completes the upgrade of a claimed websocket and hands it to its task.
pub(crate) fn attach(d: &Daemon, task_id: &str, ws_id: &str, conn: Conn, key: &str) {
    let (mut stream, leftover) = conn.into_parts();
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    let Some(io) = d.exec.get(task_id) else {
        return;
    };
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let ws = WebSocket::from_partially_read(stream, leftover, Role::Server, Some(config));
    match ws_id {
        "stdio" => {
            io.lock().stdio = Some(ws);
            io.cond.notify_all();
        }
        "stderr" => {
            io.lock().stderr = Some(ws);
            io.cond.notify_all();
        }
        _ => control(&io, ws),
    }
}

/// The control websocket: forwards signals until the process is done; a connection dropped
/// without a close handshake kills the process (Pebble does the same).
fn control(io: &ExecIo, mut ws: WebSocket<UnixStream>) {
    // Like Pebble, read nothing before the process exists: an early signal waits for it.
    {
        let mut inner = io.lock();
        while inner.proc.is_none() && !inner.finished {
            inner = io
                .cond
                .wait_timeout(inner, POLL * 10)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
    let _ = ws
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(100)));
    let _ = ws.get_ref().set_write_timeout(Some(WRITE_TIMEOUT));
    loop {
        if io.lock().finished {
            close(ws);
            return;
        }
        match ws.read() {
            Ok(Message::Text(text)) => {
                let v: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                if v["command"] == "signal"
                    && let Some(sig) = v["signal"]["name"].as_str().and_then(signal_number)
                {
                    let proc = io.lock().proc.clone();
                    if let Some(p) = proc {
                        let _ = p.signal(sig);
                    }
                }
            }
            Ok(Message::Close(_)) => {
                let _ = ws.flush();
                return;
            }
            Ok(_) => {}
            Err(e) if timed_out(&e) => {}
            Err(tungstenite::Error::ConnectionClosed) | Err(tungstenite::Error::AlreadyClosed) => {
                return;
            }
            Err(_) => {
                let proc = io.lock().proc.clone();
                if let Some(p) = proc {
                    let _ = p.signal(libc::SIGKILL);
                }
                return;
            }
        }
    }
}

impl State {
    /// The exec base of a service in the plan (`service-context`).
    pub fn exec_context(&self, name: &str) -> Option<ExecContext> {
        self.plan.exec_context(name)
    }
}
