//! The library's error type: what was wrong, and where.

use crate::wire::WireError;
use charm::{Classify, ModelError, Outcome, RelationId};

/// Why a requirer or provider operation failed.
///
/// Bad remote data, a missing or unreadable secret and invalid data given to the provider
/// become a Blocked status (a retry cannot fix them); failed hook tools fail the hook. No
/// message contains a key.
#[derive(Debug, thiserror::Error)]
pub enum FilesystemInfoError {
    /// The provider's `endpoint` is not a URI this library accepts.
    #[error("relation {relation} ({app}): {error}")]
    BadEndpoint {
        /// The relation.
        relation: RelationId,
        /// The provider application.
        app: String,
        /// What is wrong.
        #[source]
        error: WireError,
    },
    /// The auth secret named in the endpoint does not exist (any more).
    #[error("relation {relation} ({app}): auth secret {uri} does not exist")]
    SecretNotFound {
        /// The relation.
        relation: RelationId,
        /// The provider application.
        app: String,
        /// The secret URI from the endpoint.
        uri: String,
    },
    /// The auth secret named in the endpoint is not granted to this application.
    #[error("relation {relation} ({app}): auth secret {uri} is not granted to this application")]
    SecretNotGranted {
        /// The relation.
        relation: RelationId,
        /// The provider application.
        app: String,
        /// The secret URI from the endpoint.
        uri: String,
    },
    /// The auth secret has no `key`.
    #[error("relation {relation} ({app}): auth secret {uri} has no \"key\"")]
    BadSecret {
        /// The relation.
        relation: RelationId,
        /// The provider application.
        app: String,
        /// The secret URI from the endpoint.
        uri: String,
    },
    /// The provider was asked to publish data its clients could not read.
    #[error("cannot publish the filesystem: {0}")]
    InvalidInfo(#[source] WireError),
    /// The URI the provider stored in its peer relation does not parse (it was changed by hand).
    #[error("the endpoint stored in the peer relation is unusable: {0}")]
    BadStoredEndpoint(#[source] WireError),
    /// A model operation failed (a hook tool, or a rule Juju would enforce).
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl Classify for FilesystemInfoError {
    fn outcome(&self) -> Outcome {
        match self {
            FilesystemInfoError::Model(e) => e.outcome(),
            FilesystemInfoError::BadEndpoint { .. }
            | FilesystemInfoError::SecretNotFound { .. }
            | FilesystemInfoError::SecretNotGranted { .. }
            | FilesystemInfoError::BadSecret { .. }
            | FilesystemInfoError::InvalidInfo(_)
            | FilesystemInfoError::BadStoredEndpoint(_) => Outcome::Blocked,
        }
    }
}

impl From<charm::HookToolError> for FilesystemInfoError {
    fn from(e: charm::HookToolError) -> Self {
        FilesystemInfoError::Model(ModelError::HookTool(e))
    }
}
