//! The public face: [`ServerConfig`], [`Server`] (bind, then serve until stopped), the handles to
//! stop it, and the accept loop with one thread per connection.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::api;
use crate::daemon::{Daemon, Options, Shutdown};
use crate::events::{Event, EventCallback, EventSink};
use crate::http::{Conn, HttpResponse, ReadError};
use crate::response::{ApiError, Reply, envelope, json_response};
use crate::root::Root;

/// The version `GET /v1/system-info` reports: the Pebble whose behaviour this server follows.
pub const VERSION: &str = "v1.32.1-local";
/// Default largest request body (a push): 64 MiB.
pub const DEFAULT_MAX_BODY: usize = 64 * 1024 * 1024;
/// How long an idle keep-alive connection stays open.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long writing a response may block.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Most connections served at once; more are answered 503 and closed.
const MAX_CONNECTIONS: usize = 256;

/// How to run one Pebble: its socket, the container root, and where events go.
#[derive(Clone)]
pub struct ServerConfig {
    /// The Unix socket to serve on (its directory is created; a stale socket file is replaced).
    pub socket: PathBuf,
    /// The container's root directory: container paths of the files API and working dirs map
    /// under it (created if missing).
    pub root: PathBuf,
    /// Layers loaded at start, as Pebble's `$PEBBLE/layers`: `NNN-label.yaml`, in order.
    pub layers_dir: Option<PathBuf>,
    /// Events appended as JSON lines (see [`Event`]).
    pub events_file: Option<PathBuf>,
    /// Events delivered to a callback, on the daemon's threads, never under its lock.
    pub on_event: Option<EventCallback>,
    /// Start `startup: enabled` services at boot (Pebble without `--hold`). Juju runs workload
    /// Pebbles with `--hold`, so the default is false.
    pub autostart: bool,
    /// Largest request body accepted (and largest file a pull returns).
    pub max_body: usize,
    /// How long a started service must stay up to count as started (Pebble: 1 s).
    pub okay_delay: Duration,
}

impl ServerConfig {
    /// A configuration with Pebble's defaults.
    pub fn new(socket: impl Into<PathBuf>, root: impl Into<PathBuf>) -> ServerConfig {
        ServerConfig {
            socket: socket.into(),
            root: root.into(),
            layers_dir: None,
            events_file: None,
            on_event: None,
            autostart: false,
            max_body: DEFAULT_MAX_BODY,
            okay_delay: Duration::from_secs(1),
        }
    }

    /// Loads layers from `dir` at start.
    pub fn layers_dir(mut self, dir: impl Into<PathBuf>) -> ServerConfig {
        self.layers_dir = Some(dir.into());
        self
    }

    /// Appends events to `file` as JSON lines.
    pub fn events_file(mut self, file: impl Into<PathBuf>) -> ServerConfig {
        self.events_file = Some(file.into());
        self
    }

    /// Delivers events to `callback`.
    pub fn on_event(mut self, callback: impl Fn(&Event) + Send + Sync + 'static) -> ServerConfig {
        self.on_event = Some(Arc::new(callback));
        self
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("socket", &self.socket)
            .field("root", &self.root)
            .field("layers_dir", &self.layers_dir)
            .field("events_file", &self.events_file)
            .field("on_event", &self.on_event.as_ref().map(|_| "callback"))
            .field("autostart", &self.autostart)
            .field("max_body", &self.max_body)
            .field("okay_delay", &self.okay_delay)
            .finish()
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        source: io::Error,
    },
    /// Another server answers on the socket.
    #[error("socket {0} is in use by a running server")]
    SocketInUse(PathBuf),
    /// A layer of the layers directory is invalid.
    #[error("cannot load layers: {0}")]
    Layers(String),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// A bound server, ready to serve.
pub struct Server {
    daemon: Arc<Daemon>,
    listener: UnixListener,
    socket: PathBuf,
    autostart: bool,
}

impl Server {
    /// Creates the root, binds the socket and loads the layers directory.
    pub fn new(config: ServerConfig) -> Result<Server, Error> {
        let root = Root::new(&config.root).map_err(io_err(format!(
            "cannot create root {}",
            config.root.display()
        )))?;
        let events = EventSink::new(config.on_event.clone(), config.events_file.as_deref())
            .map_err(io_err("cannot open the events file"))?;
        let opts = Options {
            max_body: config.max_body,
            okay_delay: config.okay_delay,
            version: VERSION.to_string(),
        };
        let daemon = Arc::new(Daemon::new(root, opts, events));
        if let Some(dir) = &config.layers_dir {
            crate::planstate::load_layers_dir(&daemon, dir).map_err(Error::Layers)?;
        }
        let listener = bind(&config.socket)?;
        let socket = config.socket.clone();
        daemon.set_wake(Box::new(move || {
            let _ = UnixStream::connect(&socket);
        }));
        Ok(Server {
            daemon,
            listener,
            socket: config.socket,
            autostart: config.autostart,
        })
    }

    /// The boot id of this server (new for every server).
    pub fn boot_id(&self) -> &str {
        &self.daemon.boot_id
    }

    /// A handle that stops this server from another thread.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            daemon: self.daemon.clone(),
        }
    }

    /// Serves until stopped (by a [`StopHandle`] or a service's shutdown action); then stops
    /// every service, check and command, removes the socket, and says why it stopped.
    pub fn serve(self) -> Shutdown {
        let d = self.daemon.clone();
        d.emit(&Event::Started {
            boot_id: d.boot_id.clone(),
        });
        if self.autostart {
            crate::services::autostart_at_boot(&d);
        }
        let active = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(OpenConnections::default());
        for stream in self.listener.incoming() {
            // The wake-up connection of a stop arrives here too.
            if d.stopping() {
                break;
            }
            let Ok(stream) = stream else {
                continue;
            };
            if active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
                refuse(stream);
                continue;
            }
            active.fetch_add(1, Ordering::SeqCst);
            let id = open.add(&stream);
            let (d, active, open) = (d.clone(), active.clone(), open.clone());
            std::thread::spawn(move || {
                serve_connection(&d, stream);
                open.remove(id);
                active.fetch_sub(1, Ordering::SeqCst);
            });
        }
        open.stop_reading();
        let reason = d.shutdown_reason().unwrap_or(Shutdown {
            reason: "stopped".into(),
            failure: false,
        });
        crate::services::stop_all(&d);
        d.exec.kill_all();
        let _ = std::fs::remove_file(&self.socket);
        d.emit(&Event::Shutdown {
            reason: reason.reason.clone(),
            failure: reason.failure,
        });
        reason
    }

    /// Serves on a thread of its own.
    pub fn spawn(self) -> RunningServer {
        let daemon = self.daemon.clone();
        let socket = self.socket.clone();
        let thread = std::thread::spawn(move || self.serve());
        RunningServer {
            daemon,
            socket,
            thread: Some(thread),
        }
    }
}

/// The connections being served, so that a stop can end those kept open between requests (as
/// Pebble's HTTP server closes its idle connections when it shuts down).
#[derive(Default)]
struct OpenConnections(Mutex<(u64, HashMap<u64, UnixStream>)>);

impl OpenConnections {
    fn add(&self, stream: &UnixStream) -> u64 {
        let mut open = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        open.0 += 1;
        let id = open.0;
        if let Ok(clone) = stream.try_clone() {
            open.1.insert(id, clone);
        }
        id
    }

    fn remove(&self, id: u64) {
        let mut open = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        open.1.remove(&id);
    }

    /// Ends the reading side of every connection: one waiting for its next request sees the
    /// end and closes; one being answered still writes its answer (without keep-alive).
    fn stop_reading(&self) {
        let open = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for stream in open.1.values() {
            let _ = stream.shutdown(std::net::Shutdown::Read);
        }
    }
}

/// Stops a server from any thread.
#[derive(Clone)]
pub struct StopHandle {
    daemon: Arc<Daemon>,
}

impl StopHandle {
    /// Asks the server to stop; [`Server::serve`] returns once everything is stopped.
    pub fn stop(&self) {
        self.daemon.request_shutdown("stopped", false);
    }
}

/// A server serving on its own thread; dropping it stops it.
pub struct RunningServer {
    daemon: Arc<Daemon>,
    socket: PathBuf,
    thread: Option<JoinHandle<Shutdown>>,
}

impl RunningServer {
    /// The boot id of this server.
    pub fn boot_id(&self) -> &str {
        &self.daemon.boot_id
    }

    /// The socket it serves on.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// A handle that stops it.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            daemon: self.daemon.clone(),
        }
    }

    /// Whether it has stopped by itself (a service's shutdown action).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops it and waits until services are stopped and the socket is gone.
    pub fn stop(mut self) -> Shutdown {
        self.daemon.request_shutdown("stopped", false);
        self.join()
    }

    /// Waits until it stops by itself.
    pub fn wait(mut self) -> Shutdown {
        self.join()
    }

    fn join(&mut self) -> Shutdown {
        let stopped = Shutdown {
            reason: "stopped".into(),
            failure: false,
        };
        match self.thread.take() {
            Some(t) => t.join().unwrap_or(stopped),
            None => stopped,
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.daemon.request_shutdown("stopped", false);
            self.join();
        }
    }
}

fn bind(socket: &Path) -> Result<UnixListener, Error> {
    if let Some(dir) = socket.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io_err(format!("cannot create {}", dir.display())))?;
    }
    if socket.exists() {
        if UnixStream::connect(socket).is_ok() {
            return Err(Error::SocketInUse(socket.to_path_buf()));
        }
        std::fs::remove_file(socket).map_err(io_err(format!(
            "cannot remove stale socket {}",
            socket.display()
        )))?;
    }
    UnixListener::bind(socket).map_err(io_err(format!("cannot bind {}", socket.display())))
}

fn refuse(stream: UnixStream) {
    let mut conn = Conn::new(stream);
    let resp: HttpResponse = ApiError::new(503, "too many connections").into();
    let _ = conn.write_response(&resp, false);
}

fn serve_connection(d: &Arc<Daemon>, stream: UnixStream) {
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut conn = Conn::new(stream);
    loop {
        let req = match conn.read_request(d.opts.max_body) {
            Ok(r) => r,
            Err(ReadError::Closed) => return,
            Err(ReadError::Bad(m)) => {
                let _ = conn.write_response(&ApiError::bad_request(m).into(), false);
                return;
            }
            Err(ReadError::TooLarge(m)) => {
                let _ = conn.write_response(&ApiError::new(413, m).into(), false);
                return;
            }
        };
        let keep_alive = req.keep_alive() && !d.stopping();
        let resp = match api::route(d, &req, &conn) {
            Ok(Reply::Websocket { task_id, ws_id }) => {
                let key = req.header("sec-websocket-key").unwrap_or("").to_string();
                crate::exec::attach(d, &task_id, &ws_id, conn, &key);
                return;
            }
            Ok(Reply::Raw(r)) => r,
            Ok(Reply::Sync(v)) => json_response(200, &envelope("sync", 200, Some(v), None)),
            Ok(Reply::SyncStatus(code, v)) => {
                json_response(code, &envelope("sync", code, Some(v), None))
            }
            Ok(Reply::SyncEmpty) => json_response(200, &envelope("sync", 200, None, None)),
            Ok(Reply::Async { change, result }) => {
                json_response(202, &envelope("async", 202, result, Some(&change)))
            }
            Err(e) => e.into(),
        };
        if conn.write_response(&resp, keep_alive).is_err() || !keep_alive {
            return;
        }
    }
}
