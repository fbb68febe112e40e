//! Pebble, the service manager in every workload container of a Kubernetes sidecar charm.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`client`] | [`Client`]: the blocking client over Pebble's Unix socket |
//! | [`error`] | [`Error`]: connection, API, change, exec and path errors, as ops tells them apart |
//! | [`plan`] | layers and plans (serde, YAML) and Pebble's rules for combining them |
//! | [`types`] | the JSON of the HTTP API: envelope, errors, services, changes, checks, notices, files, exec |
//! | [`duration`] | Go duration text, as Pebble reads and writes it |

pub mod client;
pub mod duration;
pub mod error;
pub mod plan;
pub mod types;
mod wire;

pub use client::{
    Client, Exec, ExecOutput, ExecProcess, Limits, MakeDirOptions, PushOptions, Timeouts,
};
pub use duration::GoDuration;
pub use error::Error;
