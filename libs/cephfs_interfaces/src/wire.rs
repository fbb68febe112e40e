//! The whole wire contract of the `cephfs_share` interface: bags, keys, encodings and the secret.
//!
//! | bag | key | encoding | written by |
//! | --- | --- | --- | --- |
//! | requirer app | `name` | plain string: the requested share (cephfs-client sends its mountpoint) | requirer leader |
//! | requirer unit | `cache` | JSON object (string → string): the provider app bag as last seen, minus `cache` | every requirer unit |
//! | provider app | `share_info` | JSON object `{"fsid", "name", "path", "monitor_hosts": [...]}`, in this key order, Python `json.dumps` text | provider leader |
//! | provider app | `auth` | `secret:<id>` (a Juju secret granted to the relation) or `plain:<JSON {"username", "key"}>` (reactive providers) | provider leader |
//! | provider app | `auth-rev` | decimal string: the auth secret's current revision | provider leader |
//! | provider app | `cache` | JSON object: the requirer app bag as last seen (this port; Python ignores it) | provider leader |
//! | provider unit | `cache` | same, kept by the Python provider's leader; read once when migrating | Python provider leader |
//!
//! Auth secret: owned by the provider application, content `{"username": ..., "key": ...}`,
//! label `auth_info.<relation id>` (one per relation; Python used one secret labelled `auth_info`).
//!
//! Parsing never echoes values into errors: a malformed `auth` may hold a key.

use charm::databag::{self, BagData};
use charm::secret::{SecretContent, SecretId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// Requirer app bag key: the requested share name.
pub const NAME: &str = "name";
/// Provider app bag key: the share info JSON.
pub const SHARE_INFO: &str = "share_info";
/// Provider app bag key: where the auth info is (`secret:<id>` or `plain:<json>`).
pub const AUTH: &str = "auth";
/// Provider app bag key: the auth secret's revision, as a decimal string.
pub const AUTH_REV: &str = "auth-rev";
/// Key of the change-detection snapshot (in a unit bag, or in the provider app bag in this port).
pub const CACHE: &str = "cache";
/// Kind prefix of an `auth` value that names a secret.
pub const SECRET_KIND: &str = "secret";
/// Kind prefix of an `auth` value that carries the auth info inline.
pub const PLAIN_KIND: &str = "plain";
/// Label of the single auth secret the Python provider creates (still recognised for clean-up).
pub const LEGACY_AUTH_SECRET_LABEL: &str = "auth_info";
/// Description of the auth secrets, as the Python provider sets it.
pub const AUTH_SECRET_DESCRIPTION: &str = "Auth info to authenticate against the CephFS share";
/// Secret content key of the user name.
pub const USERNAME_FIELD: &str = "username";
/// Secret content key of the cephx key.
pub const KEY_FIELD: &str = "key";

/// The label of the auth secret this port creates for one relation: `auth_info.<relation id>`.
pub fn auth_secret_label(relation_id: u32) -> String {
    format!("{LEGACY_AUTH_SECRET_LABEL}.{relation_id}")
}

/// The relation id in an `auth_info.<id>` label.
pub fn auth_secret_relation(label: &str) -> Option<u32> {
    let digits = label
        .strip_prefix(LEGACY_AUTH_SECRET_LABEL)?
        .strip_prefix('.')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether a secret label is one of this library's auth secrets (per relation, or the Python one).
pub fn is_auth_secret_label(label: &str) -> bool {
    label == LEGACY_AUTH_SECRET_LABEL || auth_secret_relation(label).is_some()
}

// ----- share info -----

/// Where and what to mount: the Ceph cluster, the filesystem, the path and the monitors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ShareInfo {
    /// The Ceph cluster id.
    pub fsid: String,
    /// The name of the exported Ceph filesystem.
    pub name: String,
    /// The exported path inside the filesystem.
    pub path: String,
    /// Monitor addresses (`host:port`), in the order the provider gave them.
    pub monitor_hosts: Vec<String>,
}

impl ShareInfo {
    /// The `share_info` text exactly as the Python library writes it (`json.dumps` of the dataclass).
    pub fn to_json(&self) -> String {
        let mut object = Map::new();
        object.insert("fsid".into(), Value::String(self.fsid.clone()));
        object.insert("name".into(), Value::String(self.name.clone()));
        object.insert("path".into(), Value::String(self.path.clone()));
        object.insert(
            "monitor_hosts".into(),
            Value::Array(
                self.monitor_hosts
                    .iter()
                    .map(|h| Value::String(h.clone()))
                    .collect(),
            ),
        );
        pyjson::dumps(&Value::Object(object))
    }

    /// Reads `share_info` text; fields the type does not know are ignored.
    pub fn from_json(text: &str) -> Result<ShareInfo, WireError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| WireError::ShareInfoNotJson(syntax_error(&e)))?;
        let Value::Object(object) = value else {
            return Err(WireError::ShareInfoNotObject);
        };
        let text_field = |field: &'static str| match object.get(field) {
            None => Err(WireError::ShareInfoMissingField(field)),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(WireError::ShareInfoBadField {
                field,
                expected: "a string",
            }),
        };
        let fsid = text_field("fsid")?;
        let name = text_field("name")?;
        let path = text_field("path")?;
        let monitor_hosts = match object.get("monitor_hosts") {
            None => return Err(WireError::ShareInfoMissingField("monitor_hosts")),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(WireError::ShareInfoBadField {
                        field: "monitor_hosts",
                        expected: "a list of strings",
                    }),
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => {
                return Err(WireError::ShareInfoBadField {
                    field: "monitor_hosts",
                    expected: "a list of strings",
                });
            }
        };
        Ok(ShareInfo {
            fsid,
            name,
            path,
            monitor_hosts,
        })
    }
}

// ----- auth info -----

/// The cephx user and key that give access to a share. `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "cephfs_share auth info (secret content, or the JSON of a plain: auth)")]
pub struct AuthInfo {
    /// The Ceph user name (without the `client.` prefix).
    pub username: String,
    /// The user's cephx key (base64).
    pub key: String,
}

impl fmt::Debug for AuthInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthInfo")
            .field("username", &self.username)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl AuthInfo {
    /// Builds auth info.
    pub fn new(username: impl Into<String>, key: impl Into<String>) -> Self {
        AuthInfo {
            username: username.into(),
            key: key.into(),
        }
    }

    /// The secret content: `{"username": ..., "key": ...}`.
    pub fn to_secret_content(&self) -> SecretContent {
        SecretContent::new()
            .with(USERNAME_FIELD, self.username.clone())
            .with(KEY_FIELD, self.key.clone())
    }

    /// Reads the secret content; other keys are ignored.
    pub fn from_secret_content(content: &SecretContent) -> Result<AuthInfo, WireError> {
        let field = |name: &'static str| {
            content
                .get(name)
                .map(str::to_string)
                .ok_or(WireError::AuthMissingField(name))
        };
        Ok(AuthInfo {
            username: field(USERNAME_FIELD)?,
            key: field(KEY_FIELD)?,
        })
    }

    /// The JSON the Python library writes for it: `{"username": ..., "key": ...}`.
    pub fn to_json(&self) -> String {
        let mut object = Map::new();
        object.insert(USERNAME_FIELD.into(), Value::String(self.username.clone()));
        object.insert(KEY_FIELD.into(), Value::String(self.key.clone()));
        pyjson::dumps(&Value::Object(object))
    }

    /// Reads the JSON of a `plain:` auth value; other fields are ignored.
    pub fn from_json(text: &str) -> Result<AuthInfo, WireError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| WireError::PlainAuthNotJson(syntax_error(&e)))?;
        let Value::Object(object) = value else {
            return Err(WireError::PlainAuthNotObject);
        };
        let field = |name: &'static str| match object.get(name) {
            None => Err(WireError::AuthMissingField(name)),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(WireError::AuthBadField(name)),
        };
        Ok(AuthInfo {
            username: field(USERNAME_FIELD)?,
            key: field(KEY_FIELD)?,
        })
    }
}

/// Where the auth info is: the value of the provider's `auth` key, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthRef {
    /// A secret (the whole value, e.g. `secret:cq1...` or `secret://<model>/cq1...`).
    Secret(SecretId),
    /// Auth info sent inline by a provider without secrets (reactive charms).
    Plain(AuthInfo),
}

impl AuthRef {
    /// Parses an `auth` value: `<kind>:<data>`, kind `secret` or `plain`.
    pub fn parse(value: &str) -> Result<AuthRef, WireError> {
        let Some((kind, data)) = value.split_once(':') else {
            return Err(WireError::AuthWithoutKind);
        };
        match kind {
            SECRET_KIND => {
                if data.trim_start_matches('/').is_empty() {
                    return Err(WireError::AuthEmptySecretId);
                }
                SecretId::parse(value)
                    .map(AuthRef::Secret)
                    .map_err(|e| WireError::AuthBadSecretId(e.why))
            }
            PLAIN_KIND => AuthInfo::from_json(data).map(AuthRef::Plain),
            other => Err(WireError::AuthUnknownKind(shown_kind(other))),
        }
    }

    /// The `auth` value for this reference.
    pub fn to_wire(&self) -> String {
        match self {
            AuthRef::Secret(id) => id.uri(),
            AuthRef::Plain(info) => format!("{PLAIN_KIND}:{}", info.to_json()),
        }
    }
}

/// A kind shown in an error only if it looks like a word, never something that may be a key.
fn shown_kind(kind: &str) -> String {
    let wordy = kind.len() <= 16
        && kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if wordy {
        kind.to_string()
    } else {
        "<not shown>".to_string()
    }
}

/// A JSON syntax error without any of the text it was found in.
fn syntax_error(e: &serde_json::Error) -> String {
    format!("line {} column {}", e.line(), e.column())
}

/// Remote data that does not follow the wire format. Messages never include the values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// `share_info` is not JSON.
    #[error("share_info is not valid JSON (syntax error at {0})")]
    ShareInfoNotJson(String),
    /// `share_info` is JSON but not an object.
    #[error("share_info is not a JSON object")]
    ShareInfoNotObject,
    /// `share_info` lacks a field.
    #[error("share_info has no {0:?} field")]
    ShareInfoMissingField(&'static str),
    /// A `share_info` field has the wrong type.
    #[error("share_info field {field:?} is not {expected}")]
    ShareInfoBadField {
        /// The field.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
    },
    /// `auth` has no `<kind>:` prefix.
    #[error("auth has no kind (expected secret:<id> or plain:<json>)")]
    AuthWithoutKind,
    /// `auth` has a kind other than `secret` and `plain`.
    #[error("auth has unknown kind {0:?} (expected secret or plain)")]
    AuthUnknownKind(String),
    /// `auth` is `secret:` with nothing after it.
    #[error("auth names a secret but gives no secret id")]
    AuthEmptySecretId,
    /// `auth` is `secret:<something>` that is not a secret id Juju produces (never passed on).
    #[error("auth names a secret but its id is not one Juju produces: {0}")]
    AuthBadSecretId(&'static str),
    /// The JSON of a `plain:` auth is not JSON.
    #[error("plain auth is not valid JSON (syntax error at {0})")]
    PlainAuthNotJson(String),
    /// The JSON of a `plain:` auth is not an object.
    #[error("plain auth is not a JSON object")]
    PlainAuthNotObject,
    /// The auth info (plain JSON or secret content) lacks a field.
    #[error("auth info has no {0:?} field")]
    AuthMissingField(&'static str),
    /// An auth info field is not a string.
    #[error("auth info field {0:?} is not a string")]
    AuthBadField(&'static str),
}

// ----- change-detection snapshot (`cache`) -----

/// A snapshot of the other side's application bag, minus `cache`.
pub type Snapshot = BTreeMap<String, String>;

/// The snapshot of a bag: every key but `cache`.
///
/// A `plain:` auth (a cephx key sent in clear by reactive providers) is kept as its SHA-256, so
/// the snapshot, which lands in a unit bag, never repeats the key; a change is still noticed.
/// (Python copies the key; after an upgrade from a Python requirer the first comparison sees a
/// change once.)
pub fn snapshot(bag: &BagData) -> Snapshot {
    bag.iter()
        .filter(|(k, _)| k.as_str() != CACHE)
        .map(|(k, v)| match (k.as_str(), v.strip_prefix("plain:")) {
            (AUTH, Some(_)) => (k.clone(), plain_auth_digest(v)),
            _ => (k.clone(), v.clone()),
        })
        .collect()
}

/// What a snapshot keeps of a `plain:` auth value.
fn plain_auth_digest(value: &str) -> String {
    use sha2::{Digest, Sha256};
    let hex: String = Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("plain-sha256:{hex}")
}

/// A `cache` value that is not a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cache is not a JSON object ({0})")]
pub struct CacheError(String);

/// Reads a `cache` value. Entries whose value is not a string are dropped (they count as changed).
pub fn parse_cache(text: &str) -> Result<Snapshot, CacheError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object
            .into_iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k, s)),
                _ => None,
            })
            .collect()),
        Ok(_) => Err(CacheError("another JSON value".into())),
        Err(e) => Err(CacheError(format!("syntax error at {}", syntax_error(&e)))),
    }
}

/// Writes a `cache` value: Python `json.dumps` text with the keys sorted.
pub fn encode_cache(snapshot: &Snapshot) -> String {
    let object: Map<String, Value> = snapshot
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    pyjson::dumps(&Value::Object(object))
}

// ----- the bags, typed (for writing and for the JSON Schemas) -----

/// The requirer application's bag (written by the requirer leader).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "cephfs_share requirer application bag")]
pub struct RequirerAppBag {
    /// The requested share name; the cephfs-client charm sends its mountpoint, e.g. `/data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub name: Option<String>,
}

/// A unit bag of either side: the change-detection snapshot of the remote application bag.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "cephfs_share unit bag (requirer units; Python provider leader)")]
pub struct UnitBag {
    /// JSON object (string to string): the remote application bag as last seen, minus `cache`.
    #[serde(
        default,
        with = "databag::json_text",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "String")]
    pub cache: Option<Snapshot>,
}

/// The provider application's bag (written by the provider leader).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "cephfs_share provider application bag")]
pub struct ProviderAppBag {
    /// JSON object `{"fsid": str, "name": str, "path": str, "monitor_hosts": [str, ...]}`.
    #[serde(
        default,
        with = "databag::json_text",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "String")]
    pub share_info: Option<ShareInfo>,
    /// `secret:<id>` (or `secret://<model uuid>/<id>`) of the auth secret, or `plain:<JSON {"username", "key"}>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", regex(pattern = r"^(secret:.+|plain:.*)$"))]
    pub auth: Option<String>,
    /// The auth secret's current revision, as a decimal string.
    #[serde(
        rename = "auth-rev",
        default,
        with = "databag::decimal",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "String", regex(pattern = r"^[0-9]+$"))]
    pub auth_rev: Option<u32>,
    /// JSON object: the requirer application bag as last seen (this port only; Python requirers ignore it).
    #[serde(
        default,
        with = "databag::json_text",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "String")]
    pub cache: Option<Snapshot>,
}

impl ProviderAppBag {
    /// The bag entries of this value (fields left `None` are not written).
    pub fn encode(&self) -> Result<BagData, databag::DatabagError> {
        databag::encode(self)
    }
}

#[cfg(test)]
#[path = "wire_test.rs"]
mod tests;
