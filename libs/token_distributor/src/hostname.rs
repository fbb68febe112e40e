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
mod tests {
    use super::*;

    #[test]
    fn the_system_name_matches_uname() {
        let name = system().unwrap();
        let uname = std::process::Command::new("uname")
            .arg("-n")
            .output()
            .unwrap();
        assert_eq!(name, String::from_utf8_lossy(&uname.stdout).trim());
    }

    #[test]
    fn files_are_trimmed_and_checked() {
        let dir = std::env::temp_dir().join(format!("td-hostname-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("h");
        std::fs::write(&f, "node-7\n").unwrap();
        assert_eq!(from_file(&f).unwrap(), "node-7");
        std::fs::write(&f, "-x\n").unwrap();
        assert!(matches!(from_file(&f), Err(HostnameError::Invalid { .. })));
        assert!(matches!(
            from_file(&dir.join("missing")),
            Err(HostnameError::Read { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_set_variable_overrides_the_system_name() {
        let system = || Ok("machine".to_string());
        let pick = |v: Option<&str>| override_or(v.map(str::to_string), "NODE", system);
        assert_eq!(pick(Some("node-2")).unwrap(), "node-2");
        assert_eq!(pick(Some(" node-2\n")).unwrap(), "node-2");
        assert_eq!(pick(Some("")).unwrap(), "machine");
        assert_eq!(pick(None).unwrap(), "machine");
        let err = pick(Some("no good")).unwrap_err();
        assert!(err.to_string().contains("$NODE"), "{err}");
    }

    #[test]
    fn an_unset_variable_falls_back_to_the_system() {
        assert_eq!(
            from_env_or_system("TOKEN_DISTRIBUTOR_TEST_SURELY_UNSET").unwrap(),
            system().unwrap()
        );
    }
}
