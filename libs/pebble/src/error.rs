//! What a Pebble call can fail with, distinguished as ops distinguishes it.
//!
//! | variant | ops | when |
//! | --- | --- | --- |
//! | [`Error::Connection`] | `ConnectionError` | the socket is missing, refuses, or a connect/read/write times out or breaks |
//! | [`Error::Protocol`] | `ProtocolError` | the answer is not what the API promises (garbage, wrong content type, bad multipart) |
//! | [`Error::Api`] | `APIError` | Pebble answered with an error status: code, kind, message |
//! | [`Error::Change`] | `ChangeError` | a waited change finished with an error; the change is attached |
//! | [`Error::Timeout`] | `TimeoutError` | a change was not ready by the deadline |
//! | [`Error::Exec`] | `ExecError` | a command exited non-zero; exit code and captured output attached |
//! | [`Error::Path`] | `PathError` | a file operation failed for its path (kind, message) |
//! | [`Error::Local`] | — | the caller's own reader or writer failed |
//! | [`Error::TooLarge`] | — | a buffered response or captured output passed its limit |

use std::fmt;
use std::path::PathBuf;

use crate::types::{Change, ErrorKind};

/// Why the socket could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionErrorKind {
    /// No socket at the path (the container is not up yet, or restarted).
    SocketMissing,
    /// Something is at the path but nobody accepts connections.
    Refused,
    /// Connecting, reading or writing took longer than the timeout.
    TimedOut,
    /// Pebble closed the connection before the answer was complete.
    Closed,
    /// Any other I/O error.
    Io,
}

/// Pebble could not be reached or the connection broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot connect to Pebble at {}: {message}", socket.display())]
pub struct ConnectionError {
    /// The socket path.
    pub socket: PathBuf,
    /// What happened.
    pub kind: ConnectionErrorKind,
    /// Details.
    pub message: String,
}

/// Pebble answered with an error status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status_code: u16,
    /// The reason phrase.
    pub status: String,
    /// The error kind, when Pebble gives one.
    pub kind: Option<ErrorKind>,
    /// Pebble's message.
    pub message: String,
}

/// A change finished with an error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ChangeError {
    /// The change's `err`.
    pub err: String,
    /// The change.
    pub change: Box<Change>,
}

impl fmt::Display for ChangeError {
    /// The error, then the last log lines of each task (as ops does).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.err)?;
        for task in &self.change.tasks {
            if task.log.is_empty() {
                continue;
            }
            write!(f, "\n----- Logs from task {} -----", task.id)?;
            for line in &task.log {
                write!(f, "\n{line}")?;
            }
        }
        Ok(())
    }
}

/// A command exited with a non-zero code.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("command {command:?} exited with code {exit_code}")]
pub struct ExecError {
    /// The argv.
    pub command: Vec<String>,
    /// The exit code (`128 + signal` if killed by a signal).
    pub exit_code: i64,
    /// Captured stdout (empty when streamed).
    pub stdout: Vec<u8>,
    /// Captured stderr (empty when streamed or combined into stdout).
    pub stderr: Vec<u8>,
}

impl fmt::Debug for ExecError {
    // Output can be large and may hold secrets: Debug shows sizes only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecError")
            .field("command", &self.command)
            .field("exit_code", &self.exit_code)
            .field("stdout_len", &self.stdout.len())
            .field("stderr_len", &self.stderr.len())
            .finish()
    }
}

/// A file operation failed for a path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PathError {
    /// The path.
    pub path: String,
    /// `not-found`, `permission-denied`, `generic-file-error`, …
    pub kind: ErrorKind,
    /// Pebble's message (an OS error string such as `stat /x: no such file or directory`).
    pub message: String,
}

/// Everything a Pebble call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Pebble could not be reached, or the connection broke.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// The answer does not follow the API.
    #[error("Pebble protocol error: {0}")]
    Protocol(String),
    /// Pebble answered with an error.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A change finished with an error.
    #[error(transparent)]
    Change(#[from] ChangeError),
    /// A change was not ready by the deadline.
    #[error("timed out waiting for change {change_id}")]
    Timeout {
        /// The change.
        change_id: String,
    },
    /// A command exited non-zero.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// A file operation failed for a path.
    #[error(transparent)]
    Path(#[from] PathError),
    /// Reading the caller's input (push content, exec stdin) or writing the caller's output
    /// (pull target, streamed exec output) failed.
    #[error("local I/O error: {0}")]
    Local(#[source] std::io::Error),
    /// A buffered response or captured output passed its limit.
    #[error("{what} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
}

impl Error {
    /// Whether Pebble was unreachable (the "container not ready yet" case).
    pub fn is_connection(&self) -> bool {
        matches!(self, Error::Connection(_))
    }

    /// The API status code, for [`Error::Api`].
    pub fn status_code(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status_code),
            _ => None,
        }
    }

    /// Whether this is a "not found" error: an API 404 or a `not-found` path error.
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::Api(e) => e.status_code == 404,
            Error::Path(e) => e.kind == ErrorKind::NotFound,
            _ => false,
        }
    }
}
