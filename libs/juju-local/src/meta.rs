//! Charm metadata: `metadata.yaml`, `config.yaml` and `actions.yaml` (or one `charmcraft.yaml`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// The role of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Declared under `provides`.
    Provider,
    /// Declared under `requires`.
    Requirer,
    /// Declared under `peers`.
    Peer,
}

/// One endpoint of a charm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// The endpoint name.
    pub name: String,
    /// Provider, requirer or peer.
    pub role: Role,
    /// The interface name.
    pub interface: String,
    /// The maximum number of relations on this endpoint, if limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `global` or `container`.
    #[serde(default = "default_scope")]
    pub scope: String,
    /// Whether the relation is optional (informational).
    #[serde(default)]
    pub optional: bool,
}

fn default_scope() -> String {
    "global".into()
}

/// The name and interface of the endpoint every charm implicitly provides.
pub const JUJU_INFO: &str = "juju-info";

impl Endpoint {
    /// True when the endpoint declares `scope: container`.
    pub fn is_container(&self) -> bool {
        self.scope == "container"
    }

    /// The implicit `juju-info` provider endpoint every charm has.
    pub fn juju_info() -> Endpoint {
        Endpoint {
            name: JUJU_INFO.into(),
            role: Role::Provider,
            interface: JUJU_INFO.into(),
            limit: None,
            scope: default_scope(),
            optional: false,
        }
    }
}

/// A config option from `config.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigOption {
    /// `string`, `int`, `float`, `boolean` or `secret`.
    #[serde(rename = "type", default = "default_type")]
    pub kind: String,
    /// The default value, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Human description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

fn default_type() -> String {
    "string".into()
}

/// An action from `actions.yaml`: description plus a JSON schema for its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ActionSpec {
    /// Human description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// JSON-schema properties of the parameters.
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    /// Parameters that must be given.
    #[serde(default)]
    pub required: Vec<String>,
    /// Whether parameters not in `params` are accepted (Juju's default is true).
    #[serde(default = "yes", rename = "additionalProperties")]
    pub additional_properties: bool,
}

fn yes() -> bool {
    true
}

/// Everything juju-local needs to know about a charm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CharmMeta {
    /// The charm name.
    pub name: String,
    /// Whether this is a subordinate charm.
    #[serde(default)]
    pub subordinate: bool,
    /// All endpoints (provides, requires, peers), in declaration order.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    /// Extra bindings (for `network-get`).
    #[serde(default)]
    pub extra_bindings: Vec<String>,
    /// Config options by name.
    #[serde(default)]
    pub config: BTreeMap<String, ConfigOption>,
    /// Actions by name.
    #[serde(default)]
    pub actions: BTreeMap<String, ActionSpec>,
    /// Resources by name, with their type (`file` or `oci-image`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resources: BTreeMap<String, String>,
    /// Storage by name (`storage:`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage: BTreeMap<String, charm::storage::StorageMeta>,
    /// Workload containers (`containers:`), by name: each gets a Pebble per unit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawEndpoint {
    Interface(String),
    Full {
        interface: String,
        #[serde(default)]
        limit: Option<u32>,
        #[serde(default)]
        scope: Option<String>,
        #[serde(default)]
        optional: Option<bool>,
    },
}

#[derive(Deserialize, Default)]
struct RawMetadata {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    subordinate: Option<bool>,
    #[serde(default)]
    provides: Option<BTreeMap<String, RawEndpoint>>,
    #[serde(default)]
    requires: Option<BTreeMap<String, RawEndpoint>>,
    #[serde(default)]
    peers: Option<BTreeMap<String, RawEndpoint>>,
    #[serde(default, rename = "extra-bindings")]
    extra_bindings: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    storage: Option<Value>,
    #[serde(default)]
    resources: Option<BTreeMap<String, Value>>,
    // charmcraft.yaml carries config and actions inline.
    #[serde(default)]
    config: Option<RawConfig>,
    #[serde(default)]
    actions: Option<BTreeMap<String, Option<ActionSpec>>>,
    #[serde(default)]
    containers: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize, Default)]
struct RawConfig {
    #[serde(default)]
    options: Option<BTreeMap<String, Option<ConfigOption>>>,
}

fn read_yaml<T: serde::de::DeserializeOwned + Default>(path: &Path) -> Result<Option<T>> {
    if !path.exists() {
        return Ok(None);
    }
    let text = crate::files::read_to_string(path)?;
    if text.trim().is_empty() {
        return Ok(Some(T::default()));
    }
    crate::yaml::from_str(&text)
        .map(Some)
        .map_err(|e| Error::Charm {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// `storage:` typed, with the charm framework's reading of it.
fn storage_meta(
    section: Option<Value>,
) -> std::result::Result<BTreeMap<String, charm::storage::StorageMeta>, String> {
    let Some(section) = section else {
        return Ok(BTreeMap::new());
    };
    let mut meta = charm::meta::Metadata::default();
    meta.other.insert("storage".into(), section);
    meta.storage()
}

impl CharmMeta {
    /// Reads a charm directory: `metadata.yaml` (or `charmcraft.yaml`), `config.yaml`, `actions.yaml`.
    pub fn load(dir: &Path) -> Result<CharmMeta> {
        let bad = |path: &Path, message: String| Error::Charm {
            path: path.to_path_buf(),
            message,
        };
        let md_path = dir.join("metadata.yaml");
        let cc_path = dir.join("charmcraft.yaml");
        let (raw, raw_path): (RawMetadata, _) = match read_yaml(&md_path)? {
            Some(m) => (m, md_path),
            None => match read_yaml(&cc_path)? {
                Some(m) => (m, cc_path),
                None => return Err(bad(dir, "no metadata.yaml or charmcraft.yaml".into())),
            },
        };
        let name = raw
            .name
            .clone()
            .ok_or_else(|| bad(&raw_path, "missing `name`".into()))?;
        if !crate::ids::is_app_name(&name) {
            return Err(bad(&raw_path, format!("charm name {name:?} not valid")));
        }
        let mut endpoints = Vec::new();
        for (role, section) in [
            (Role::Provider, raw.provides),
            (Role::Requirer, raw.requires),
            (Role::Peer, raw.peers),
        ] {
            for (ep, spec) in section.unwrap_or_default() {
                if endpoints.iter().any(|e: &Endpoint| e.name == ep) {
                    return Err(bad(&raw_path, format!("endpoint {ep:?} declared twice")));
                }
                let (interface, limit, scope, optional) = match spec {
                    RawEndpoint::Interface(i) => (i, None, None, None),
                    RawEndpoint::Full {
                        interface,
                        limit,
                        scope,
                        optional,
                    } => (interface, limit, scope, optional),
                };
                let scope = scope.unwrap_or_else(default_scope);
                if scope != "global" && scope != "container" {
                    return Err(bad(
                        &raw_path,
                        format!(
                            "endpoint {ep:?} has unknown scope {scope:?} (global or container)"
                        ),
                    ));
                }
                endpoints.push(Endpoint {
                    name: ep,
                    role,
                    interface,
                    limit,
                    scope,
                    optional: optional.unwrap_or(false),
                });
            }
        }
        let subordinate = raw.subordinate.unwrap_or(false);
        if subordinate
            && !endpoints
                .iter()
                .any(|e| e.role == Role::Requirer && e.is_container())
        {
            return Err(bad(
                &raw_path,
                format!(
                    "subordinate charm {name:?} lacks \"requires\" relation with container scope"
                ),
            ));
        }
        let containers: Vec<String> = raw.containers.unwrap_or_default().into_keys().collect();
        if let Some(c) = containers.iter().find(|c| container_name_invalid(c)) {
            return Err(bad(&raw_path, format!("container name {c:?} not valid")));
        }
        let mut meta = CharmMeta {
            name,
            subordinate,
            endpoints,
            extra_bindings: raw.extra_bindings.unwrap_or_default().into_keys().collect(),
            config: BTreeMap::new(),
            actions: BTreeMap::new(),
            storage: storage_meta(raw.storage).map_err(|m| bad(&raw_path, m))?,
            resources: raw
                .resources
                .unwrap_or_default()
                .into_iter()
                .map(|(name, spec)| {
                    let kind = spec.get("type").and_then(Value::as_str).unwrap_or("file");
                    (name, kind.to_string())
                })
                .collect(),
            containers,
        };
        let config_path = dir.join("config.yaml");
        let config = match read_yaml::<RawConfig>(&config_path)? {
            Some(c) => c.options,
            None => raw.config.and_then(|c| c.options),
        };
        for (k, v) in config.unwrap_or_default() {
            let opt = v.unwrap_or(ConfigOption {
                kind: default_type(),
                default: None,
                description: String::new(),
            });
            if !["string", "int", "float", "boolean", "secret"].contains(&opt.kind.as_str()) {
                return Err(bad(
                    &config_path,
                    format!("option {k:?} has unknown type {:?}", opt.kind),
                ));
            }
            let default = match &opt.default {
                None | Some(Value::Null) => None,
                Some(v) => Some(
                    coerce_config_value(&opt.kind, v)
                        .map_err(|m| bad(&config_path, format!("default of option {k:?}: {m}")))?,
                ),
            };
            meta.config.insert(k, ConfigOption { default, ..opt });
        }
        let actions_path = dir.join("actions.yaml");
        let actions = match read_yaml::<BTreeMap<String, Option<ActionSpec>>>(&actions_path)? {
            Some(a) => Some(a),
            None => raw.actions,
        };
        for (k, v) in actions.unwrap_or_default() {
            meta.actions.insert(k, v.unwrap_or_default());
        }
        Ok(meta)
    }

    /// Looks a declared endpoint up by name.
    pub fn endpoint(&self, name: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.name == name)
    }

    /// True when `name` is this charm's implicit `juju-info` endpoint (not declared by the charm).
    pub fn is_implicit(&self, name: &str) -> bool {
        name == JUJU_INFO && self.endpoint(name).is_none()
    }

    /// The endpoints that can take part in relations: the declared ones, then the implicit
    /// `juju-info` provider (interface `juju-info`) unless the charm declares an endpoint of that name.
    pub fn relation_endpoints(&self) -> Vec<Endpoint> {
        let mut out = self.endpoints.clone();
        if self.endpoint(JUJU_INFO).is_none() {
            out.push(Endpoint::juju_info());
        }
        out
    }
}

/// Checks a YAML/JSON value against a config option type and normalises it (ints stay ints, etc.).
pub fn coerce_config_value(kind: &str, v: &Value) -> std::result::Result<Value, String> {
    match (kind, v) {
        ("string" | "secret", Value::String(_)) => Ok(v.clone()),
        ("int", Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(v.clone()),
        ("float", Value::Number(_)) => Ok(v.clone()),
        ("boolean", Value::Bool(_)) => Ok(v.clone()),
        _ => Err(format!("expected {kind}, got {v}")),
    }
}

/// Parses a config value given on the command line (`k=v`) according to the option type.
pub fn parse_config_arg(kind: &str, s: &str) -> std::result::Result<Value, String> {
    match kind {
        "string" => Ok(Value::String(s.to_string())),
        "secret" => {
            let id = s
                .strip_prefix("secret:")
                .unwrap_or(s)
                .rsplit('/')
                .next()
                .unwrap_or("");
            if crate::ids::is_xid(id) {
                Ok(Value::String(s.to_string()))
            } else {
                Err(format!("expected a secret URI, got {s:?}"))
            }
        }
        "int" => s
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("expected int, got {s:?}")),
        "float" => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("expected float, got {s:?}")),
        "boolean" => match s.trim() {
            "true" | "True" | "TRUE" | "yes" | "on" => Ok(Value::Bool(true)),
            "false" | "False" | "FALSE" | "no" | "off" => Ok(Value::Bool(false)),
            _ => Err(format!("expected boolean, got {s:?}")),
        },
        other => Err(format!("unknown option type {other:?}")),
    }
}

/// Whether `name` cannot be a container name (Juju: an RFC 1123 label; it becomes a directory and
/// a hook-name prefix, so nothing else may pass).
fn container_name_invalid(name: &str) -> bool {
    name.is_empty()
        || name.len() > 63
        || name.starts_with('-')
        || name.ends_with('-')
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_values() {
        assert_eq!(parse_config_arg("int", "42"), Ok(Value::from(42)));
        assert!(parse_config_arg("int", "4.2").is_err());
        assert_eq!(parse_config_arg("boolean", "True"), Ok(Value::Bool(true)));
        assert!(parse_config_arg("boolean", "maybe").is_err());
        assert!(parse_config_arg("float", "1.5").is_ok());
        assert!(parse_config_arg("secret", "secret:d1k3m8fbo5jc738pq1ig").is_ok());
        assert!(parse_config_arg("secret", "nope").is_err());
        assert!(coerce_config_value("int", &Value::from("x")).is_err());
    }

    #[test]
    fn containers_are_read_and_their_names_checked() {
        let dir = std::env::temp_dir().join(format!("jl-meta-containers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let md = dir.join("metadata.yaml");
        std::fs::write(
            &md,
            "name: web\ncontainers:\n  web: {resource: img}\n  log-agent: {}\n",
        )
        .unwrap_or_default();
        let meta = CharmMeta::load(&dir).map_err(|e| e.to_string());
        assert_eq!(
            meta.map(|m| m.containers),
            Ok(vec!["log-agent".to_string(), "web".to_string()])
        );
        for bad in ["Web", "-web", "../x", "a_b"] {
            std::fs::write(&md, format!("name: web\ncontainers:\n  {bad:?}: {{}}\n"))
                .unwrap_or_default();
            let err = CharmMeta::load(&dir).map(|_| ()).map_err(|e| e.to_string());
            assert!(
                err.as_ref().is_err_and(|e| e.contains("not valid")),
                "{bad}: {err:?}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
