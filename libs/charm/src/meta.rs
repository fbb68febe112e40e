//! The charm's own description: `metadata.yaml`, `config.yaml` and `actions.yaml`, typed.
//!
//! A charm binary reads no YAML: `charm-build` turns `metadata.yaml` into JSON when the charm is
//! built, the charm embeds that text and hands it to [`Charm::metadata`](crate::Charm::metadata),
//! and [`Metadata::from_json`] reads it. Tools and tests that read the YAML files themselves
//! deserialize these types with the `charm-yaml` crate.
//!
//! A charm that embeds no metadata runs without the checks metadata allows: a relation call on
//! an endpoint the charm does not declare reaches Juju, which refuses it; a library's endpoint
//! declaration ([`Charm::endpoint`](crate::Charm::endpoint)) is not checked; and a follower's read
//! of its own application bag is left to Juju to allow (peer relation) or refuse.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One endpoint in `provides`, `requires` or `peers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Interface name, e.g. `s3`.
    pub interface: String,
    /// Most relations this endpoint may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Whether the charm works without this relation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    /// `global` or `container`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// The role of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `provides`
    Provides,
    /// `requires`
    Requires,
    /// `peers`
    Peer,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Provides => "provides",
            Role::Requires => "requires",
            Role::Peer => "peers",
        })
    }
}

/// `metadata.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Charm name.
    pub name: String,
    /// One-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether the charm is a subordinate.
    #[serde(default)]
    pub subordinate: bool,
    /// Endpoints this charm provides.
    #[serde(default)]
    pub provides: BTreeMap<String, Endpoint>,
    /// Endpoints this charm requires.
    #[serde(default)]
    pub requires: BTreeMap<String, Endpoint>,
    /// Peer endpoints.
    #[serde(default)]
    pub peers: BTreeMap<String, Endpoint>,
    /// Workload containers (Kubernetes sidecar charms), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub containers: BTreeMap<String, crate::workload_meta::ContainerMeta>,
    /// Resources (`oci-image` and `file`), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resources: BTreeMap<String, crate::workload_meta::ResourceMeta>,
    /// Everything else (storage, ...), kept as it is.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl Metadata {
    /// Reads metadata embedded as JSON (see the [module docs](self)); containers and resources
    /// Juju would refuse are an error too ([`crate::workload_meta::check`]).
    pub fn from_json(text: &str) -> Result<Metadata, serde_json::Error> {
        let meta: Metadata = serde_json::from_str(text)?;
        crate::workload_meta::check(&meta).map_err(serde::de::Error::custom)?;
        Ok(meta)
    }

    /// The endpoint of that name and its role.
    pub fn endpoint(&self, name: &str) -> Option<(Role, &Endpoint)> {
        self.provides
            .get(name)
            .map(|e| (Role::Provides, e))
            .or_else(|| self.requires.get(name).map(|e| (Role::Requires, e)))
            .or_else(|| self.peers.get(name).map(|e| (Role::Peer, e)))
    }

    /// Whether `name` is a peer endpoint.
    pub fn is_peer(&self, name: &str) -> bool {
        self.peers.contains_key(name)
    }
}

/// One option in `config.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigOption {
    /// `string`, `int`, `float`, `boolean` or `secret`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `config.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigMeta {
    /// Options by name.
    #[serde(default)]
    pub options: BTreeMap<String, ConfigOption>,
}

impl ConfigMeta {
    /// The values `config-get` returns before anything is set: options with a default.
    pub fn defaults(&self) -> serde_json::Map<String, serde_json::Value> {
        self.options
            .iter()
            .filter_map(|(k, o)| o.default.clone().map(|d| (k.clone(), d)))
            .collect()
    }
}

/// One action in `actions.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionMeta {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON-schema properties of the parameters.
    #[serde(default)]
    pub params: BTreeMap<String, serde_json::Value>,
    /// Required parameter names.
    #[serde(default)]
    pub required: Vec<String>,
}

/// `actions.yaml`: actions by name.
pub type ActionsMeta = BTreeMap<String, ActionMeta>;

#[cfg(test)]
#[path = "meta_test.rs"]
mod tests;
