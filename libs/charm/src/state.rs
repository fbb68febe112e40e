//! State that survives between hooks: stored values, deferred events, the last status set.
//!
//! # On-disk format
//!
//! By default the state lives in `<charm dir>/.charm-state.json` (mode 0600), written at the end
//! of every successful dispatch that changed it. The write is atomic and durable: the document goes
//! to `.charm-state.json.tmp` (created exclusively, mode 0600), which is fsynced, the directory is
//! fsynced, the file is renamed over the old one, and the directory is fsynced again. So after a
//! crash or power loss the file holds either the old or the new document, never a mix; a
//! temporary file left by an interrupted write is removed by the next write. A file that does not
//! parse fails the hook with a message that names it and says how to recover; the charm never
//! overwrites it.
//!
//! ```json
//! {
//!   "version": 1,
//!   "stored": { "<key>": <any JSON value> },
//!   "deferred": [
//!     { "seq": 3, "observer": "<handler name>", "filter": "relation-changed@db",
//!       "event": { "juju": { "kind": "relation-changed", "relation": {...}, ... } } },
//!     { "seq": 4, "observer": "<handler name>", "filter": "event:s3.credentials_changed",
//!       "event": { "custom": { "name": "s3.credentials_changed", "data": {...} } } }
//!   ],
//!   "next_seq": 5,
//!   "last_status": { "unit": { "kind": "active", "message": "ready" }, "app": null },
//!   "remote_apps": { "db:3": "postgresql" },
//!   "storage": { "data/0": { "kind": "filesystem", "location": "/srv/data" } }
//! }
//! ```
//!
//! # Deferral records across upgrades
//!
//! A deferred event is re-run only by the handler that deferred it, found by its stable identity,
//! never by its position among the handlers (which a new charm revision may reorder):
//!
//! * `observer` is the handler's name: the one given to [`Charm::on_named`](crate::Charm::on_named)
//!   / [`Charm::on_event_named`](crate::Charm::on_event_named), else the path of the fn or method
//!   (`my_charm::on_db_changed`, `s3::requirer::S3Requirer::on_changed`), else, for a closure, the
//!   path of the function it is written in (`my_charm::main::{{closure}}`); handlers a plugin
//!   registers carry the plugin's key as a prefix (`s3-requirer:s3-credentials/...`), so two
//!   instances of one library stay apart.
//! * `filter` is the text of the handler's [`Filter`](crate::Filter) (`update-status`,
//!   `relation-changed@db`, `relation@db`, `any`) or `event:<name>` for a library event.
//!
//! On re-run the record goes to the one handler with that name and filter (for a named fn, method
//! or explicit name whose filter changed: the one handler of that name whose filter still matches
//! the event). The handler's filter must still match the event. Two handlers with the same name
//! and filter (two closures in one function subscribing to the same events) cannot be told apart:
//! such a handler may not defer (`Ctx::defer` returns an error that says to name it), and a record
//! that would match several is dropped with a warning. A record that finds no handler is dropped
//! with a warning: never re-run by another.
//!
//! Two rules keep records of libraries valid when a library is rewritten:
//!
//! * a record whose handler name no handler has any more, under a plugin key (`<key>/...`), goes
//!   to the one handler of that plugin with the record's filter, if there is exactly one: the
//!   plugin key is stable (see [`Plugin::key`](crate::Plugin::key)), so that handler plays the
//!   same part (a closure in `Plugin::build` that became a method; closures there were named
//!   `<X as charm::charm::Plugin>::build::{{closure}}` before the module was renamed `dispatch`);
//! * a library event renamed keeps its former names in
//!   [`CustomEvent::ALIASES`](crate::CustomEvent::ALIASES): a record under a former name (and
//!   its filter `event:<former name>`) restores, and is rewritten under the current name.
//!
//! Format change (still version 1, readable both ways): records written before `filter` existed
//! name the handler `<rust type name>#<registration counter>` and have no `filter`. Such a record
//! is matched only when the type name is a fn or method path and exactly one current handler has
//! that path and a filter matching the event; a closure's old id (the counter gave its position)
//! cannot be matched safely, so that record is dropped with a warning. A re-deferred record is
//! rewritten in the current form. An older charm reading a current record finds no handler of
//! that name and drops it (serde ignores the `filter` field).
//!
//! With [`StoreKind::Juju`] the same document is kept in Juju's charm state under the one key
//! `charm-state` (one `state-get` per dispatch, one `state-set` when it changed), so it survives
//! the loss of the charm container on Kubernetes.

use crate::backend::{HookToolError, HookTools};
use crate::event::Event;
use crate::status::Status;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Current format version of the state document.
pub const STATE_VERSION: u32 = 1;
/// The file name of the local state, in the charm directory.
pub const STATE_FILE: &str = ".charm-state.json";
/// The key of the state document in Juju's charm state.
pub const JUJU_STATE_KEY: &str = "charm-state";

/// An event waiting to be re-run: a Juju event or a library event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeferredEvent {
    /// A Juju event.
    Juju(Event),
    /// A library (custom) event, by its registered name.
    Custom {
        /// [`CustomEvent::NAME`](crate::CustomEvent::NAME).
        name: String,
        /// The event, serialised.
        data: serde_json::Value,
    },
}

/// One deferred (event, handler) pair, as ops stores a notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deferred {
    /// Order of deferral: re-run oldest first.
    pub seq: u64,
    /// The handler's name (see [the module docs](self)); `<type name>#<n>` in older records.
    pub observer: String,
    /// The text of the handler's filter; `None` in records older than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The event.
    pub event: DeferredEvent,
}

/// The statuses this charm last set, so that unchanged statuses cost no hook-tool call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LastStatus {
    /// Unit status.
    pub unit: Option<Status>,
    /// Application status.
    pub app: Option<Status>,
}

/// Everything persisted between dispatches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateDoc {
    /// Format version.
    pub version: u32,
    /// Values stored by the charm and its libraries, by key.
    #[serde(default)]
    pub stored: BTreeMap<String, serde_json::Value>,
    /// Deferred events, oldest first.
    #[serde(default)]
    pub deferred: Vec<Deferred>,
    /// Next deferral sequence number.
    #[serde(default)]
    pub next_seq: u64,
    /// Statuses last set.
    #[serde(default)]
    pub last_status: LastStatus,
    /// The remote application of each relation `relation-list --app` was asked about, by relation
    /// id (`db:3`): a relation's remote application never changes and its id is never reused, so
    /// later hooks need not ask again. Dropped in the relation's `relation-broken`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub remote_apps: BTreeMap<String, String>,
    /// What `storage-get` said of each attached storage instance, by id (`data/0`): an
    /// instance's kind and location do not change while it is attached and its id is never
    /// reused. Dropped in its `<name>-storage-detaching`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage: BTreeMap<String, crate::storage::StorageInfo>,
}

impl Default for StateDoc {
    fn default() -> Self {
        StateDoc {
            version: STATE_VERSION,
            stored: BTreeMap::new(),
            deferred: Vec::new(),
            next_seq: 0,
            last_status: LastStatus::default(),
            remote_apps: BTreeMap::new(),
            storage: BTreeMap::new(),
        }
    }
}

/// Why state could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The state file could not be read or written.
    #[error("state file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The state document is not valid. The hook fails, and the document is left as it is.
    #[error("state in {place} is corrupt: {detail}; {recovery}")]
    Corrupt {
        /// Where it came from.
        place: String,
        /// What is wrong.
        detail: String,
        /// What an operator can do about it.
        recovery: String,
    },
    /// The state document could not be encoded (a stored value JSON cannot hold).
    #[error("cannot encode the charm state: {0}")]
    Encode(String),
    /// A state hook tool failed.
    #[error(transparent)]
    HookTool(#[from] HookToolError),
}

/// Where the state document lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreKind {
    /// A file next to the charm (default; like ops' `.unit-state.db`).
    #[default]
    Local,
    /// Juju's charm state (`state-get`/`state-set`), which survives pod replacement on Kubernetes.
    Juju,
}

/// Loads and saves the state document.
pub trait StateStore {
    /// Loads the document (a fresh one if none was saved yet).
    fn load(&mut self, tools: &mut dyn HookTools) -> Result<StateDoc, StateError>;
    /// Saves the document.
    fn save(&mut self, tools: &mut dyn HookTools, doc: &StateDoc) -> Result<(), StateError>;
}

/// The state in a local JSON file.
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// State kept in `<charm_dir>/.charm-state.json`.
    pub fn in_dir(charm_dir: &Path) -> Self {
        FileStore {
            path: charm_dir.join(STATE_FILE),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl FileStore {
    /// Reads the file (a fresh document if there is none).
    pub fn read(&self) -> Result<StateDoc, StateError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => parse_doc(&bytes, &self.path.display().to_string(), &self.recovery()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StateDoc::default()),
            Err(source) => Err(StateError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Writes the file atomically and durably, readable by its owner only (see the module docs).
    pub fn write(&self, doc: &StateDoc) -> Result<(), StateError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let body = serde_json::to_vec(doc).map_err(|e| StateError::Encode(e.to_string()))?;
        let dir = self.dir();
        let tmp = self.tmp_path();
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StateError::Io { path, source }
        };
        self.remove_stale_temps().map_err(io(&tmp))?;
        // Exclusive creation: a file or symlink someone put at the temporary path is never
        // written through.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io(&tmp))?;
        let written = (|| {
            file.write_all(&body)?;
            file.sync_all()?;
            drop(file);
            sync_dir(&dir)?;
            std::fs::rename(&tmp, &self.path)
        })();
        if let Err(source) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(StateError::Io {
                path: self.path.clone(),
                source,
            });
        }
        sync_dir(&dir).map_err(io(&dir))
    }

    fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// The temporary file a write goes through: `<file>.tmp`.
    fn tmp_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".tmp");
        self.path.with_file_name(name)
    }

    /// Removes temporary files of interrupted writes: `<file>.tmp`, and `<stem>.tmp<pid>` as
    /// written by earlier versions of this crate.
    fn remove_stale_temps(&self) -> std::io::Result<()> {
        let tmp = self.tmp_path();
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let Some(stem) = self.path.file_stem().and_then(|s| s.to_str()) else {
            return Ok(());
        };
        let legacy = format!("{stem}.tmp");
        for entry in std::fs::read_dir(self.dir())?.flatten() {
            let name = entry.file_name();
            let is_legacy = name.to_str().is_some_and(|n| {
                n.strip_prefix(&legacy)
                    .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
            });
            if is_legacy {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(())
    }

    fn recovery(&self) -> String {
        format!(
            "the charm leaves it untouched: move it aside (e.g. `mv {0} {0}.broken`) to start \
             fresh, and the deferred events and stored state in it are lost",
            self.path.display()
        )
    }
}

/// Makes a directory's entries (a created or renamed file) durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

impl StateStore for FileStore {
    fn load(&mut self, _tools: &mut dyn HookTools) -> Result<StateDoc, StateError> {
        self.read()
    }

    fn save(&mut self, _tools: &mut dyn HookTools, doc: &StateDoc) -> Result<(), StateError> {
        self.write(doc)
    }
}

/// The state in Juju's charm state under [`JUJU_STATE_KEY`].
#[derive(Debug, Clone, Default)]
pub struct JujuStore;

impl StateStore for JujuStore {
    fn load(&mut self, tools: &mut dyn HookTools) -> Result<StateDoc, StateError> {
        let all = tools.state_get()?;
        match all.get(JUJU_STATE_KEY) {
            None => Ok(StateDoc::default()),
            Some(text) => parse_doc(text.as_bytes(), "Juju charm state", JUJU_RECOVERY),
        }
    }

    fn save(&mut self, tools: &mut dyn HookTools, doc: &StateDoc) -> Result<(), StateError> {
        let text = serde_json::to_string(doc).map_err(|e| StateError::Encode(e.to_string()))?;
        let mut data = BTreeMap::new();
        data.insert(JUJU_STATE_KEY.to_string(), text);
        tools.state_set(&data)?;
        Ok(())
    }
}

/// State kept in memory (tests and the harness).
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    /// The current document.
    pub doc: StateDoc,
}

impl StateStore for MemoryStore {
    fn load(&mut self, _tools: &mut dyn HookTools) -> Result<StateDoc, StateError> {
        Ok(self.doc.clone())
    }

    fn save(&mut self, _tools: &mut dyn HookTools, doc: &StateDoc) -> Result<(), StateError> {
        self.doc = doc.clone();
        Ok(())
    }
}

/// How to recover from a corrupt document in Juju's charm state.
const JUJU_RECOVERY: &str = "the charm leaves it untouched: delete the `charm-state` key \
    (`state-delete charm-state` in a `juju exec` or debug-hooks session on the unit) to start \
    fresh, and the deferred events and stored state in it are lost";

fn parse_doc(bytes: &[u8], place: &str, recovery: &str) -> Result<StateDoc, StateError> {
    let corrupt = |detail: String| StateError::Corrupt {
        place: place.to_string(),
        detail,
        recovery: recovery.to_string(),
    };
    let doc: StateDoc = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    if doc.version != STATE_VERSION {
        return Err(corrupt(format!(
            "unknown version {} (this charm writes {STATE_VERSION}; a newer revision of the \
             charm may have written it)",
            doc.version
        )));
    }
    Ok(doc)
}

#[cfg(test)]
#[path = "state_test.rs"]
mod tests;
