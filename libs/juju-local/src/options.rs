//! How a model is set up: the hook-tool binary, the model name, the environment of every
//! dispatch, the bound on one charm process, and what a deployment asks for.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};

/// The default bound on one charm process (hook or action): 60 seconds.
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(60);

/// Environment variable giving the hook timeout in seconds (`0`: no limit).
pub const HOOK_TIMEOUT_ENV: &str = "JUJU_LOCAL_HOOK_TIMEOUT";

/// Parses a hook timeout in seconds (decimals allowed); `0` means no limit.
pub fn parse_hook_timeout(text: &str) -> Result<Option<Duration>> {
    let invalid = || {
        Error::Invalid(format!(
            "invalid hook timeout {text:?}: expected a number of seconds (0 for no limit)"
        ))
    };
    let secs: f64 = text.trim().parse().map_err(|_| invalid())?;
    if secs == 0.0 {
        return Ok(None);
    }
    if !secs.is_finite() || secs < 0.0 {
        return Err(invalid());
    }
    Duration::try_from_secs_f64(secs)
        .map(Some)
        .map_err(|_| invalid())
}

/// Formats a timeout for messages: `60`, `1.5`.
pub(crate) fn format_secs(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        d.as_secs().to_string()
    } else {
        let s = format!("{:.3}", d.as_secs_f64());
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// How a model finds the hook-tool binary and names itself.
#[derive(Debug, Clone)]
pub struct ModelOptions {
    /// The `juju-local` binary; the tools directory links every hook-tool name to it.
    pub tool_binary: PathBuf,
    /// The model name used by `init` (`JUJU_MODEL_NAME`).
    pub name: String,
    /// Extra environment variables passed to every dispatch. A `PATH` here replaces the
    /// driver's own `PATH` after the hook-tools directory.
    pub env: BTreeMap<String, String>,
    /// How long one charm process (hook or action) may run before it and its process group are
    /// killed with SIGKILL and the hook fails with `hook <name> on <unit> timed out after N s`.
    /// `None`: no limit.
    pub hook_timeout: Option<Duration>,
    /// Whether workload-container daemons outlive this process (the CLI: the next command finds
    /// them). Otherwise (the default, for tests and programs) each gets SIGTERM when the thread
    /// that started it ends.
    pub detach_containers: bool,
}

impl ModelOptions {
    /// Options using `tool_binary`, the model name `local` and the hook timeout from
    /// `$JUJU_LOCAL_HOOK_TIMEOUT` when it is set and valid, else [`DEFAULT_HOOK_TIMEOUT`].
    pub fn new(tool_binary: impl Into<PathBuf>) -> ModelOptions {
        let hook_timeout = std::env::var(HOOK_TIMEOUT_ENV)
            .ok()
            .and_then(|v| parse_hook_timeout(&v).ok())
            .unwrap_or(Some(DEFAULT_HOOK_TIMEOUT));
        ModelOptions {
            tool_binary: tool_binary.into(),
            name: "local".into(),
            env: BTreeMap::new(),
            hook_timeout,
            detach_containers: false,
        }
    }
}

/// Options for [`Model::deploy`](crate::Model::deploy).
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    /// The application name (defaults to the charm name).
    pub app: Option<String>,
    /// Number of units (defaults to 1).
    pub units: Option<u32>,
    /// Initial config values as `key=value` strings.
    pub config: Vec<(String, String)>,
    /// Extra environment for every hook of every unit of the app. `{unit}` (e.g. `node/1`),
    /// `{app}`, `{n}` (the unit number) and `{model}` (the model directory) in values are
    /// replaced per unit, which lets one
    /// machine stand in for several (e.g. `MICROCLUSTER_NODE_NAME=node-{n}`).
    pub env: Vec<(String, String)>,
    /// Storage instances per unit, `(name, count)` (`--storage name=count`); storage not
    /// named gets metadata's minimum.
    pub storage: Vec<(String, u32)>,
    /// File resources, `(name, path)` (`--resource name=path`).
    pub resources: Vec<(String, PathBuf)>,
    /// Grant the application `trust` (`--trust`): `credential-get` answers.
    pub trust: bool,
}
