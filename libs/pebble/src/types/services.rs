//! Services: their status, and the bodies of `POST /v1/services`, `/v1/layers`, `/v1/signals`.

use serde::{Deserialize, Serialize};

use crate::plan::Startup;
use crate::wire::{is_false, wire_enum};

wire_enum! {
    /// `current` status of a service.
    pub enum ServiceStatus {
        /// Starting or running.
        Active = "active",
        /// Stopped, stopping, or never started.
        Inactive = "inactive",
        /// Waiting to be restarted after it exited.
        Backoff = "backoff",
        /// Exited and not restarted.
        Error = "error",
    }
}

/// One entry of `GET /v1/services`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ServiceInfo {
    /// The service name.
    pub name: String,
    /// `enabled` only if the plan says `startup: enabled`, otherwise `disabled`.
    pub startup: Startup,
    /// The current status.
    pub current: ServiceStatus,
    /// When `current` last changed (absent if never started).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_since: Option<String>,
}

impl ServiceInfo {
    /// Whether the service is running (`active`).
    pub fn is_running(&self) -> bool {
        self.current == ServiceStatus::Active
    }
}

wire_enum! {
    /// `action` of `POST /v1/services`.
    pub enum ServicesAction {
        /// Start the named services (and what they require).
        Start = "start",
        /// Stop the named services (and what requires them).
        Stop = "stop",
        /// Stop then start the named services.
        Restart = "restart",
        /// Restart changed services and start the `startup: enabled` ones (no names).
        Replan = "replan",
        /// Start the `startup: enabled` services (no names).
        Autostart = "autostart",
    }
}

/// Body of `POST /v1/services`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicesRequest {
    /// What to do.
    pub action: ServicesAction,
    /// To which services (empty for `replan` and `autostart`).
    #[serde(default, deserialize_with = "crate::wire::null_default")]
    pub services: Vec<String>,
}

/// Body of `POST /v1/layers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRequest {
    /// Always `add`.
    pub action: String,
    /// The layer's label.
    pub label: String,
    /// Combine into an existing layer with this label instead of failing.
    #[serde(default)]
    pub combine: bool,
    /// Allow inserting a `dir/name` layer below later layers (ops never sends it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub inner: bool,
    /// Always `yaml`.
    pub format: String,
    /// The layer YAML.
    pub layer: String,
}

impl LayerRequest {
    /// An `add` request for layer YAML, as ops sends it.
    pub fn add(label: impl Into<String>, yaml: impl Into<String>, combine: bool) -> LayerRequest {
        LayerRequest {
            action: "add".into(),
            label: label.into(),
            combine,
            inner: false,
            format: "yaml".into(),
            layer: yaml.into(),
        }
    }
}

/// Body of `POST /v1/signals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalsRequest {
    /// The signal name with its `SIG` prefix, e.g. `SIGHUP`.
    pub signal: String,
    /// The services to signal.
    pub services: Vec<String>,
}
