//! Pebble, the service manager in every workload container of a Kubernetes sidecar charm.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`plan`] | layers and plans (serde, YAML) and Pebble's rules for combining them |
//! | [`types`] | the JSON of the HTTP API: envelope, errors, services, changes, checks, notices, files, exec |
//! | [`duration`] | Go duration text, as Pebble reads and writes it |

pub mod duration;
pub mod plan;
pub mod types;
mod wire;

pub use duration::GoDuration;
