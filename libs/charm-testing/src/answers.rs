//! What the hook tools the framework does not wrap answer in a test: the escape hatch
//! (`Ctx::run_tool`) reaches any tool, so the test says what each one prints.

use crate::state::State;
use charm::backend::HookToolError;

/// How a hook tool run through the escape hatch answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolAnswer {
    /// Exits 0 and prints this on stdout.
    Prints(String),
    /// Exits with this code and prints this on stderr (e.g. `ERROR ...`).
    Fails {
        /// Exit code.
        code: i32,
        /// Standard error.
        stderr: String,
    },
}

impl State {
    /// `tool`, run through the escape hatch, prints `stdout` and succeeds.
    pub fn tool_answer(mut self, tool: &str, stdout: &str) -> Self {
        self.tool_answers
            .insert(tool.to_string(), ToolAnswer::Prints(stdout.to_string()));
        self
    }

    /// `tool`, run through the escape hatch, exits with `code` and prints `stderr`.
    pub fn tool_failure(mut self, tool: &str, code: i32, stderr: &str) -> Self {
        self.tool_answers.insert(
            tool.to_string(),
            ToolAnswer::Fails {
                code,
                stderr: stderr.to_string(),
            },
        );
        self
    }
}

impl State {
    /// File resource `name` is at `path` (what `resource-get` prints); a resource not given
    /// fails as one that was never uploaded.
    pub fn resource(mut self, name: &str, path: impl Into<std::path::PathBuf>) -> Self {
        self.resources.insert(name.to_string(), path.into());
        self
    }
}

/// `resource-get <name>`.
pub(crate) fn resource(state: &State, name: &str) -> Result<std::path::PathBuf, HookToolError> {
    state.resources.get(name).cloned().ok_or_else(|| {
        HookToolError::classify(
            "resource-get",
            1,
            &format!("ERROR could not download resource: resource {name:?} not found"),
            false,
        )
    })
}

/// `tool` as a `&'static str`, for [`Call::tool`](crate::Call::tool): the framework's tools
/// are literals already; a tool run through the escape hatch (a checked name of at most 64
/// bytes) is stored once per process, so the set stays as small as the tools tests name.
pub(crate) fn intern(tool: &str) -> &'static str {
    use std::collections::BTreeSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(|| Mutex::new(BTreeSet::new()));
    let mut names = match names.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(known) = names.get(tool) {
        return known;
    }
    let name: &'static str = Box::leak(tool.to_string().into_boxed_str());
    names.insert(name);
    name
}

/// The answer the test gave for `tool`; a tool it did not answer is not installed, as a tool
/// missing from `PATH` would be.
pub(crate) fn answer(state: &State, tool: &str) -> Result<String, HookToolError> {
    match state.tool_answers.get(tool) {
        Some(ToolAnswer::Prints(stdout)) => Ok(stdout.clone()),
        Some(ToolAnswer::Fails { code, stderr }) => {
            Err(HookToolError::classify(tool, *code, stderr, false))
        }
        None => Err(HookToolError::Spawn {
            tool: tool.to_string(),
            detail: "no such hook tool: the test's State does not answer it (State::tool_answer)"
                .to_string(),
        }),
    }
}
