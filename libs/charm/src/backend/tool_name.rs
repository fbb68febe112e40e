//! The name of a hook tool run through the escape hatch ([`HookTools::run_tool`](super::HookTools::run_tool)).

use super::HookToolError;
use std::fmt;

/// The longest hook tool name accepted (Juju's are under 30 characters).
const MAX_TOOL_NAME: usize = 64;

/// A hook tool's name, checked: lowercase ASCII letters, digits and single `-`, starting with a
/// letter. It is looked up on `PATH` (or in the tools directory), so it can name nothing else: no
/// `/`, no option, no path outside the tools.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ToolName(String);

impl ToolName {
    /// Checks `name`; a bad one is [`HookToolError::InvalidArgument`].
    pub fn new(name: &str) -> Result<ToolName, HookToolError> {
        let bad = |why: &str| HookToolError::InvalidArgument {
            tool: "hook tool".to_string(),
            detail: format!("{:?} is not a hook tool name: {why}", clip(name)),
        };
        if name.is_empty() || name.len() > MAX_TOOL_NAME {
            return Err(bad(&format!("expected 1 to {MAX_TOOL_NAME} characters")));
        }
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(bad("it must start with a lowercase letter"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(bad("only lowercase letters, digits and '-' are allowed"));
        }
        if name.ends_with('-') || name.contains("--") {
            return Err(bad("'-' only between words"));
        }
        Ok(ToolName(name.to_string()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ToolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// At most 64 characters of a rejected name, for the error message.
fn clip(text: &str) -> String {
    text.chars().take(MAX_TOOL_NAME).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn juju_tool_names_are_accepted() {
        for name in ["juju-reboot", "leader-get", "k8s-spec-set", "unit-get", "x"] {
            assert_eq!(
                ToolName::new(name).map(|n| n.to_string()).ok().as_deref(),
                Some(name)
            );
        }
    }

    #[test]
    fn names_that_could_be_paths_or_options_are_refused() {
        for name in [
            "",
            "-r",
            "--help",
            "../bin/sh",
            "/bin/sh",
            "a/b",
            "Unit-get",
            "unit get",
            "unit-",
            "a--b",
            "1tool",
            "tool\n",
            "é",
        ] {
            assert!(
                matches!(
                    ToolName::new(name),
                    Err(HookToolError::InvalidArgument { .. })
                ),
                "{name:?} was accepted"
            );
        }
        assert!(ToolName::new(&"a".repeat(65)).is_err());
        assert!(ToolName::new(&"a".repeat(64)).is_ok());
    }
}
