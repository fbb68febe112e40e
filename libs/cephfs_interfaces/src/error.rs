//! The library's error type: what was wrong, and where.

use crate::wire::WireError;
use charm::secret::SecretId;
use charm::{Classify, ModelError, Outcome, RelationId};

/// Why a requirer or provider operation failed.
///
/// Bad remote data and missing secrets become a Blocked status (a retry cannot fix them);
/// failed hook tools fail the hook.
#[derive(Debug, thiserror::Error)]
pub enum CephFsError {
    /// The remote application's bag does not follow the wire format.
    #[error("relation {relation} ({app}): {error}")]
    BadRemoteData {
        /// The relation.
        relation: RelationId,
        /// The remote application.
        app: String,
        /// What is wrong.
        #[source]
        error: WireError,
    },
    /// The auth secret named in `auth` does not exist (any more).
    #[error("relation {relation} ({app}): auth secret {uri} does not exist")]
    SecretNotFound {
        /// The relation.
        relation: RelationId,
        /// The remote application.
        app: String,
        /// The secret URI from `auth`.
        uri: SecretId,
    },
    /// The auth secret named in `auth` was not granted to this application.
    #[error("relation {relation} ({app}): auth secret {uri} is not granted to this application")]
    SecretNotGranted {
        /// The relation.
        relation: RelationId,
        /// The remote application.
        app: String,
        /// The secret URI from `auth`.
        uri: SecretId,
    },
    /// The auth secret's content does not follow the wire format.
    #[error("relation {relation} ({app}): auth secret {uri}: {error}")]
    BadSecret {
        /// The relation.
        relation: RelationId,
        /// The remote application.
        app: String,
        /// The secret URI from `auth`.
        uri: SecretId,
        /// What is wrong.
        #[source]
        error: WireError,
    },
    /// The charm asked to share auth info that cannot be sent.
    #[error("cannot share auth info on relation {relation}: {reason}")]
    InvalidAuth {
        /// The relation.
        relation: RelationId,
        /// What is wrong.
        reason: &'static str,
    },
    /// A model operation failed (a hook tool, or a rule Juju would enforce).
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl Classify for CephFsError {
    fn outcome(&self) -> Outcome {
        match self {
            CephFsError::Model(e) => e.outcome(),
            CephFsError::BadRemoteData { .. }
            | CephFsError::SecretNotFound { .. }
            | CephFsError::SecretNotGranted { .. }
            | CephFsError::BadSecret { .. }
            | CephFsError::InvalidAuth { .. } => Outcome::Blocked,
        }
    }
}

impl From<charm::HookToolError> for CephFsError {
    fn from(e: charm::HookToolError) -> Self {
        CephFsError::Model(ModelError::HookTool(e))
    }
}
