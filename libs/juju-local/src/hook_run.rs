//! The description of the dispatch running now, shared by the driver and the hook tools.
//!
//! The driver writes it to `run/<seq>.context.json` before starting a dispatch and points
//! `JUJU_LOCAL_CONTEXT` at it (the names follow Juju's "hook context"); every hook tool the charm
//! runs reads it to know which unit it serves, whether that unit leads, which relations `-r` may
//! name and what `relation-list` answers. The tools' changes go to the journal it names
//! (see [`crate::journal`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::state::HookSpec;

/// Environment variable naming the hook-run file.
pub const HOOK_RUN_ENV: &str = "JUJU_LOCAL_CONTEXT";

/// Version of the hook-run file format.
pub const HOOK_RUN_VERSION: u32 = 1;

/// How one relation looks to the unit running the hook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationView {
    /// This unit's endpoint name.
    pub endpoint: String,
    /// The application on the other side (this application for peers).
    pub remote_app: String,
    /// True for a peer relation.
    pub peer: bool,
    /// The remote units `relation-list` returns.
    pub members: Vec<String>,
    /// True when this hook is the relation's relation-broken.
    #[serde(default)]
    pub broken: bool,
}

/// One dispatch (hook or action) while it runs: everything a hook tool needs to know about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookRun {
    /// File format version.
    pub version: u32,
    /// The model directory (holds `state.json`).
    pub model_dir: PathBuf,
    /// The journal file tools append to.
    pub journal: PathBuf,
    /// `JUJU_CONTEXT_ID`.
    pub context_id: String,
    /// The unit running the hook.
    pub unit: String,
    /// Its application.
    pub app: String,
    /// What is running.
    pub hook: HookSpec,
    /// Whether the unit is leader for this hook.
    pub leader: bool,
    /// Whether the unit is being removed (its relation writes are not published).
    #[serde(default)]
    pub dying: bool,
    /// The relations this unit can name with `-r`, by id.
    pub relations: BTreeMap<u64, RelationView>,
    /// When the hook started (Unix seconds).
    pub started: i64,
}

impl HookRun {
    /// Reads a context file.
    pub fn load(path: &Path) -> Result<HookRun> {
        let text = crate::files::read_to_string(path)?;
        let run: HookRun = serde_json::from_str(&text).map_err(|e| Error::Format {
            what: format!("malformed hook context {}", path.display()),
            message: e.to_string(),
        })?;
        if run.version != HOOK_RUN_VERSION {
            return Err(Error::Format {
                what: format!("hook context {}", path.display()),
                message: format!("unsupported version {}", run.version),
            });
        }
        Ok(run)
    }

    /// Writes the context file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Format {
            what: "hook context".into(),
            message: e.to_string(),
        })?;
        crate::files::write_atomic(path, text.as_bytes())
    }

    /// True when running an action.
    pub fn is_action(&self) -> bool {
        self.hook.is_action()
    }
}
