//! The hook tools, one method each: the only way a charm talks to Juju.
//!
//! [`HookTools`] is a 1:1 typed view of the commands; [`ProcessBackend`] runs the real
//! executables exactly as `juju-protocol.md` specifies, and the `charm-testing` crate implements
//! it in memory. The model ([`Ctx`](crate::Ctx)) sits on top and adds caching, staging and Juju's rules.

mod process;
mod tool_name;

pub use tool_name::ToolName;

pub use process::{
    DEFAULT_TOOL_TIMEOUT, MAX_LOG_LINE, MAX_TOOL_STDERR, MAX_TOOL_STDOUT, ProcessBackend, ToolStats,
};

use crate::event::RelationId;
use crate::network::Network;
use crate::port::Port;
use crate::secret::{NewSecret, SecretContent, SecretId, SecretInfo, SecretRead, SecretUpdate};
use crate::status::Status;
use crate::storage::{StorageId, StorageInfo};
use std::collections::BTreeMap;

/// A relation databag as Juju stores it: string keys to string values.
pub type BagData = BTreeMap<String, String>;

/// `juju-log` levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// TRACE
    Trace,
    /// DEBUG
    Debug,
    /// INFO
    Info,
    /// WARNING
    Warning,
    /// ERROR
    Error,
}

impl LogLevel {
    /// The word `juju-log --log-level` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "TRACE",
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warning => "WARNING",
            LogLevel::Error => "ERROR",
        }
    }
}

/// A hook tool that failed, classified the way ops classifies it.
#[derive(Debug, thiserror::Error)]
pub enum HookToolError {
    /// The relation does not exist (any more), or Juju answered "permission denied" for a relation it forgot.
    #[error("{tool}: relation not found: {stderr}")]
    RelationNotFound {
        /// The tool.
        tool: String,
        /// What it printed.
        stderr: String,
    },
    /// The secret does not exist or is not visible to this unit.
    #[error("{tool}: secret not found: {stderr}")]
    SecretNotFound {
        /// The tool.
        tool: String,
        /// What it printed.
        stderr: String,
    },
    /// Juju refused: not the leader, not the owner, or a bag this unit may not touch.
    #[error("{tool}: permission denied: {stderr}")]
    PermissionDenied {
        /// The tool.
        tool: String,
        /// What it printed.
        stderr: String,
    },
    /// Any other non-zero exit.
    #[error("{tool} exited with code {code}: {stderr}")]
    Failed {
        /// The tool.
        tool: String,
        /// Exit code (2: bad arguments; 1: the command failed).
        code: i32,
        /// What it printed.
        stderr: String,
    },
    /// The tool could not be started (not on PATH, not executable, killed).
    #[error("cannot run hook tool {tool}: {detail}")]
    Spawn {
        /// The tool.
        tool: String,
        /// Why.
        detail: String,
    },
    /// An argument does not fit in a command line (found before anything was spawned).
    #[error("{tool}: {detail}")]
    TooLong {
        /// The tool.
        tool: String,
        /// Which argument, and the limit.
        detail: String,
    },
    /// The tool did not finish in time; its process group was killed.
    #[error("{tool}: {detail}")]
    TimedOut {
        /// The tool.
        tool: String,
        /// The timeout.
        detail: String,
    },
    /// The tool exited 0 but printed something Juju never prints.
    #[error("{tool} printed unexpected output: {detail}")]
    BadOutput {
        /// The tool.
        tool: String,
        /// What was wrong with it.
        detail: String,
    },
    /// A value the caller passed is not one the tool accepts (found before anything was spawned).
    #[error("{tool}: invalid argument: {detail}")]
    InvalidArgument {
        /// The tool.
        tool: String,
        /// Which value, and why.
        detail: String,
    },
    /// What the tool was asked about does not exist: a resource, a storage instance.
    #[error("{tool}: not found: {stderr}")]
    NotFound {
        /// The tool.
        tool: String,
        /// What it printed.
        stderr: String,
    },
    /// `credential-get` on an application that was not granted `juju trust`.
    #[error("{tool}: the application is not trusted (run `juju trust <application>`): {stderr}")]
    NotTrusted {
        /// The tool.
        tool: String,
        /// What it printed.
        stderr: String,
    },
}

impl HookToolError {
    /// Classifies a failed call from its exit code and stderr, with ops' rules.
    ///
    /// `authz` tells whether "permission denied" is a real authorisation failure on a live
    /// relation (`relation-set --app`, or reading the own app bag as a follower); for other
    /// relation calls Juju says "permission denied" about relations it has forgotten.
    pub fn classify(tool: &str, code: i32, stderr: &str, authz: bool) -> HookToolError {
        let lower = stderr.to_ascii_lowercase();
        let stderr = stderr.trim().to_string();
        let tool_s = tool.to_string();
        let relation_tool = matches!(
            tool,
            "relation-ids"
                | "relation-list"
                | "relation-get"
                | "relation-set"
                | "relation-model-get"
                | "network-get"
        );
        let denied = lower.contains("permission denied")
            || lower.contains("cannot write relation settings")
            || lower.contains("access denied")
            || lower.contains("not the leader");
        if relation_tool && (relation_not_found(&lower) || (denied && !authz)) {
            return HookToolError::RelationNotFound {
                tool: tool_s,
                stderr,
            };
        }
        if tool.starts_with("secret-") && lower.contains("not found") {
            return HookToolError::SecretNotFound {
                tool: tool_s,
                stderr,
            };
        }
        if tool == "credential-get" && (denied || lower.contains("not trusted")) {
            return HookToolError::NotTrusted {
                tool: tool_s,
                stderr,
            };
        }
        let missing = lower.contains("not found") || lower.contains("could not download");
        if matches!(tool, "resource-get" | "storage-get" | "storage-list") && missing {
            return HookToolError::NotFound {
                tool: tool_s,
                stderr,
            };
        }
        if denied {
            return HookToolError::PermissionDenied {
                tool: tool_s,
                stderr,
            };
        }
        HookToolError::Failed {
            tool: tool_s,
            code,
            stderr,
        }
    }

    /// The hook tool that failed.
    pub fn tool(&self) -> &str {
        match self {
            HookToolError::RelationNotFound { tool, .. }
            | HookToolError::SecretNotFound { tool, .. }
            | HookToolError::PermissionDenied { tool, .. }
            | HookToolError::Failed { tool, .. }
            | HookToolError::Spawn { tool, .. }
            | HookToolError::TooLong { tool, .. }
            | HookToolError::TimedOut { tool, .. }
            | HookToolError::BadOutput { tool, .. }
            | HookToolError::InvalidArgument { tool, .. }
            | HookToolError::NotFound { tool, .. }
            | HookToolError::NotTrusted { tool, .. } => tool,
        }
    }
}

/// ops' `relation (\d+ )?not found`, on lower-cased text.
fn relation_not_found(lower: &str) -> bool {
    let mut rest = lower;
    while let Some(pos) = rest.find("relation ") {
        let after = &rest[pos + "relation ".len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let tail = if digits > 0 {
            after[digits..].strip_prefix(' ')
        } else {
            Some(after)
        };
        if tail.is_some_and(|t| t.starts_with("not found")) {
            return true;
        }
        rest = after;
    }
    false
}

/// Every hook tool a charm uses, typed. Implementations must pass secret content out of argv.
pub trait HookTools {
    /// `relation-ids <endpoint> --format=json`
    fn relation_ids(&mut self, endpoint: &str) -> Result<Vec<RelationId>, HookToolError>;
    /// `relation-list --format=json -r <R>`: remote units.
    fn relation_list(&mut self, relation: &RelationId) -> Result<Vec<String>, HookToolError>;
    /// `relation-list --format=json --app -r <R>`: the remote application, if known.
    fn relation_remote_app(
        &mut self,
        relation: &RelationId,
    ) -> Result<Option<String>, HookToolError>;
    /// `relation-get --format=json -r <R> [--app] - <unit-or-app>`
    fn relation_get(
        &mut self,
        relation: &RelationId,
        owner: &str,
        app: bool,
    ) -> Result<BagData, HookToolError>;
    /// `relation-set -r <R> [--app] --file -` with the changes as JSON on stdin; `""` deletes a key.
    fn relation_set(
        &mut self,
        relation: &RelationId,
        app: bool,
        changes: &BagData,
    ) -> Result<(), HookToolError>;
    /// `relation-model-get --format=json -r <R>`: the remote model's UUID.
    fn relation_model_get(&mut self, relation: &RelationId) -> Result<String, HookToolError>;
    /// `config-get --format=json`
    fn config_get(&mut self) -> Result<serde_json::Map<String, serde_json::Value>, HookToolError>;
    /// `is-leader --format=json`
    fn is_leader(&mut self) -> Result<bool, HookToolError>;
    /// `status-get --include-data --format=json --application=<bool>`
    fn status_get(&mut self, app: bool) -> Result<Status, HookToolError>;
    /// `status-set --application=<bool> <status> [-- <message>]`
    fn status_set(&mut self, app: bool, status: &Status) -> Result<(), HookToolError>;
    /// `application-version-set -- <version>`
    fn application_version_set(&mut self, version: &str) -> Result<(), HookToolError>;
    /// `juju-log --log-level <LEVEL> -- <message>`
    fn juju_log(&mut self, level: LogLevel, message: &str) -> Result<(), HookToolError>;
    /// `action-get --format=json`
    fn action_get(&mut self) -> Result<serde_json::Value, HookToolError>;
    /// `action-set k=v ...` (flat dotted keys)
    fn action_set(&mut self, results: &BTreeMap<String, String>) -> Result<(), HookToolError>;
    /// `action-log -- <message>`
    fn action_log(&mut self, message: &str) -> Result<(), HookToolError>;
    /// `action-fail -- <message>`
    fn action_fail(&mut self, message: &str) -> Result<(), HookToolError>;
    /// `state-get --format=json`
    fn state_get(&mut self) -> Result<BTreeMap<String, String>, HookToolError>;
    /// `state-set --file -` with JSON on stdin
    fn state_set(&mut self, data: &BTreeMap<String, String>) -> Result<(), HookToolError>;
    /// `state-delete <key>`
    fn state_delete(&mut self, key: &str) -> Result<(), HookToolError>;
    /// `secret-add ... --owner=<owner> -- k#file=<path>...`: returns the new secret's id.
    fn secret_add(&mut self, secret: &NewSecret) -> Result<SecretId, HookToolError>;
    /// `secret-get --format=json [--label=L] [--peek|--refresh] [-- <id>]`
    fn secret_get(
        &mut self,
        id: Option<&SecretId>,
        label: Option<&str>,
        read: SecretRead,
    ) -> Result<SecretContent, HookToolError>;
    /// `secret-info-get --format=json -- <id>` or `secret-info-get --format=json --label=L`
    fn secret_info_get(
        &mut self,
        id: Option<&SecretId>,
        label: Option<&str>,
    ) -> Result<SecretInfo, HookToolError>;
    /// `secret-set [--label=L ...] -- <id> [k#file=<path>...]`
    fn secret_set(&mut self, id: &SecretId, update: &SecretUpdate) -> Result<(), HookToolError>;
    /// `secret-grant --relation=<id> [--unit=<unit>] -- <secret-id>`
    fn secret_grant(
        &mut self,
        id: &SecretId,
        relation: &RelationId,
        unit: Option<&str>,
    ) -> Result<(), HookToolError>;
    /// `secret-revoke --relation=<id> [--unit=<unit>] -- <secret-id>`
    fn secret_revoke(
        &mut self,
        id: &SecretId,
        relation: &RelationId,
        unit: Option<&str>,
    ) -> Result<(), HookToolError>;
    /// `secret-remove [--revision=N] -- <id>`
    fn secret_remove(&mut self, id: &SecretId, revision: Option<u32>) -> Result<(), HookToolError>;
    /// `secret-ids --format=json`
    fn secret_ids(&mut self) -> Result<Vec<SecretId>, HookToolError>;
    /// `open-port <port>`
    fn open_port(&mut self, port: Port) -> Result<(), HookToolError>;
    /// `close-port <port>`
    fn close_port(&mut self, port: Port) -> Result<(), HookToolError>;
    /// `opened-ports --format=json`
    fn opened_ports(&mut self) -> Result<Vec<Port>, HookToolError>;
    /// `goal-state --format=json`
    fn goal_state(&mut self) -> Result<crate::goal_state::GoalState, HookToolError>;
    /// `network-get --format=json [-r <id>] -- <binding>`
    fn network_get(
        &mut self,
        binding: &str,
        relation: Option<&RelationId>,
    ) -> Result<Network, HookToolError>;
    /// Any hook tool the framework does not wrap: `<tool> <args>` with `args` exactly as given
    /// (the caller puts `--` before its positional values); returns what the tool printed.
    fn run_tool(&mut self, tool: &ToolName, args: &[String]) -> Result<String, HookToolError>;
    /// `storage-get --format=json -s <name>/<index>`
    fn storage_get(&mut self, id: &StorageId) -> Result<StorageInfo, HookToolError>;
    /// `storage-list --format=json -- <name>`: the unit's instances of that storage.
    fn storage_list(&mut self, name: &str) -> Result<Vec<StorageId>, HookToolError>;
    /// `storage-add -- <name>=<count>`: more instances, added when the hook succeeds.
    fn storage_add(&mut self, name: &str, count: u32) -> Result<(), HookToolError>;
    /// `resource-get -- <name>`: the path of the fetched file resource.
    fn resource_get(&mut self, name: &str) -> Result<std::path::PathBuf, HookToolError>;
    /// `status-get --include-data --format=json --application=True`: the application's status
    /// with its units' (leader only).
    fn app_status_report(&mut self) -> Result<crate::app_status::AppStatusReport, HookToolError>;
    /// `credential-get --format=json` (trusted applications only).
    fn credential_get(&mut self) -> Result<crate::cloud::CloudSpec, HookToolError>;
    /// `juju-reboot`, or `juju-reboot --now` (Juju then kills the hook and runs it again after
    /// the reboot).
    fn juju_reboot(&mut self, now: bool) -> Result<(), HookToolError>;
    /// The Pebble of workload container `container` when this backend serves it (the test
    /// harness does); `None`, the default, means the container's socket.
    fn pebble(&mut self, container: &str) -> Option<std::rc::Rc<dyn crate::container::PebbleApi>> {
        let _ = container;
        None
    }
}

#[cfg(test)]
#[path = "mod_test.rs"]
mod tests;
