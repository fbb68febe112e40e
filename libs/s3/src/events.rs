//! The library's events. None of them carries a credential: handlers read the connection info with
//! [`S3Requirer::connection_info`](crate::S3Requirer::connection_info), so that credentials never
//! reach deferral records, the charm state file or the local model's timeline.

use charm::{CustomEvent, RelationId};
use serde::{Deserialize, Serialize};

/// Provider side: a requirer asked for connection info. v0 requirer: its `bucket` was added or
/// changed. v1 requirer: any change on the relation once it has spoken (as the Python v1
/// library; answering again with the same info writes nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsRequested {
    /// The relation.
    pub relation: RelationId,
    /// The requiring application, when known.
    pub app: Option<String>,
    /// The bucket asked for; empty when a v1 requirer asked for none.
    pub bucket: String,
    /// The path asked for (v1 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Whether the requirer speaks v1 (credentials go into a secret).
    #[serde(default)]
    pub v1: bool,
}

impl CustomEvent for CredentialsRequested {
    const NAME: &'static str = "s3.credentials_requested";

    fn live_relation(&self) -> Option<&RelationId> {
        Some(&self.relation)
    }
}

/// Requirer side: usable credentials arrived on a relation, or something in them changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsChanged {
    /// The relation.
    pub relation: RelationId,
    /// The providing application, when known.
    pub app: Option<String>,
    /// The bucket the provider gave.
    pub bucket: String,
    /// The endpoint the provider gave, if any.
    pub endpoint: Option<String>,
}

impl CustomEvent for CredentialsChanged {
    const NAME: &'static str = "s3.credentials_changed";

    fn live_relation(&self) -> Option<&RelationId> {
        Some(&self.relation)
    }
}

/// Requirer side: the relation is being removed, with its credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsGone {
    /// The relation.
    pub relation: RelationId,
    /// The providing application, when Juju says.
    pub app: Option<String>,
}

impl CustomEvent for CredentialsGone {
    const NAME: &'static str = "s3.credentials_gone";
}
