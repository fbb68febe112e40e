//! The journal of one dispatch: one JSON line per hook-tool call ([`ToolRecord`]), with the
//! changes it asks for ([`Op`]).
//!
//! Each tool invocation appends its line in a single locked write; tools never write the state
//! file. After the dispatch exits the driver applies the journal ([`crate::commit`]): immediate
//! operations whatever the exit code, buffered ones only on success, as Juju flushes a hook
//! context.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::state::{OpenPort, SecretGrant, SecretOwner, Status};

/// One change requested by a hook tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Op {
    /// Merge settings into this unit's (or, with `app`, its application's) bag; empty values delete.
    RelationSet {
        /// Relation id.
        relation: u64,
        /// The application bag.
        app: bool,
        /// Settings to merge.
        settings: BTreeMap<String, String>,
    },
    /// Set charm state keys.
    StateSet {
        /// Keys and values.
        values: BTreeMap<String, String>,
    },
    /// Delete a charm state key.
    StateDelete {
        /// The key.
        key: String,
    },
    /// Open a port range.
    OpenPort {
        /// The range.
        port: OpenPort,
    },
    /// Close a port range.
    ClosePort {
        /// The range.
        port: OpenPort,
    },
    /// Create a secret.
    SecretCreate {
        /// The new xid.
        id: String,
        /// Its owner.
        owner: SecretOwner,
        /// Owner label.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        /// Description.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// Expiry (RFC 3339).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expire: Option<String>,
        /// Rotation policy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rotate: Option<String>,
        /// Content: key → base64.
        content: BTreeMap<String, String>,
    },
    /// Update a secret's metadata and/or content.
    SecretUpdate {
        /// The xid.
        id: String,
        /// New owner label.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        /// New description.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// New expiry.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expire: Option<String>,
        /// New rotation policy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rotate: Option<String>,
        /// New content (a new revision when it differs from the latest).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<BTreeMap<String, String>>,
    },
    /// Remove a secret or one revision.
    SecretRemove {
        /// The xid.
        id: String,
        /// Only this revision.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        revision: Option<u32>,
    },
    /// Grant access.
    SecretGrant {
        /// The xid.
        id: String,
        /// The grant.
        grant: SecretGrant,
    },
    /// Revoke access.
    SecretRevoke {
        /// The xid.
        id: String,
        /// Revoke the application's grants.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        app: Option<String>,
        /// Revoke a unit's grant.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
        /// Only grants tied to this relation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        relation: Option<u64>,
    },
    /// The unit now tracks `revision` (first read or `--refresh`). Applied even if the hook fails.
    SecretTrack {
        /// The xid.
        id: String,
        /// The revision.
        revision: u32,
    },
    /// The unit (as a consumer) labels the secret. Applied even if the hook fails.
    SecretConsumerLabel {
        /// The xid.
        id: String,
        /// The label.
        label: String,
    },
    /// Set unit or application status. Applied at once.
    StatusSet {
        /// Application status (leader only).
        application: bool,
        /// The status.
        status: Status,
    },
    /// Set the workload version. Applied at once.
    AppVersion {
        /// The version.
        version: String,
    },
    /// A `juju-log` line. Applied at once.
    Log {
        /// The level.
        level: String,
        /// The message.
        message: String,
    },
    /// Action results (dotted keys). Applied at once.
    ActionSet {
        /// Keys and values.
        values: BTreeMap<String, String>,
    },
    /// Mark the action failed. Applied at once.
    ActionFail {
        /// The failure message.
        message: String,
    },
    /// Action progress message. Applied at once.
    ActionLog {
        /// The message.
        message: String,
    },
    /// Leader settings (deprecated `leader-set`). Applied at once.
    LeaderSet {
        /// Keys and values (empty deletes).
        values: BTreeMap<String, String>,
    },
    /// More instances of a storage for this unit (`storage-add`).
    StorageAdd {
        /// The storage name.
        name: String,
        /// How many.
        count: u32,
    },
}

impl Op {
    /// True for changes Juju applies immediately rather than at the end of a successful hook.
    pub fn immediate(&self) -> bool {
        matches!(
            self,
            Op::SecretTrack { .. }
                | Op::SecretConsumerLabel { .. }
                | Op::StatusSet { .. }
                | Op::AppVersion { .. }
                | Op::Log { .. }
                | Op::ActionSet { .. }
                | Op::ActionFail { .. }
                | Op::ActionLog { .. }
                | Op::LeaderSet { .. }
        )
    }
}

/// One hook-tool invocation as recorded in the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolRecord {
    /// The tool name.
    pub tool: String,
    /// Its arguments (secret values redacted).
    pub args: Vec<String>,
    /// Its exit code.
    pub exit: i32,
    /// Its wall time in microseconds.
    pub micros: u64,
    /// The changes it requested.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<Op>,
}

/// Reads a journal; a missing file is an empty journal.
pub fn read_journal(path: &Path) -> Result<Vec<ToolRecord>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = crate::files::read_to_string(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| Error::Format {
                what: format!("journal {} line {}", path.display(), i + 1),
                message: e.to_string(),
            })
        })
        .collect()
}

/// Reads a journal, skipping lines that do not parse (a tool killed mid-write by a hook timeout).
pub fn read_journal_lenient(path: &Path) -> Vec<ToolRecord> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
