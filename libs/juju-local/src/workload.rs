//! Workload containers: one `pebble-server` daemon per unit and container (the binary, never the
//! crate: tooling crates do not depend on each other), and the unit agent's Pebble pollers that
//! turn what each daemon reports into workload hooks, as Juju's `pebblepoller.go` and
//! `pebblenotices.go` do.
//!
//! Per unit directory (`<model>/units/<app>-<n>/`, mounted at `/charm` while its hooks run):
//!
//! | path | what |
//! |---|---|
//! | `containers/<c>/pebble.socket` | the Pebble API (`/charm/containers/<c>/pebble.socket` in a hook) |
//! | `containers/<c>/events.jsonl` | the daemon's events (started, custom-notice, check-failed, ...) |
//! | `containers/<c>/pebble.pid` | the daemon's pid (it leads its own process group) |
//! | `containers/<c>/pebble.log` | the daemon's own output (truncated at each start) |
//! | `containers/<c>/seen.json` | the poller's view: events read, boot id whose `pebble-ready` was queued |
//! | `containers/<c>/down` | the container was stopped on purpose (`stop-container`): not restarted |
//! | `rootfs/<c>/` | the container's root directory (files API, working directories) |

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::state::{HookSpec, Life, ModelState};

/// The environment variable naming the `pebble-server` binary (default: next to `juju-local`).
pub const PEBBLE_SERVER_ENV: &str = "JUJU_LOCAL_PEBBLE_SERVER";

/// How long a starting daemon may take to answer on its socket.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stopping daemon gets after SIGTERM (it stops its services first) before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// The largest events chunk read per poll; the rest waits for the next poll.
const MAX_EVENTS_READ: u64 = 1 << 20;

/// Daemons this process started, kept so that they are reaped (not left as zombies) when stopped.
static CHILDREN: Mutex<BTreeMap<u32, Child>> = Mutex::new(BTreeMap::new());

/// The workload containers of one model.
#[derive(Debug, Clone)]
pub struct Pods {
    /// The model directory.
    pub dir: PathBuf,
    /// The `pebble-server` binary.
    pub server: PathBuf,
    /// Whether daemons outlive this process ([`crate::ModelOptions::detach_containers`]).
    pub detach: bool,
}

/// The poller's view of one container.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Seen {
    /// Bytes of the events file already read.
    offset: u64,
    /// The boot id of the last `started` event read.
    #[serde(default)]
    boot_id: String,
    /// The boot id whose `pebble-ready` was queued.
    #[serde(default)]
    ready_boot_id: String,
}

/// One line of a daemon's events file (the `pebble-server` README's table).
#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
enum Event {
    Started {
        #[serde(rename = "boot-id")]
        boot_id: String,
    },
    CustomNotice {
        id: String,
        #[serde(rename = "type")]
        notice_type: String,
        key: String,
    },
    CheckFailed {
        check: String,
    },
    CheckRecovered {
        check: String,
    },
    #[serde(other)]
    Other,
}

/// A container's state as `juju-local` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerState {
    /// The daemon runs (its pid).
    Running(u32),
    /// Stopped on purpose (`stop-container`).
    Down,
    /// Not running (not started yet, or exited: the next `settle` restarts it, as Kubernetes would).
    Exited,
}

/// The `pebble-server` binary for a model whose tools run `tool_binary`.
pub fn server_binary(tool_binary: &Path) -> PathBuf {
    if let Some(p) = std::env::var_os(PEBBLE_SERVER_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    tool_binary
        .parent()
        .unwrap_or(Path::new("."))
        .join("pebble-server")
}

/// The directory mounted at `/charm` while `unit`'s hooks run.
pub fn unit_dir(model_dir: &Path, unit: &str) -> PathBuf {
    model_dir.join("units").join(unit.replace('/', "-"))
}

fn container_dir(model_dir: &Path, unit: &str, container: &str) -> PathBuf {
    unit_dir(model_dir, unit).join("containers").join(container)
}

/// The host path a client connects to for `unit`'s Pebble of `container` (the short path when
/// the one in the unit directory is too long for a Unix socket address).
pub fn socket_path(model_dir: &Path, unit: &str, container: &str) -> PathBuf {
    bound_socket(&container_dir(model_dir, unit, container))
}

/// The host directory that is `container`'s `/` for `unit`.
pub fn root_dir(model_dir: &Path, unit: &str, container: &str) -> PathBuf {
    unit_dir(model_dir, unit).join("rootfs").join(container)
}

/// Where the daemon of `dir` binds its socket: `dir/pebble.socket`, or, when that path is too
/// long for a Unix socket (108 bytes with the NUL), a short path under `/tmp/juju-local-pebble/`
/// that `dir/pebble.socket` links to (connecting through a symbolic link works).
fn bound_socket(dir: &Path) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let socket = dir.join("pebble.socket");
    if socket.as_os_str().len() < 100 {
        return socket;
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    socket.hash(&mut h);
    PathBuf::from(SHORT_SOCKETS).join(format!("{:016x}.sock", h.finish()))
}

/// The directory of short socket paths (see [`bound_socket`]).
const SHORT_SOCKETS: &str = "/tmp/juju-local-pebble";

fn io_err(what: &'static str, path: &Path, e: std::io::Error) -> Error {
    Error::io(what, path, e)
}

/// The pid in `pid_file` if that process is alive, not a zombie, and is the daemon of `socket`.
fn live_pid(pid_file: &Path, socket: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(pid_file)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    if let Ok(mut children) = CHILDREN.lock()
        && let Some(child) = children.get_mut(&pid)
        && !matches!(child.try_wait(), Ok(None))
    {
        children.remove(&pid);
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The state follows the parenthesised command name, which may itself hold ") ".
    let state = stat.rsplit_once(") ")?.1.chars().next()?;
    if state == 'Z' || state == 'X' {
        return None;
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let socket = socket.as_os_str().as_encoded_bytes();
    cmdline
        .split(|b| *b == 0)
        .any(|arg| arg == socket)
        .then_some(pid)
}

impl Pods {
    /// The state of `unit`'s `container`.
    pub fn state(&self, unit: &str, container: &str) -> ContainerState {
        let dir = container_dir(&self.dir, unit, container);
        match live_pid(&dir.join("pebble.pid"), &bound_socket(&dir)) {
            Some(pid) => ContainerState::Running(pid),
            None if dir.join("down").exists() => ContainerState::Down,
            None => ContainerState::Exited,
        }
    }

    /// Starts `unit`'s `container` (clearing a `stop-container`) unless it runs; returns once
    /// the daemon answers on its socket.
    pub fn start(&self, unit: &str, container: &str) -> Result<()> {
        let dir = container_dir(&self.dir, unit, container);
        std::fs::create_dir_all(&dir).map_err(|e| io_err("cannot create", &dir, e))?;
        let _ = std::fs::remove_file(dir.join("down"));
        let socket = dir.join("pebble.socket");
        let bound = bound_socket(&dir);
        if live_pid(&dir.join("pebble.pid"), &bound).is_some() {
            return Ok(());
        }
        if bound != socket {
            let short = Path::new(SHORT_SOCKETS);
            std::fs::create_dir_all(short).map_err(|e| io_err("cannot create", short, e))?;
            let _ = std::fs::remove_file(&socket);
            std::os::unix::fs::symlink(&bound, &socket)
                .map_err(|e| io_err("cannot create link", &socket, e))?;
        }
        let root = root_dir(&self.dir, unit, container);
        std::fs::create_dir_all(&root).map_err(|e| io_err("cannot create", &root, e))?;
        let log_path = dir.join("pebble.log");
        let log =
            std::fs::File::create(&log_path).map_err(|e| io_err("cannot create", &log_path, e))?;
        let log2 = log
            .try_clone()
            .map_err(|e| io_err("cannot open", &log_path, e))?;
        let mut command = Command::new(&self.server);
        command
            .arg("--socket")
            .arg(&bound)
            .arg("--root")
            .arg(&root)
            .arg("--events")
            .arg(dir.join("events.jsonl"))
            // Its own group: a Ctrl-C meant for the CLI does not reach it, and teardown kills
            // the daemon with every service it runs.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        if !self.detach {
            crate::process::die_with_parent(&mut command);
        }
        let events = dir.join("events.jsonl");
        let events_before = std::fs::metadata(&events).map_or(0, |m| m.len());
        let mut child = command.spawn().map_err(|e| Error::Spawn {
            unit: unit.to_string(),
            hook: format!("{container} container"),
            message: format!("cannot start {}: {e}", self.server.display()),
        })?;
        let pid = child.id();
        crate::files::write_atomic(&dir.join("pebble.pid"), format!("{pid}\n").as_bytes())?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            // Up once it answers and its `started` event (the boot id the poller needs) is written.
            if std::os::unix::net::UnixStream::connect(&bound).is_ok()
                && started_since(&events, events_before)
            {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(Error::Spawn {
                    unit: unit.to_string(),
                    hook: format!("{container} container"),
                    message: format!("pebble-server exited ({status}): {}", tail(&log, 400)),
                });
            }
            if Instant::now() > deadline {
                crate::process::signal_group(pid, libc::SIGKILL);
                let _ = child.wait();
                return Err(Error::Spawn {
                    unit: unit.to_string(),
                    hook: format!("{container} container"),
                    message: format!("pebble-server did not answer within {START_TIMEOUT:?}"),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Ok(mut children) = CHILDREN.lock() {
            children.insert(pid, child);
        }
        Ok(())
    }

    /// Stops `unit`'s `container` (SIGTERM to its group: the daemon stops its services; SIGKILL
    /// after [`STOP_TIMEOUT`]). `down` keeps it down until `start`.
    pub fn stop(&self, unit: &str, container: &str, down: bool) -> Result<()> {
        let dir = container_dir(&self.dir, unit, container);
        if down {
            std::fs::create_dir_all(&dir).map_err(|e| io_err("cannot create", &dir, e))?;
            crate::files::write_atomic(&dir.join("down"), b"")?;
        }
        let pid_file = dir.join("pebble.pid");
        let socket = bound_socket(&dir);
        let Some(pid) = live_pid(&pid_file, &socket) else {
            let _ = std::fs::remove_file(&pid_file);
            return Ok(());
        };
        crate::process::signal_group(pid, libc::SIGTERM);
        let deadline = Instant::now() + STOP_TIMEOUT;
        while live_pid(&pid_file, &socket).is_some() {
            if Instant::now() > deadline {
                crate::process::signal_group(pid, libc::SIGKILL);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Ok(mut children) = CHILDREN.lock()
            && let Some(mut child) = children.remove(&pid)
        {
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&pid_file);
        Ok(())
    }

    /// Starts every container of every alive unit that is not running and not stopped on
    /// purpose (Kubernetes restarts a container that exited).
    pub fn ensure_up(&self, st: &ModelState) -> Result<()> {
        for app in st.applications.values() {
            for u in app.units.values().filter(|u| u.life == Life::Alive) {
                for c in &app.meta.containers {
                    if self.state(&u.name, c) == ContainerState::Exited {
                        self.start(&u.name, c)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Stops the daemons of units that are gone from the model (teardown).
    pub fn reap_removed(&self, st: &ModelState) -> Result<()> {
        let units_dir = self.dir.join("units");
        let Ok(entries) = std::fs::read_dir(&units_dir) else {
            return Ok(());
        };
        let alive: Vec<String> = st
            .unit_names()
            .iter()
            .map(|u| u.replace('/', "-"))
            .collect();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if alive.contains(&name) {
                continue;
            }
            let Some((app, n)) = name.rsplit_once('-') else {
                continue;
            };
            let unit = format!("{app}/{n}");
            let Ok(containers) = std::fs::read_dir(entry.path().join("containers")) else {
                continue;
            };
            for c in containers.flatten() {
                self.stop(&unit, &c.file_name().to_string_lossy(), false)?;
            }
        }
        Ok(())
    }

    /// Stops every daemon of the model (the end of a scenario or a test).
    pub fn stop_all(&self, st: &ModelState) -> Result<()> {
        for app in st.applications.values() {
            for u in app.units.values() {
                for c in &app.meta.containers {
                    self.stop(&u.name, c, false)?;
                }
            }
        }
        self.reap_removed(st)
    }

    /// Reads what every alive unit's daemons reported since the last poll and queues the
    /// workload hooks Juju would fire. Returns how many were queued.
    pub fn poll(&self, st: &mut ModelState) -> Result<usize> {
        let mut queued = 0;
        let mut work: Vec<(String, String)> = Vec::new();
        for app in st.applications.values() {
            for u in app.units.values().filter(|u| u.life == Life::Alive) {
                for c in &app.meta.containers {
                    work.push((u.name.clone(), c.clone()));
                }
            }
        }
        for (unit, c) in work {
            let hooks = self.poll_container(&unit, &c)?;
            if let Some(u) = st.unit_mut(&unit) {
                queued += hooks.len();
                u.agent.queue.extend(hooks);
            }
        }
        Ok(queued)
    }

    fn poll_container(&self, unit: &str, container: &str) -> Result<Vec<HookSpec>> {
        let dir = container_dir(&self.dir, unit, container);
        let seen_path = dir.join("seen.json");
        let mut seen: Seen = std::fs::read_to_string(&seen_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let events_path = dir.join("events.jsonl");
        let mut text = Vec::new();
        if let Ok(mut f) = std::fs::File::open(&events_path) {
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            if len < seen.offset {
                // A new file (the unit directory was recreated): read it from the start.
                seen.offset = 0;
            }
            f.seek(SeekFrom::Start(seen.offset))
                .map_err(|e| io_err("cannot read", &events_path, e))?;
            f.take(MAX_EVENTS_READ)
                .read_to_end(&mut text)
                .map_err(|e| io_err("cannot read", &events_path, e))?;
        }
        // Only whole lines: the daemon may be writing the next one.
        let whole = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let before = seen.clone();
        seen.offset += whole as u64;
        let running = matches!(self.state(unit, container), ContainerState::Running(_));
        let mut hooks = Vec::new();
        let base = |kind: &str| {
            let mut h = HookSpec::simple(&format!("{container}-{kind}"));
            h.env
                .insert("JUJU_WORKLOAD_NAME".into(), container.to_string());
            h
        };
        for line in text[..whole]
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
        {
            // A line we cannot read is the daemon's problem, not a reason to stop the model.
            let Ok(event) = serde_json::from_slice::<Event>(line) else {
                continue;
            };
            match event {
                Event::Started { boot_id } => seen.boot_id = boot_id,
                Event::CustomNotice {
                    id,
                    notice_type,
                    key,
                } => {
                    let mut h = base("pebble-custom-notice");
                    h.env.insert("JUJU_NOTICE_ID".into(), id);
                    h.env.insert("JUJU_NOTICE_TYPE".into(), notice_type);
                    h.env.insert("JUJU_NOTICE_KEY".into(), key);
                    hooks.push(h);
                }
                Event::CheckFailed { check } => {
                    let mut h = base("pebble-check-failed");
                    h.env.insert("JUJU_PEBBLE_CHECK_NAME".into(), check);
                    hooks.push(h);
                }
                Event::CheckRecovered { check } => {
                    let mut h = base("pebble-check-recovered");
                    h.env.insert("JUJU_PEBBLE_CHECK_NAME".into(), check);
                    hooks.push(h);
                }
                Event::Other => {}
            }
        }
        // Juju polls the boot id: a container seen up with a new boot id gets pebble-ready
        // (before what it reported since), one that came and went between polls does not.
        if running && !seen.boot_id.is_empty() && seen.boot_id != seen.ready_boot_id {
            seen.ready_boot_id = seen.boot_id.clone();
            hooks.insert(0, base("pebble-ready"));
        }
        if seen.offset != before.offset || seen.ready_boot_id != before.ready_boot_id {
            let text = serde_json::to_vec(&seen).map_err(|e| Error::Invalid(e.to_string()))?;
            crate::files::write_atomic(&seen_path, &text)?;
        }
        Ok(hooks)
    }
}

/// Whether `events` holds a whole `started` line after byte `offset`.
fn started_since(events: &Path, offset: u64) -> bool {
    let Ok(mut f) = std::fs::File::open(events) else {
        return false;
    };
    let mut text = Vec::new();
    if f.seek(SeekFrom::Start(offset)).is_err()
        || f.take(MAX_EVENTS_READ).read_to_end(&mut text).is_err()
    {
        return false;
    }
    text.split(|b| *b == b'\n')
        .rev()
        .skip(1) // the part after the last newline is not a whole line
        .any(|line| matches!(serde_json::from_slice(line), Ok(Event::Started { .. })))
}

/// The last `max` bytes of `text`, on a char boundary.
fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].trim()
}
