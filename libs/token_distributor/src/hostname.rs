//! The node name of this unit: what the Python library takes from `os.uname().nodename`.
//!
//! Read from `/proc/sys/kernel/hostname` (the same UTS name `uname` returns, without libc).
//! Charms can replace the function given to the consumer; [`from_env_or_system`] lets an
//! environment variable override the system name (used by the local model, where several units
//! share one machine).

use crate::wire::check_node_name;
use charm::{Classify, Outcome};
use std::path::Path;

/// Where Linux exposes the UTS hostname.
pub const HOSTNAME_FILE: &str = "/proc/sys/kernel/hostname";

/// The node name could not be found or is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostnameError {
    /// The hostname file could not be read.
    #[error("cannot read the hostname from {path}: {detail}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        detail: String,
    },
    /// The name found is not a valid node name.
    #[error("the node name {name:?} from {source_name} is invalid: {why}")]
    Invalid {
        /// The name.
        name: String,
        /// Where it came from (a file or an environment variable).
        source_name: String,
        /// The rule it breaks.
        why: &'static str,
    },
}

impl Classify for HostnameError {
    fn outcome(&self) -> Outcome {
        // Retrying the hook cannot fix the machine's name: a human must.
        Outcome::Blocked
    }
}

fn checked(name: &str, source_name: &str) -> Result<String, HostnameError> {
    let name = name.trim();
    check_node_name(name).map_err(|why| HostnameError::Invalid {
        name: name.to_string(),
        source_name: source_name.to_string(),
        why,
    })?;
    Ok(name.to_string())
}

/// Reads a node name from a file (e.g. [`HOSTNAME_FILE`]), trimmed and checked.
pub fn from_file(path: &Path) -> Result<String, HostnameError> {
    let text = std::fs::read_to_string(path).map_err(|e| HostnameError::Read {
        path: path.display().to_string(),
        detail: e.to_string(),
    })?;
    checked(&text, &path.display().to_string())
}

/// This machine's hostname, as `uname -n` prints it.
pub fn system() -> Result<String, HostnameError> {
    from_file(Path::new(HOSTNAME_FILE))
}

/// `var` from the environment when it is set and not empty, else the system hostname.
pub fn from_env_or_system(var: &str) -> Result<String, HostnameError> {
    override_or(std::env::var(var).ok(), var, system)
}

/// The value of variable `var` when set and not empty (checked), else what `fallback` gives.
fn override_or(
    value: Option<String>,
    var: &str,
    fallback: impl FnOnce() -> Result<String, HostnameError>,
) -> Result<String, HostnameError> {
    match value {
        Some(name) if !name.trim().is_empty() => checked(&name, &format!("${var}")),
        _ => fallback(),
    }
}

#[cfg(test)]
#[path = "hostname_test.rs"]
mod tests;
