//! Storage: what `metadata.yaml` declares (`storage:`), and the instances Juju attaches.
//!
//! ```yaml
//! storage:
//!   data:
//!     type: filesystem          # or block
//!     location: /srv/data       # where a filesystem is mounted
//!     multiple: {range: 1-3}    # `n`, `n-m`, `n-` or `n+`; without it exactly one
//!     minimum-size: 1G
//!     shared: false
//!     read-only: false
//! ```
//!
//! An instance is named `<storage>/<index>` (`data/0`). The hook tools are `storage-get`,
//! `storage-list` and `storage-add`; the events `<storage>-storage-attached` and
//! `<storage>-storage-detaching` carry the instance ([`StorageEvent`](crate::StorageEvent)).

use crate::meta::Metadata;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Filesystem or block device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// A mounted filesystem.
    Filesystem,
    /// A block device.
    Block,
}

impl StorageKind {
    /// `filesystem` or `block`.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageKind::Filesystem => "filesystem",
            StorageKind::Block => "block",
        }
    }

    /// Reads `filesystem` or `block`.
    pub fn parse(text: &str) -> Option<StorageKind> {
        match text {
            "filesystem" => Some(StorageKind::Filesystem),
            "block" => Some(StorageKind::Block),
            _ => None,
        }
    }
}

/// How many instances a storage may have: `min` to `max` (`None`: no upper bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountRange {
    /// The fewest instances.
    pub min: u32,
    /// The most instances, if bounded.
    pub max: Option<u32>,
}

impl CountRange {
    /// Exactly one instance (a storage without `multiple`).
    pub const ONE: CountRange = CountRange {
        min: 1,
        max: Some(1),
    };

    /// Reads Juju's `multiple.range`: `n`, `n-m`, `n-` or `n+`.
    pub fn parse(text: &str) -> Option<CountRange> {
        let number = |t: &str| -> Option<u32> {
            (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse().ok())
                .flatten()
        };
        let text = text.trim();
        if let Some(min) = text.strip_suffix('+').or_else(|| text.strip_suffix('-')) {
            return Some(CountRange {
                min: number(min)?,
                max: None,
            });
        }
        match text.split_once('-') {
            Some((min, max)) => {
                let (min, max) = (number(min)?, number(max)?);
                (min <= max && max > 0).then_some(CountRange {
                    min,
                    max: Some(max),
                })
            }
            None => {
                let n = number(text)?;
                (n > 0).then_some(CountRange {
                    min: n,
                    max: Some(n),
                })
            }
        }
    }

    /// Whether `count` instances fit.
    pub fn allows(&self, count: u32) -> bool {
        count >= self.min && self.max.is_none_or(|max| count <= max)
    }
}

impl fmt::Display for CountRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.max {
            Some(max) if max == self.min => write!(f, "{max}"),
            Some(max) => write!(f, "{}-{max}", self.min),
            None => write!(f, "{}+", self.min),
        }
    }
}

/// One storage declared in `metadata.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageMeta {
    /// Filesystem or block.
    pub kind: StorageKind,
    /// Description.
    pub description: Option<String>,
    /// Where a filesystem is mounted (Juju picks a place when unset).
    pub location: Option<String>,
    /// How many instances a unit may have.
    pub count: CountRange,
    /// Smallest size, as written (`1G`).
    pub minimum_size: Option<String>,
    /// Shared between units.
    pub shared: bool,
    /// Mounted read-only.
    pub read_only: bool,
    /// Storage properties, e.g. `transient`.
    pub properties: Vec<String>,
}

/// `storage:` of `metadata.yaml` as written (YAML made JSON by `charm-build`).
#[derive(Deserialize)]
struct RawStorage {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    multiple: Option<RawMultiple>,
    #[serde(default, rename = "minimum-size")]
    minimum_size: Option<serde_json::Value>,
    #[serde(default)]
    shared: bool,
    #[serde(default, rename = "read-only")]
    read_only: bool,
    #[serde(default)]
    properties: Vec<String>,
}

#[derive(Deserialize)]
struct RawMultiple {
    range: serde_json::Value,
}

impl Metadata {
    /// The storage this charm declares, typed; `Err` names the storage and what is wrong.
    pub fn storage(&self) -> Result<BTreeMap<String, StorageMeta>, String> {
        let Some(section) = self.other.get("storage") else {
            return Ok(BTreeMap::new());
        };
        let raw: BTreeMap<String, RawStorage> =
            serde_json::from_value(section.clone()).map_err(|e| format!("storage: {e}"))?;
        raw.into_iter()
            .map(|(name, r)| {
                let bad = |why: String| format!("storage {name:?}: {why}");
                if !valid_storage_name(&name) {
                    return Err(bad("not a valid storage name".into()));
                }
                let kind = StorageKind::parse(&r.kind)
                    .ok_or_else(|| bad(format!("type {:?} is not filesystem or block", r.kind)))?;
                let count = match r.multiple {
                    None => CountRange::ONE,
                    Some(m) => {
                        let text = match &m.range {
                            serde_json::Value::String(s) => s.clone(),
                            serde_json::Value::Number(n) => n.to_string(),
                            other => other.to_string(),
                        };
                        CountRange::parse(&text)
                            .ok_or_else(|| bad(format!("bad multiple.range {text:?}")))?
                    }
                };
                let minimum_size = r.minimum_size.map(|v| match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                });
                Ok((
                    name.clone(),
                    StorageMeta {
                        kind,
                        description: r.description,
                        location: r.location,
                        count,
                        minimum_size,
                        shared: r.shared,
                        read_only: r.read_only,
                        properties: r.properties,
                    },
                ))
            })
            .collect()
    }
}

/// Juju's storage names: a lowercase letter, then lowercase letters, digits and inner single `-`.
pub fn valid_storage_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// A storage instance: `<name>/<index>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StorageId {
    /// The storage name from metadata.
    pub name: String,
    /// The instance index.
    pub index: u32,
}

impl StorageId {
    /// An instance id; `None` when `name` is not a storage name.
    pub fn new(name: &str, index: u32) -> Option<StorageId> {
        valid_storage_name(name).then(|| StorageId {
            name: name.to_string(),
            index,
        })
    }

    /// Reads `data/0`.
    pub fn parse(text: &str) -> Option<StorageId> {
        let (name, index) = text.split_once('/')?;
        if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        StorageId::new(name, index.parse().ok()?)
    }
}

impl fmt::Display for StorageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.name, self.index)
    }
}

/// An attached storage instance (`storage-get`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageInfo {
    /// Which instance.
    pub id: StorageId,
    /// Filesystem or block.
    pub kind: StorageKind,
    /// Mount point of a filesystem, device path of a block device.
    pub location: PathBuf,
}

/// `storage-get --format=json` output.
#[derive(Deserialize)]
struct RawInfo {
    kind: String,
    location: String,
}

impl StorageInfo {
    /// Reads `storage-get --format=json -s <id>` output; `Err` says what is wrong with it.
    pub fn from_json(id: &StorageId, text: &str) -> Result<StorageInfo, String> {
        let raw: RawInfo = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let kind = StorageKind::parse(&raw.kind)
            .ok_or_else(|| format!("unknown storage kind {:?}", clip(&raw.kind)))?;
        if !raw.location.starts_with('/') || raw.location.contains('\0') {
            return Err(format!(
                "location {:?} is not an absolute path",
                clip(&raw.location)
            ));
        }
        Ok(StorageInfo {
            id: id.clone(),
            kind,
            location: PathBuf::from(raw.location),
        })
    }
}

/// At most 80 characters of a bad value.
fn clip(text: &str) -> String {
    text.chars().take(80).collect()
}

#[cfg(test)]
#[path = "storage_test.rs"]
mod tests;
