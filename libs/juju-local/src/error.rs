//! Error types: every failure names what went wrong and where.

use std::path::PathBuf;

/// Anything that can go wrong while driving a local model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read, written or created.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being attempted ("cannot read", "cannot create", ...).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The model state file exists but cannot be parsed.
    #[error("malformed model state {path}: {message}")]
    MalformedState {
        /// The state file.
        path: PathBuf,
        /// The parser's complaint.
        message: String,
    },
    /// A charm directory is missing a required file or has invalid metadata.
    #[error("invalid charm {path}: {message}")]
    Charm {
        /// The charm directory or file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// There is no model in the given directory.
    #[error("no model in {0} (run `juju-local init` first)")]
    NoModel(PathBuf),
    /// A model already exists in the directory given to `init`.
    #[error("a model already exists in {0}")]
    ModelExists(PathBuf),
    /// An application, unit, relation, secret or action that does not exist.
    #[error("{kind} {name:?} not found")]
    NotFound {
        /// What kind of thing was looked up.
        kind: &'static str,
        /// The name that was looked up.
        name: String,
    },
    /// A request that the model rejects (bad config value, relation limit, duplicate, ...).
    #[error("{0}")]
    Invalid(String),
    /// Usage error on the command line.
    #[error("{0}")]
    Usage(String),
    /// A hook could not be started (the dispatch file is missing or not executable, fork failed).
    #[error("cannot run {hook} on {unit}: {message}")]
    Spawn {
        /// The unit.
        unit: String,
        /// The hook.
        hook: String,
        /// Why it could not start.
        message: String,
    },
    /// `settle` ran its maximum number of hooks and there was still work to do.
    #[error("model did not settle after {0} hooks (pending: {1})")]
    DidNotSettle(usize, String),
    /// A YAML or JSON document could not be read or written.
    #[error("{what}: {message}")]
    Format {
        /// Which document.
        what: String,
        /// The parser's complaint.
        message: String,
    },
    /// A scenario expectation did not hold.
    #[error("scenario {file}: step {step}: {message}")]
    Scenario {
        /// The scenario file.
        file: String,
        /// The 1-based step number.
        step: usize,
        /// What failed.
        message: String,
    },
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Builds an [`Error::Io`] for `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// Builds an [`Error::NotFound`].
    pub fn not_found(kind: &'static str, name: impl Into<String>) -> Self {
        Error::NotFound {
            kind,
            name: name.into(),
        }
    }
}
