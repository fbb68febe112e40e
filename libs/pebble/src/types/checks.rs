//! Health checks: their status and the bodies of `POST /v1/checks[/refresh]`.

use serde::{Deserialize, Serialize};

use crate::plan::{CheckLevel, Startup};
use crate::wire::{null_default, wire_enum};

wire_enum! {
    /// `status` of a check.
    pub enum CheckStatus {
        /// Passing, or failing fewer times than its threshold.
        Up = "up",
        /// Failed `threshold` times in a row.
        Down = "down",
        /// Not running.
        Inactive = "inactive",
    }
}

fn enabled() -> Startup {
    Startup::Enabled
}

/// One entry of `GET /v1/checks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CheckInfo {
    /// The check name.
    pub name: String,
    /// Its level, if set.
    #[serde(
        default,
        deserialize_with = "crate::wire::empty_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub level: Option<CheckLevel>,
    /// Its startup (`enabled` when absent, as before Pebble v1.19).
    #[serde(default = "enabled")]
    pub startup: Startup,
    /// Current status.
    pub status: CheckStatus,
    /// Successes in a row (Pebble ≥ v1.23; absent before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successes: Option<u64>,
    /// Failures in a row (absent when zero).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero"
    )]
    pub failures: u64,
    /// Failures that make it `down`.
    pub threshold: u64,
    /// The change running it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
    /// The change that ran it before (Pebble ≥ v1.29).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_change_id: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

wire_enum! {
    /// `action` of `POST /v1/checks`.
    pub enum ChecksAction {
        /// Start the named checks.
        Start = "start",
        /// Stop the named checks.
        Stop = "stop",
    }
}

/// Body of `POST /v1/checks` (Pebble ≥ v1.19).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecksRequest {
    /// Start or stop.
    pub action: ChecksAction,
    /// The checks.
    #[serde(default, deserialize_with = "null_default")]
    pub checks: Vec<String>,
}

/// Result of `POST /v1/checks`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecksChanged {
    /// The checks actually started or stopped, sorted (older Pebbles sent `null`).
    #[serde(default, deserialize_with = "null_default")]
    pub changed: Vec<String>,
}

/// Body of `POST /v1/checks/refresh` (Pebble ≥ v1.20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRefreshRequest {
    /// The check to run now.
    pub name: String,
}

/// Result of `POST /v1/checks/refresh`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRefreshResult {
    /// The check after the run.
    pub info: CheckInfo,
    /// Why it failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
