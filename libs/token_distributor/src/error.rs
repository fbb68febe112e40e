//! The library's error type.

use crate::cli::CliError;
use crate::hostname::HostnameError;
use crate::wire::WireError;
use charm::{Classify, ModelError, Outcome, RelationId};

/// Everything that can go wrong in the token distributor library.
#[derive(Debug, thiserror::Error)]
pub enum TokenDistributorError {
    /// A model operation failed (hook tool, access rule, stored state).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The cluster CLI failed or printed garbage.
    #[error(transparent)]
    Cli(#[from] CliError),
    /// The node name is unusable.
    #[error(transparent)]
    Hostname(#[from] HostnameError),
    /// A remote bag does not fit the wire contract.
    #[error("relation {relation}, {owner}: {source}")]
    Wire {
        /// The relation.
        relation: RelationId,
        /// Whose bag it is: `unit <name>` or `application <name>`.
        owner: String,
        /// What is wrong.
        source: WireError,
    },
}

impl TokenDistributorError {
    /// A problem in the bag of remote unit `unit` on `relation`.
    pub fn unit_bag(relation: &RelationId, unit: &str, source: WireError) -> Self {
        TokenDistributorError::Wire {
            relation: relation.clone(),
            owner: format!("unit {unit}"),
            source,
        }
    }

    /// A problem in the bag of remote application `app` on `relation`.
    pub fn app_bag(relation: &RelationId, app: &str, source: WireError) -> Self {
        TokenDistributorError::Wire {
            relation: relation.clone(),
            owner: format!("application {app}"),
            source,
        }
    }
}

impl Classify for TokenDistributorError {
    fn outcome(&self) -> Outcome {
        match self {
            TokenDistributorError::Model(e) => e.outcome(),
            TokenDistributorError::Cli(e) => e.outcome(),
            TokenDistributorError::Hostname(e) => e.outcome(),
            TokenDistributorError::Wire { source, .. } => source.outcome(),
        }
    }
}
