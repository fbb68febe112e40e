//! The consumer's events, as the Python library's `TokenConsumerEvents`.
//!
//! They are emitted with `ctx.emit` and handled with `charm.on_event::<E>(...)`. `PreBootstrap`
//! and `PreJoin` are handled *before* the `bootstrap`/`join` command runs (the command runs in a
//! library step queued right behind them), so a charm can prepare its workload there.

use charm::CustomEvent;
use serde::{Deserialize, Serialize};

/// This unit is about to bootstrap the cluster (Python `prebootstrap`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreBootstrap {}

impl CustomEvent for PreBootstrap {
    const NAME: &'static str = "token_distributor.cluster_pre_bootstrap";
    const ALIASES: &'static [&'static str] = &["ClusterPreBootstrap"];
}

/// This unit bootstrapped the cluster (Python `bootstrapped`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bootstrapped {}

impl CustomEvent for Bootstrapped {
    const NAME: &'static str = "token_distributor.cluster_bootstrapped";
    const ALIASES: &'static [&'static str] = &["ClusterBootstrapped"];
}

/// This unit is about to join the cluster with a token (Python `prejoin`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreJoin {}

impl CustomEvent for PreJoin {
    const NAME: &'static str = "token_distributor.cluster_pre_join";
    const ALIASES: &'static [&'static str] = &["ClusterPreJoin"];
}

/// This unit is in the cluster (Python `joined`); the flag survives deferral.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Joined {
    /// True when this unit bootstrapped the cluster, false when it joined with a token.
    pub bootstrapper: bool,
}

impl CustomEvent for Joined {
    const NAME: &'static str = "token_distributor.cluster_joined";
    const ALIASES: &'static [&'static str] = &["ClusterJoined"];
}

/// The communicator minted a token for a node and published it (Python `token_generated`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenGenerated {
    /// The node the token is for (the token itself is never in an event).
    #[serde(default)]
    pub node: String,
}

impl CustomEvent for TokenGenerated {
    const NAME: &'static str = "token_distributor.token_generated";
    const ALIASES: &'static [&'static str] = &["TokenGenerated"];
}
