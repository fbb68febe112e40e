//! Changes and tasks: what services actions, exec and checks run as.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::wire::{null_default, wire_enum};

wire_enum! {
    /// `status` of a change or task.
    pub enum ChangeStatus {
        /// Waiting to run.
        Do = "Do",
        /// Running.
        Doing = "Doing",
        /// Finished successfully.
        Done = "Done",
        /// Being aborted.
        Abort = "Abort",
        /// Waiting to be undone.
        Undo = "Undo",
        /// Being undone.
        Undoing = "Undoing",
        /// Undone.
        Undone = "Undone",
        /// Not run because something before it failed.
        Hold = "Hold",
        /// Failed.
        Error = "Error",
        /// Blocked, waiting for something outside.
        Wait = "Wait",
    }
}

impl ChangeStatus {
    /// Whether the status is final (`Done`, `Undone`, `Hold`, `Error`).
    pub fn is_ready(&self) -> bool {
        matches!(
            self,
            ChangeStatus::Done | ChangeStatus::Undone | ChangeStatus::Hold | ChangeStatus::Error
        )
    }
}

/// A change: `GET /v1/changes/{id}` and friends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Change {
    /// Opaque ID (decimal text).
    pub id: String,
    /// `start`, `stop`, `restart`, `replan`, `autostart`, `exec`, `perform-check`, `recover-check`, …
    pub kind: String,
    /// Human summary, e.g. `Start service "web"`.
    pub summary: String,
    /// Derived from the tasks' statuses.
    pub status: ChangeStatus,
    /// The tasks (absent when none).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tasks: Vec<Task>,
    /// Whether the change is finished.
    pub ready: bool,
    /// Set only in `Error` status: `cannot perform the following tasks:\n- <summary> (<error>)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub err: Option<String>,
    /// RFC 3339 with nanoseconds.
    pub spawn_time: String,
    /// Set once ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_time: Option<String>,
    /// Change data (absent when empty).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Map::is_empty"
    )]
    pub data: Map<String, Value>,
}

/// A task of a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Task {
    /// Opaque ID.
    pub id: String,
    /// E.g. `start`, `exec`.
    pub kind: String,
    /// Human summary.
    pub summary: String,
    /// Task status.
    pub status: ChangeStatus,
    /// Last log lines, `"<time> INFO|ERROR <message>"` (absent when empty).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub log: Vec<String>,
    /// Progress.
    #[serde(default)]
    pub progress: TaskProgress,
    /// RFC 3339 with nanoseconds.
    pub spawn_time: String,
    /// Set once ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_time: Option<String>,
    /// Task data; exec puts `exit-code` here.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Map::is_empty"
    )]
    pub data: Map<String, Value>,
}

/// `progress` of a task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskProgress {
    /// What is being counted.
    #[serde(default)]
    pub label: String,
    /// Units done.
    #[serde(default)]
    pub done: u64,
    /// Units in all.
    #[serde(default)]
    pub total: u64,
}

impl Change {
    /// The exit code an exec change recorded in its first task (`data["exit-code"]`).
    pub fn exit_code(&self) -> Option<i64> {
        self.tasks.first()?.data.get("exit-code")?.as_i64()
    }
}

wire_enum! {
    /// `select` of `GET /v1/changes`.
    pub enum ChangeSelect {
        /// Changes not yet ready (Pebble's default).
        InProgress = "in-progress",
        /// Ready changes.
        Ready = "ready",
        /// All changes.
        All = "all",
    }
}

/// Body of `POST /v1/changes/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeActionRequest {
    /// Only `abort` exists.
    pub action: String,
}
