//! What a handler returns when it cannot finish, and what the dispatcher does about it.
//!
//! Bad data from a remote app or from config cannot be fixed by retrying the hook, so it becomes a
//! Blocked or Waiting status and the hook exits 0 (everything already written stays). Only errors a
//! retry can help with (a hook tool or command that failed) fail the hook.

use std::fmt;

/// What the dispatcher does with a handler error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Fail the hook: exit non-zero without committing, so Juju retries it.
    Fail,
    /// Set the unit to Blocked with the error's message and finish the hook normally.
    Blocked,
    /// Set the unit to Waiting with the error's message and finish the hook normally.
    Waiting,
}

/// Tells the dispatcher how to treat an error type. Implement it for your own errors to use `?`.
pub trait Classify {
    /// The outcome this error should lead to.
    fn outcome(&self) -> Outcome;
}

/// The error type of handlers: a message, an [`Outcome`], and the underlying error.
pub struct Error {
    outcome: Outcome,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// An error that sets the unit to Blocked with `message`.
    pub fn blocked(message: impl Into<String>) -> Error {
        Error::new(Outcome::Blocked, message)
    }

    /// An error that sets the unit to Waiting with `message`.
    pub fn waiting(message: impl Into<String>) -> Error {
        Error::new(Outcome::Waiting, message)
    }

    /// An error that fails the hook.
    pub fn fail(message: impl Into<String>) -> Error {
        Error::new(Outcome::Fail, message)
    }

    /// An error with the given outcome.
    pub fn new(outcome: Outcome, message: impl Into<String>) -> Error {
        Error {
            outcome,
            message: message.into(),
            source: None,
        }
    }

    /// Wraps `source` with an explicit outcome (overriding its own classification).
    pub fn with_outcome<E>(outcome: Outcome, source: E) -> Error
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        Error {
            outcome,
            message: source.to_string(),
            source: Some(Box::new(source)),
        }
    }

    /// Prefixes the message with what was being done, e.g. `"reading the s3 relation"`.
    pub fn context(mut self, what: impl fmt::Display) -> Error {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// What the dispatcher will do with it.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// The message (becomes the status message for Blocked and Waiting).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The underlying error, if any.
    pub fn source(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }
}

impl<E> From<E> for Error
where
    E: std::error::Error + Classify + Send + Sync + 'static,
{
    fn from(source: E) -> Error {
        Error::with_outcome(source.outcome(), source)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("outcome", &self.outcome)
            .field("message", &self.message)
            .finish()
    }
}

/// Turns any `Result` into a handler result with a chosen outcome.
pub trait ResultExt<T> {
    /// Blocked, with `what` as context.
    fn or_blocked(self, what: &str) -> Result<T, Error>;
    /// Waiting, with `what` as context.
    fn or_waiting(self, what: &str) -> Result<T, Error>;
    /// Fail the hook, with `what` as context.
    fn or_fail(self, what: &str) -> Result<T, Error>;
}

impl<T, E: fmt::Display> ResultExt<T> for Result<T, E> {
    fn or_blocked(self, what: &str) -> Result<T, Error> {
        self.map_err(|e| Error::blocked(format!("{what}: {e}")))
    }
    fn or_waiting(self, what: &str) -> Result<T, Error> {
        self.map_err(|e| Error::waiting(format!("{what}: {e}")))
    }
    fn or_fail(self, what: &str) -> Result<T, Error> {
        self.map_err(|e| Error::fail(format!("{what}: {e}")))
    }
}

impl Classify for std::io::Error {
    fn outcome(&self) -> Outcome {
        Outcome::Fail
    }
}

impl Classify for serde_json::Error {
    fn outcome(&self) -> Outcome {
        Outcome::Fail
    }
}

impl Classify for crate::backend::HookToolError {
    fn outcome(&self) -> Outcome {
        Outcome::Fail
    }
}

/// A secret id from outside that Juju would never produce: bad remote data or config.
impl Classify for crate::secret::InvalidSecretId {
    fn outcome(&self) -> Outcome {
        Outcome::Blocked
    }
}

#[cfg(test)]
#[path = "error_test.rs"]
mod tests;
