//! Exec: the body of `POST /v1/exec`, its async result, and the messages of its websockets.
//!
//! Websockets (`/v1/tasks/<task-id>/websocket/<id>`): `control`, `stdio`, and `stderr` when
//! `split-stderr` is set. Binary frames carry bytes; a text frame [`WsCommand::End`] is end of
//! input (client → server on stdio) or end of output (server → client on stdio and stderr).
//! `control` carries [`WsCommand::Signal`] and [`WsCommand::Resize`] from the client.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::duration::GoDuration;

/// Body of `POST /v1/exec`. Like ops, every key is sent; unset ones as `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ExecRequest {
    /// The argv; `command[0]` is looked up on Pebble's `PATH`.
    pub command: Vec<String>,
    /// A service whose environment, user/group and working dir are the base.
    #[serde(default)]
    pub service_context: Option<String>,
    /// Environment on top of the context's.
    #[serde(default, deserialize_with = "crate::wire::null_default")]
    pub environment: BTreeMap<String, String>,
    /// Working directory (default: the user's home, or `/`).
    #[serde(default)]
    pub working_dir: Option<String>,
    /// Kill the command after this long; the change then fails.
    #[serde(default)]
    pub timeout: Option<GoDuration>,
    /// UID to run as.
    #[serde(default)]
    pub user_id: Option<u32>,
    /// User to run as.
    #[serde(default)]
    pub user: Option<String>,
    /// GID to run as.
    #[serde(default)]
    pub group_id: Option<u32>,
    /// Group to run as.
    #[serde(default)]
    pub group: Option<String>,
    /// Allocate a PTY.
    #[serde(default)]
    pub terminal: bool,
    /// Interactive PTY (needs `terminal`).
    #[serde(default)]
    pub interactive: bool,
    /// PTY width.
    #[serde(default)]
    pub width: Option<u32>,
    /// PTY height.
    #[serde(default)]
    pub height: Option<u32>,
    /// Send stderr on its own websocket instead of mixing it into stdio.
    #[serde(default)]
    pub split_stderr: bool,
}

/// `result` of the 202 answer to `POST /v1/exec`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ExecResult {
    /// The task whose websockets to open.
    pub task_id: String,
    /// The process's final environment.
    #[serde(default, deserialize_with = "crate::wire::null_default")]
    pub environment: BTreeMap<String, String>,
    /// The process's working directory.
    #[serde(default)]
    pub working_dir: String,
}

/// A text message on an exec websocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "lowercase")]
pub enum WsCommand {
    /// End of input or of output.
    End,
    /// Send a signal to the process (control websocket).
    Signal {
        /// The signal.
        signal: WsSignal,
    },
    /// Resize the PTY (control websocket).
    Resize {
        /// The new size.
        resize: WsResize,
    },
}

/// The signal of a [`WsCommand::Signal`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WsSignal {
    /// E.g. `SIGTERM`.
    pub name: String,
}

/// The size of a [`WsCommand::Resize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WsResize {
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
}

/// The websocket IDs of an exec task.
pub mod websocket {
    /// Signals and resizes, client to server; closed by the server when the process exits.
    pub const CONTROL: &str = "control";
    /// stdin, and stdout (plus stderr unless split).
    pub const STDIO: &str = "stdio";
    /// stderr, when `split-stderr` is set.
    pub const STDERR: &str = "stderr";
}
