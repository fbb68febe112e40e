//! The charm's own description: `metadata.yaml`, `config.yaml` and `actions.yaml`.

use serde::{Deserialize, Serialize};
use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::path::Path;

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
    /// Everything else (containers, storage, resources, ...), kept as it is.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl Metadata {
    /// Parses `metadata.yaml`.
    pub fn parse(text: &str) -> Result<Metadata, crate::yaml::YamlError> {
        crate::yaml::from_str(text)
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
    /// Parses `config.yaml`.
    pub fn parse(text: &str) -> Result<ConfigMeta, crate::yaml::YamlError> {
        crate::yaml::from_str(text)
    }

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

/// The charm's metadata, parsed on first use: from text built into the binary, or from
/// `metadata.yaml` in the charm directory. Missing or unreadable metadata means no endpoint checks.
#[derive(Debug, Default)]
pub struct MetaCell {
    text: Option<String>,
    cell: OnceCell<Option<Metadata>>,
}

impl MetaCell {
    /// Metadata read from `<charm dir>/metadata.yaml` when first needed.
    pub fn from_charm_dir() -> Self {
        MetaCell::default()
    }

    /// Metadata from this text (e.g. `include_str!("../metadata.yaml")`).
    pub fn from_text(text: impl Into<String>) -> Self {
        MetaCell {
            text: Some(text.into()),
            cell: OnceCell::new(),
        }
    }

    /// Metadata already parsed.
    pub fn known(meta: Metadata) -> Self {
        MetaCell {
            text: None,
            cell: OnceCell::from(Some(meta)),
        }
    }

    /// The metadata, loading it on first call.
    pub fn get(&self, charm_dir: &Path) -> Option<&Metadata> {
        self.cell
            .get_or_init(|| {
                let text = match &self.text {
                    Some(t) => t.clone(),
                    None => std::fs::read_to_string(charm_dir.join("metadata.yaml")).ok()?,
                };
                Metadata::parse(&text).ok()
            })
            .as_ref()
    }
}

#[cfg(test)]
#[path = "meta_test.rs"]
mod tests;
