//! The whole s3 wire contract, v0 and v1: every key of both sides and how each value is encoded.
//!
//! | bag | key | version | Rust type | on the wire |
//! | --- | --- | --- | --- | --- |
//! | requirer app | `bucket` | v0, v1 | `String` | plain text (v0: always, `relation-<id>` by default; v1: only when asked, or `relation-<id>` once the provider looks v0) |
//! | requirer app | `path` | v1 | `Option<String>` | plain text |
//! | requirer app + leader unit | `requested-secrets` | v1 | [`REQUESTED_SECRETS`] | JSON text `["access-key", "secret-key"]` (relation-created) |
//! | requirer app | `version`, `lib-version` | v1 | [`VERSION`], [`LIB_VERSION`] | `"1"` and `"1.0"` (both written, either read; relation-joined) |
//! | provider app | `version`, `lib-version` | v1 | as above | written at relation-created |
//! | provider app | `secret-extra` | v1 | `charm::SecretId` | URI of the credentials secret (label `<endpoint>.<relation id>.extra.secret`, content `access-key`, `secret-key`) |
//!
//! v0 keys (both versions send them; in v1 the credentials move into the secret):
//!
//! | bag | key | Rust type | on the wire |
//! | --- | --- | --- | --- |
//! | provider app | `access-key`, `secret-key`, `bucket` | `String` (required) | plain text |
//! | provider app | `path`, `endpoint`, `region`, `storage-class`, `s3-api-version` | `Option<String>` | plain text |
//! | provider app | `s3-uri-style` | `Option<UriStyle>` | plain text (`host`, `path`, anything else kept) |
//! | provider app | `tls-ca-chain`, `attributes` | `Vec<String>` (empty: key absent) | JSON text, Python separators (`["a", "b"]`); `attributes` is also read as comma-separated text (what s3-integrator 2/ sends) |
//! | provider app | `delete-older-than-days` | `Option<u32>` | decimal text |
//! | provider app | `data` | — (library-internal) | JSON text object: the requirer bag last seen, Python separators |
//!
//! Who speaks which version is decided per relation by [`provider_version`] (requirer side) and
//! [`requirer_version`] (provider side), exactly as the Python v1 library does.
//!
//! Keys nobody declares are ignored when reading. An empty value never travels: writing `""` deletes
//! a key (Juju's rule), which is how an unset optional field or an empty list is sent.

use charm::BagData;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The provider's diff cache key: a JSON snapshot of the requirer bag, kept in the provider app bag.
pub const CACHE_KEY: &str = "data";

/// Every key the provider sends (the `data` cache aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum S3Key {
    /// `access-key` (required).
    AccessKey,
    /// `secret-key` (required).
    SecretKey,
    /// `bucket` (required).
    Bucket,
    /// `path`.
    Path,
    /// `endpoint`.
    Endpoint,
    /// `region`.
    Region,
    /// `s3-uri-style`.
    S3UriStyle,
    /// `storage-class`.
    StorageClass,
    /// `tls-ca-chain`.
    TlsCaChain,
    /// `s3-api-version`.
    S3ApiVersion,
    /// `attributes`.
    Attributes,
    /// `delete-older-than-days`.
    DeleteOlderThanDays,
}

impl S3Key {
    /// Every provider key, in wire-table order.
    pub const ALL: [S3Key; 12] = [
        S3Key::AccessKey,
        S3Key::SecretKey,
        S3Key::Bucket,
        S3Key::Path,
        S3Key::Endpoint,
        S3Key::Region,
        S3Key::S3UriStyle,
        S3Key::StorageClass,
        S3Key::TlsCaChain,
        S3Key::S3ApiVersion,
        S3Key::Attributes,
        S3Key::DeleteOlderThanDays,
    ];

    /// The keys a provider must send (it always names a bucket).
    pub const REQUIRED: [S3Key; 3] = [S3Key::AccessKey, S3Key::SecretKey, S3Key::Bucket];

    /// The keys without which a requirer has no usable credentials (the Python libraries emit on
    /// these two alone; a v1 provider may send no bucket).
    pub const CREDENTIALS: [S3Key; 2] = [S3Key::AccessKey, S3Key::SecretKey];

    /// The key as it appears in the bag.
    pub fn as_str(self) -> &'static str {
        match self {
            S3Key::AccessKey => "access-key",
            S3Key::SecretKey => "secret-key",
            S3Key::Bucket => "bucket",
            S3Key::Path => "path",
            S3Key::Endpoint => "endpoint",
            S3Key::Region => "region",
            S3Key::S3UriStyle => "s3-uri-style",
            S3Key::StorageClass => "storage-class",
            S3Key::TlsCaChain => "tls-ca-chain",
            S3Key::S3ApiVersion => "s3-api-version",
            S3Key::Attributes => "attributes",
            S3Key::DeleteOlderThanDays => "delete-older-than-days",
        }
    }

    /// Whether the value is a credential (never logged, never shown).
    pub fn is_credential(self) -> bool {
        matches!(self, S3Key::AccessKey | S3Key::SecretKey)
    }
}

impl fmt::Display for S3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How clients address a bucket: `host` (virtual-hosted style) or `path`; other values are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UriStyle {
    /// `host`: `https://<bucket>.<endpoint>/<key>`.
    Host,
    /// `path`: `https://<endpoint>/<bucket>/<key>`.
    Path,
    /// Any other text a provider sent, kept as it was.
    Other(String),
}

impl UriStyle {
    /// The wire text.
    pub fn as_str(&self) -> &str {
        match self {
            UriStyle::Host => "host",
            UriStyle::Path => "path",
            UriStyle::Other(s) => s,
        }
    }

    /// Reads wire text; `host` and `path` are recognised, anything else is kept as [`UriStyle::Other`].
    pub fn parse(text: &str) -> UriStyle {
        match text {
            "host" => UriStyle::Host,
            "path" => UriStyle::Path,
            other => UriStyle::Other(other.to_string()),
        }
    }
}

impl fmt::Display for UriStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for UriStyle {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for UriStyle {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(UriStyle::parse(&text))
    }
}

/// The requirer's application bag: the bucket (and, v1, the path) it asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(
    title = "s3 requirer application bag",
    description = "The bucket the requirer's leader asks for (v1 may ask for none, and for a path)."
)]
pub struct S3Request {
    /// The bucket the requirer wants (the v0 requirer sends `relation-<id>` when given none; a
    /// v1 requirer may send none: then this is empty).
    #[serde(default)]
    pub bucket: String,
    /// The path (prefix) the requirer wants (v1 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// The provider's application bag: where and how to reach the bucket, with the credentials.
///
/// Build one with [`S3ConnectionInfo::new`] and struct update syntax. Its `Debug` output never shows
/// the access key or the secret key.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(
    title = "s3 v0 provider application bag",
    description = "Connection info and credentials the provider's leader sends; every value is text."
)]
pub struct S3ConnectionInfo {
    /// The access key (the account).
    pub access_key: String,
    /// The secret key (the password).
    pub secret_key: String,
    /// The bucket to use (a provider always sends one; a v1 provider may not, and then a
    /// requirer reads it as empty).
    #[serde(default)]
    pub bucket: String,
    /// A path (prefix) inside the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub path: Option<String>,
    /// The S3 endpoint URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub endpoint: Option<String>,
    /// The region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub region: Option<String>,
    /// Host or path style addressing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub s3_uri_style: Option<UriStyle>,
    /// The storage class of uploaded objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub storage_class: Option<String>,
    /// CA certificates (PEM) to trust for the endpoint; JSON text on the wire.
    #[serde(default, with = "json_list", skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "String")]
    pub tls_ca_chain: Vec<String>,
    /// The signature version, e.g. `4` (a string on the wire, whatever the published schema says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub s3_api_version: Option<String>,
    /// Extra attributes (custom HTTP headers), e.g. `k=v`; JSON text on the wire (read also as
    /// the comma-separated text s3-integrator 2/ sends).
    #[serde(
        default,
        with = "attribute_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "String")]
    pub attributes: Vec<String>,
    /// Retention of full backups, in days; decimal text on the wire.
    #[serde(default, with = "days", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub delete_older_than_days: Option<u32>,
}

impl S3ConnectionInfo {
    /// Connection info with the three required fields and nothing else.
    pub fn new(
        access_key: impl Into<String>,
        secret_key: impl Into<String>,
        bucket: impl Into<String>,
    ) -> Self {
        S3ConnectionInfo {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            bucket: bucket.into(),
            ..S3ConnectionInfo::default()
        }
    }

    /// The bag entries this info is sent as; absent optional fields and empty lists have no entry.
    pub fn to_bag(&self) -> Result<BagData, charm::databag::DatabagError> {
        charm::databag::encode(self)
    }

    /// Reads a provider bag; the `data` cache and unknown keys are ignored.
    pub fn from_bag(bag: &BagData) -> Result<Self, charm::databag::DatabagError> {
        charm::databag::decode(bag)
    }

    /// The credential keys ([`S3Key::CREDENTIALS`]) that are absent (or empty) in `bag`.
    pub fn missing_in(bag: &BagData) -> Vec<S3Key> {
        S3Key::CREDENTIALS
            .into_iter()
            .filter(|k| bag.get(k.as_str()).is_none_or(|v| v.is_empty()))
            .collect()
    }

    /// The required fields that are empty here (an empty value would delete the key on the wire).
    pub fn empty_required(&self) -> Vec<S3Key> {
        [
            (S3Key::AccessKey, &self.access_key),
            (S3Key::SecretKey, &self.secret_key),
            (S3Key::Bucket, &self.bucket),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(k, _)| k)
        .collect()
    }
}

impl fmt::Debug for S3ConnectionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |v: &str| if v.is_empty() { "" } else { "<redacted>" };
        f.debug_struct("S3ConnectionInfo")
            .field("access_key", &redacted(&self.access_key))
            .field("secret_key", &redacted(&self.secret_key))
            .field("bucket", &self.bucket)
            .field("path", &self.path)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("s3_uri_style", &self.s3_uri_style)
            .field("storage_class", &self.storage_class)
            .field("tls_ca_chain", &self.tls_ca_chain)
            .field("s3_api_version", &self.s3_api_version)
            .field("attributes", &self.attributes)
            .field("delete_older_than_days", &self.delete_older_than_days)
            .finish()
    }
}

/// The wire text of a list field: JSON with Python's separators; an empty list is no entry (`""`).
pub fn encode_list(items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let array = items
        .iter()
        .map(|s| serde_json::Value::String(s.clone()))
        .collect();
    pyjson::dumps(&serde_json::Value::Array(array))
}

/// Reads the wire text of a list field.
///
/// A JSON list of strings is the list. JSON `""` and `null` read as the empty list: the Python
/// s3-integrator "resets" a list option by sending `json.dumps("")` (interfaces.md 4.4 #7).
pub fn decode_list(text: &str) -> Result<Vec<String>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON text ({e})"))?;
    match value {
        serde_json::Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                serde_json::Value::String(s) => Ok(s),
                other => Err(format!("item {i} is {}, not a string", json_kind(&other))),
            })
            .collect(),
        serde_json::Value::Null => Ok(Vec::new()),
        serde_json::Value::String(s) if s.is_empty() => Ok(Vec::new()),
        other => Err(format!(
            "expected a JSON list of strings, got {}",
            json_kind(&other)
        )),
    }
}

/// The wire text of the retention days.
pub fn encode_days(days: u32) -> String {
    days.to_string()
}

/// Reads the retention days (decimal text, surrounding spaces allowed as Python's `int()` does).
pub fn decode_days(text: &str) -> Result<u32, String> {
    let trimmed = text.trim();
    trimmed.parse::<u32>().map_err(|_| {
        if trimmed.parse::<i64>().is_ok() {
            "not a number of days between 0 and 4294967295".to_string()
        } else {
            "not an integer".to_string()
        }
    })
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Serde field encoding of the list fields (see [`encode_list`] and [`decode_list`]).
mod json_list {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        items: &[String],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::encode_list(items))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<String>, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::decode_list(&text).map_err(serde::de::Error::custom)
    }
}

/// Reads the wire text of `attributes`: JSON text (or text opening a JSON list) as
/// [`decode_list`] reads it; any other text as the comma-separated list s3-integrator 2/ sends
/// (its raw config value), entries trimmed.
pub fn decode_attributes(text: &str) -> Result<Vec<String>, String> {
    if text.trim_start().starts_with('[') || serde_json::from_str::<serde_json::Value>(text).is_ok()
    {
        return decode_list(text);
    }
    Ok(text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect())
}

/// Serde field encoding of `attributes` (see [`encode_list`] and [`decode_attributes`]).
mod attribute_list {
    use serde::{Deserialize, Deserializer};

    // Written as every other list is; only reading accepts s3-integrator 2/'s plain text.
    pub(super) use super::json_list::serialize;

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<String>, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::decode_attributes(&text).map_err(serde::de::Error::custom)
    }
}

/// Serde field encoding of the retention days (see [`encode_days`] and [`decode_days`]).
mod days {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        days: &Option<u32>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match days {
            Some(d) => serializer.serialize_str(&super::encode_days(*d)),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<u32>, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::decode_days(&text)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

/// The provider's diff cache (`data`): the requirer bag as last seen, minus `data`.
///
/// Written as Python's `json.dumps` writes a dict read from Juju: keys in Juju's (sorted) order,
/// separators `", "` and `": "`.
pub fn encode_cache(requirer_bag: &BagData) -> String {
    let object = requirer_bag
        .iter()
        .filter(|(k, _)| k.as_str() != CACHE_KEY)
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    pyjson::dumps(&serde_json::Value::Object(object))
}

/// Reads the diff cache; values that are not strings are kept so they compare as changed.
pub fn decode_cache(text: &str) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!("expected a JSON object, got {}", json_kind(&other))),
        Err(e) => Err(format!("not JSON text ({e})")),
    }
}

// ----- v1 -----

/// The version key of the published library (`object-storage-charmlib`): the schema version.
pub const VERSION_KEY: &str = "version";
/// What this library writes under [`VERSION_KEY`].
pub const VERSION: &str = "1";
/// The version key of the library built into s3-integrator 2/ (`<LIBAPI>.<LIBPATCH>`).
pub const LIB_VERSION_KEY: &str = "lib-version";
/// What this library writes under [`LIB_VERSION_KEY`].
pub const LIB_VERSION: &str = "1.0";
/// The requirer's list of fields it wants in a secret (its app bag, and its leader's unit bag).
pub const REQUESTED_SECRETS_KEY: &str = "requested-secrets";
/// The fields a v1 requirer asks to get in a secret.
pub const REQUESTED_SECRETS: [S3Key; 2] = [S3Key::AccessKey, S3Key::SecretKey];
/// The provider's key holding the URI of the credentials secret.
pub const SECRET_EXTRA_KEY: &str = "secret-extra";

/// Which version a peer speaks on one relation, as far as its bag tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeerVersion {
    /// Nothing to decide on yet (an empty provider bag): keep waiting.
    Undecided,
    /// The peer speaks v0: plain credentials; the relation stays v0.
    V0,
    /// The peer speaks v1: credentials in a secret.
    V1,
}

/// The text of `requested-secrets`: a JSON list with Python's separators.
pub fn encode_requested_secrets() -> String {
    let names: Vec<String> = REQUESTED_SECRETS
        .iter()
        .map(|k| k.as_str().to_string())
        .collect();
    encode_list(&names)
}

/// Reads `requested-secrets`; absent or empty is the empty list (a v0 requirer).
pub fn decode_requested_secrets(bag: &BagData) -> Result<Vec<String>, String> {
    match bag.get(REQUESTED_SECRETS_KEY).filter(|t| !t.is_empty()) {
        None => Ok(Vec::new()),
        Some(text) => decode_list(text),
    }
}

/// Reads one version key as Python's `float()` would; `None` when absent.
fn version_number(bag: &BagData, key: &str) -> Result<Option<f64>, String> {
    let Some(text) = bag.get(key).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    match text.trim().parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(Some(n)),
        _ => Err("not a version number".to_string()),
    }
}

/// How a requirer classifies its provider (interfaces-current 1.5, 1.11): v1 when `version` or
/// `lib-version` is there and at least 1; v0 when the bag is not empty and neither says so;
/// undecided while the bag is empty. A version key that is no number is an error naming the key
/// (the Python library raises).
pub fn provider_version(bag: &BagData) -> Result<PeerVersion, (&'static str, String)> {
    let mut any_v1 = false;
    for key in [VERSION_KEY, LIB_VERSION_KEY] {
        if let Some(n) = version_number(bag, key).map_err(|e| (key, e))?
            && n >= 1.0
        {
            any_v1 = true;
        }
    }
    Ok(if any_v1 {
        PeerVersion::V1
    } else if bag.values().all(String::is_empty) {
        PeerVersion::Undecided
    } else {
        PeerVersion::V0
    })
}

/// How a provider classifies its requirer: v1 when `requested-secrets` lists something, v0
/// otherwise (both Python libraries decide so); a list that is not JSON is an error.
pub fn requirer_version(bag: &BagData) -> Result<PeerVersion, String> {
    Ok(if decode_requested_secrets(bag)?.is_empty() {
        PeerVersion::V0
    } else {
        PeerVersion::V1
    })
}

/// Whether a provider may publish yet: the requirer wrote a version key or a bucket.
pub fn requirer_ready(bag: &BagData) -> bool {
    [VERSION_KEY, LIB_VERSION_KEY, "bucket"]
        .iter()
        .any(|k| bag.get(*k).is_some_and(|v| !v.is_empty()))
}

/// The label of the credentials secret, on both sides: `<endpoint>.<relation id>.extra.secret`.
pub fn secret_label(endpoint: &str, relation_id: u32) -> String {
    format!("{endpoint}.{relation_id}.extra.secret")
}

/// The relation id in a label made by [`secret_label`] for `endpoint`.
pub fn relation_of_label(label: &str, endpoint: &str) -> Option<u32> {
    label
        .strip_prefix(endpoint)?
        .strip_prefix('.')?
        .strip_suffix(".extra.secret")?
        .parse()
        .ok()
}

#[cfg(test)]
#[path = "wire_test.rs"]
mod tests;
