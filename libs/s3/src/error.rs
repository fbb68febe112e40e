//! What can go wrong on either side of the relation, and what the dispatcher does about it.

use charm::{Classify, ModelError, Outcome, RelationId};

/// An s3 relation error; each names the relation and, for bad data, the key.
///
/// Messages never contain a credential: malformed-data messages name the key and what is wrong
/// with its value, not the value.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// The remote application sent a value that does not decode (bad remote data: Blocked).
    #[error("relation {relation} (application {app}): key {key:?} is malformed: {detail}")]
    Malformed {
        /// The relation.
        relation: RelationId,
        /// The remote application, or `?` when unknown.
        app: String,
        /// The offending key.
        key: String,
        /// What is wrong with its value.
        detail: String,
    },
    /// A write the charm asked for is not a valid value (e.g. an empty required field: Blocked).
    #[error("cannot send {key:?} on relation {relation}: {detail}")]
    InvalidValue {
        /// The relation.
        relation: RelationId,
        /// The key.
        key: &'static str,
        /// Why.
        detail: String,
    },
    /// Only the leader writes the application bag (a charm bug: fails the hook).
    #[error("only the leader can {action} on relation {relation}")]
    NotLeader {
        /// The relation.
        relation: RelationId,
        /// What was attempted.
        action: &'static str,
    },
    /// The relation is not a live relation of this endpoint (a charm bug: fails the hook).
    #[error("relation {relation} is not a live relation of endpoint {endpoint:?}")]
    UnknownRelation {
        /// The relation asked for.
        relation: RelationId,
        /// This library's endpoint.
        endpoint: String,
    },
    /// The provider names a credentials secret this unit cannot read, and sent no plain
    /// credentials either (Waiting: a grant or a new revision may come).
    #[error(
        "relation {relation} (application {app}): the credentials secret {secret} cannot be read ({why})"
    )]
    SecretUnavailable {
        /// The relation.
        relation: RelationId,
        /// The remote application, or `?` when unknown.
        app: String,
        /// The secret id from `secret-extra`.
        secret: String,
        /// Not found, not granted, or no credentials in it.
        why: &'static str,
    },
    /// The requirer has not said which version it speaks (no `version`, `lib-version` or
    /// `bucket` yet): nothing but the version keys may be sent (Waiting).
    #[error("relation {relation}: the requirer has not spoken yet, nothing can be sent")]
    NotReady {
        /// The relation.
        relation: RelationId,
    },
    /// The model refused or a hook tool failed.
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl Classify for S3Error {
    fn outcome(&self) -> Outcome {
        match self {
            S3Error::Malformed { .. } | S3Error::InvalidValue { .. } => Outcome::Blocked,
            S3Error::NotLeader { .. } | S3Error::UnknownRelation { .. } => Outcome::Fail,
            S3Error::SecretUnavailable { .. } | S3Error::NotReady { .. } => Outcome::Waiting,
            S3Error::Model(e) => e.outcome(),
        }
    }
}

impl S3Error {
    /// The offending key of a [`S3Error::Malformed`] or [`S3Error::InvalidValue`] error.
    pub fn key(&self) -> Option<&str> {
        match self {
            S3Error::Malformed { key, .. } => Some(key),
            S3Error::InvalidValue { key, .. } => Some(key),
            _ => None,
        }
    }
}
