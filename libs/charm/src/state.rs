//! State that survives between hooks: stored values, deferred events, the last status set.
//!
//! # On-disk format
//!
//! By default the state lives in `<charm dir>/.charm-state.json` (mode 0600), written atomically
//! (temporary file + rename) at the end of every successful dispatch that changed it:
//!
//! ```json
//! {
//!   "version": 1,
//!   "stored": { "<key>": <any JSON value> },
//!   "deferred": [
//!     { "seq": 3, "observer": "<handler id>",
//!       "event": { "juju": { "kind": "relation-changed", "relation": {...}, ... } } },
//!     { "seq": 4, "observer": "<handler id>",
//!       "event": { "custom": { "name": "CredentialsChanged", "data": {...} } } }
//!   ],
//!   "next_seq": 5,
//!   "last_status": { "unit": { "kind": "active", "message": "ready" }, "app": null }
//! }
//! ```
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
    /// The handler's id.
    pub observer: String,
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
}

impl Default for StateDoc {
    fn default() -> Self {
        StateDoc {
            version: STATE_VERSION,
            stored: BTreeMap::new(),
            deferred: Vec::new(),
            next_seq: 0,
            last_status: LastStatus::default(),
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
    /// The state document is not valid.
    #[error("state in {place} is corrupt: {detail}")]
    Corrupt {
        /// Where it came from.
        place: String,
        /// What is wrong.
        detail: String,
    },
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
            Ok(bytes) => parse_doc(&bytes, &self.path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StateDoc::default()),
            Err(source) => Err(StateError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Writes the file atomically, readable by its owner only.
    pub fn write(&self, doc: &StateDoc) -> Result<(), StateError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let io = |source| StateError::Io {
            path: self.path.clone(),
            source,
        };
        let body = serde_json::to_vec(doc).map_err(|e| StateError::Corrupt {
            place: self.path.display().to_string(),
            detail: e.to_string(),
        })?;
        let tmp = self
            .path
            .with_extension(format!("tmp{}", std::process::id()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io)?;
        file.write_all(&body).map_err(io)?;
        drop(file);
        std::fs::rename(&tmp, &self.path).map_err(io)
    }
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
            Some(text) => parse_doc(text.as_bytes(), "Juju charm state"),
        }
    }

    fn save(&mut self, tools: &mut dyn HookTools, doc: &StateDoc) -> Result<(), StateError> {
        let text = serde_json::to_string(doc).map_err(|e| StateError::Corrupt {
            place: "Juju charm state".into(),
            detail: e.to_string(),
        })?;
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

fn parse_doc(bytes: &[u8], place: &str) -> Result<StateDoc, StateError> {
    let doc: StateDoc = serde_json::from_slice(bytes).map_err(|e| StateError::Corrupt {
        place: place.to_string(),
        detail: e.to_string(),
    })?;
    if doc.version != STATE_VERSION {
        return Err(StateError::Corrupt {
            place: place.to_string(),
            detail: format!(
                "unknown version {} (this charm writes {STATE_VERSION})",
                doc.version
            ),
        });
    }
    Ok(doc)
}

#[cfg(test)]
#[path = "state_test.rs"]
mod tests;
