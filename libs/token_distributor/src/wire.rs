//! The whole wire contract of the `worker-cluster` interface, in one place.
//!
//! Every value is a plain string (no JSON anywhere), as the Python library writes it.
//!
//! | bag | key | value |
//! | --- | --- | --- |
//! | consumer unit | `hostname` | the unit's node name (`os.uname().nodename` in Python) |
//! | consumer unit | `mirror` | `up` on the communicator node, `down` on a former one, absent otherwise |
//! | consumer unit | `mirror-<node>` | a join token minted for `<node>` by the communicator |
//! | provider unit | `mirror` | `up` on the distributor leader, `down` on a former leader |
//! | provider unit | `mirror-<node>` | the literal `empty` (placeholder: `<node>` needs a token) or the token |
//! | provider app | `bootstrap-app` | the consumer application whose leader bootstraps (LIBPATCH 7+: leader-elected only in 7, also relation-changed from 8; optional) |
//!
//! Reading is by prefix: a key is a mirror entry when it starts with `mirror-` and names a node
//! after it. Keys nobody declares are ignored.

use charm::databag::{self, DatabagError};
use charm::{BagData, Classify, Outcome};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// The prefix of every mirrored key (`mirror-<node>`).
pub const MIRROR_PREFIX: &str = "mirror-";
/// The placeholder value: the node named by the key still needs a token.
pub const EMPTY: &str = "empty";
/// The consumer unit's node name.
pub const KEY_HOSTNAME: &str = "hostname";
/// The mirror flag (`up`/`down`) of a unit, on both sides.
pub const KEY_MIRROR: &str = "mirror";
/// The provider app bag key naming the application that bootstraps (first written by LIBPATCH 7).
pub const KEY_BOOTSTRAP_APP: &str = "bootstrap-app";

/// The key a node's entry is mirrored under: `mirror-<node>`.
pub fn mirror_key(node: &str) -> String {
    format!("{MIRROR_PREFIX}{node}")
}

/// Why a bag or a value does not fit the wire contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A key holds a value of the wrong form (e.g. `mirror` is neither `up` nor `down`).
    #[error("key {key:?}: {detail}")]
    Field {
        /// The key.
        key: String,
        /// What is wrong.
        detail: String,
    },
    /// A node name that cannot be a microcluster member name (or would be read as a CLI option).
    #[error("key {key:?}: {name:?} is not a valid node name: {why}")]
    NodeName {
        /// The key it was found in (`hostname` or `mirror-<node>`).
        key: String,
        /// The name.
        name: String,
        /// Which rule it breaks.
        why: &'static str,
    },
    /// The value does not encode to a bag.
    #[error("cannot encode the bag: {0}")]
    Encode(String),
}

impl WireError {
    /// The offending key, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            WireError::Field { key, .. } | WireError::NodeName { key, .. } => Some(key),
            WireError::Encode(_) => None,
        }
    }
}

impl Classify for WireError {
    fn outcome(&self) -> Outcome {
        match self {
            // Bad remote data: a human must look, retrying cannot help.
            WireError::Field { .. } | WireError::NodeName { .. } => Outcome::Blocked,
            // Our own value does not encode: a bug, fail loudly.
            WireError::Encode(_) => Outcome::Fail,
        }
    }
}

impl From<DatabagError> for WireError {
    fn from(e: DatabagError) -> Self {
        match e {
            DatabagError::Field { key, detail } => WireError::Field { key, detail },
            DatabagError::Encode(detail) => WireError::Encode(detail),
        }
    }
}

/// Checks that `name` can be a node name: 1 to 253 characters out of `[A-Za-z0-9._-]`, starting
/// with a letter or digit (so it can never be taken for an option of the cluster CLI).
pub fn check_node_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.len() > 253 {
        return Err("it is longer than 253 characters");
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("it must start with a letter or a digit");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    {
        return Err("only letters, digits, '-', '.' and '_' are allowed");
    }
    Ok(())
}

/// A join token: a credential for joining the cluster. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token read from the wire or printed by `add` (surrounding whitespace removed).
    pub fn new(text: &str) -> Token {
        Token(text.trim().to_string())
    }

    /// The token text, for writing it to the bag or passing it to `join`. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Checks that the token can be passed to `join`: not empty, not the `empty` placeholder,
    /// printable ASCII without spaces, and not starting with `-`.
    pub fn check(&self) -> Result<(), &'static str> {
        let t = self.0.as_str();
        if t.is_empty() {
            return Err("it is empty");
        }
        if t == EMPTY {
            return Err("it is the placeholder value");
        }
        if t.starts_with('-') {
            return Err("it starts with '-'");
        }
        if !t.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("it holds spaces, control or non-ASCII characters");
        }
        Ok(())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The value of a `mirror-<node>` key: the placeholder or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirrorValue {
    /// The literal `empty`: the node needs a token.
    Empty,
    /// A join token.
    Token(Token),
}

impl MirrorValue {
    /// Reads a wire value: `empty` is the placeholder, anything else a token.
    pub fn from_wire(text: &str) -> MirrorValue {
        if text == EMPTY {
            MirrorValue::Empty
        } else {
            MirrorValue::Token(Token(text.to_string()))
        }
    }

    /// The wire value.
    pub fn as_wire(&self) -> &str {
        match self {
            MirrorValue::Empty => EMPTY,
            MirrorValue::Token(t) => t.expose(),
        }
    }

    /// Whether this is the placeholder.
    pub fn is_empty(&self) -> bool {
        matches!(self, MirrorValue::Empty)
    }

    /// The token, unless this is the placeholder.
    pub fn token(&self) -> Option<&Token> {
        match self {
            MirrorValue::Empty => None,
            MirrorValue::Token(t) => Some(t),
        }
    }
}

/// The `mirror` flag of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MirrorFlag {
    /// This unit's mirror entries are live.
    Up,
    /// This unit was a mirror and no longer is.
    Down,
}

/// The `mirror-<node>` entries of a bag, by node name (prefix removed), sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorEntries(pub BTreeMap<String, MirrorValue>);

impl MirrorEntries {
    /// The entry of `node`.
    pub fn get(&self, node: &str) -> Option<&MirrorValue> {
        self.0.get(node)
    }

    /// Whether any entry holds a token (not the placeholder).
    pub fn has_token(&self) -> bool {
        self.0.values().any(|v| !v.is_empty())
    }

    /// The number of entries holding a token.
    pub fn tokens(&self) -> usize {
        self.0.values().filter(|v| !v.is_empty()).count()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for MirrorEntries {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (node, value) in &self.0 {
            map.serialize_entry(&mirror_key(node), value.as_wire())?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for MirrorEntries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = MirrorEntries;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of string keys to string values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MirrorEntries, A::Error> {
                let mut entries = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value: String = map.next_value()?;
                    if let Some(node) = key.strip_prefix(MIRROR_PREFIX)
                        && !node.is_empty()
                    {
                        entries.insert(node.to_string(), MirrorValue::from_wire(&value));
                    }
                }
                Ok(MirrorEntries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

impl JsonSchema for MirrorEntries {
    fn schema_name() -> Cow<'static, str> {
        "MirrorEntries".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "patternProperties": {
                "^mirror-.+$": {
                    "type": "string",
                    "minLength": 1,
                    "description": "`mirror-<node>`: a join token for <node>, or the literal `empty` (placeholder: <node> needs a token)"
                }
            }
        })
    }
}

/// A consumer unit's bag (every consumer unit writes `hostname`; the communicator the rest).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "worker-cluster consumer unit bag")]
pub struct ConsumerUnitBag {
    /// The unit's node name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", pattern(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$"))]
    pub hostname: Option<String>,
    /// `up` on the communicator node, `down` on a former communicator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "MirrorFlag")]
    pub mirror: Option<MirrorFlag>,
    /// Tokens minted by the communicator, by node name.
    #[serde(flatten)]
    pub entries: MirrorEntries,
}

/// A provider (distributor) unit's bag; the leader's is the live mirror.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "worker-cluster provider unit bag")]
pub struct ProviderUnitBag {
    /// `up` on the distributor leader, `down` on a former leader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "MirrorFlag")]
    pub mirror: Option<MirrorFlag>,
    /// Placeholders and tokens, by node name.
    #[serde(flatten)]
    pub entries: MirrorEntries,
}

/// The provider's application bag (LIBPATCH 7+; a LIBPATCH 2 to 6 provider leaves it empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "worker-cluster provider application bag")]
pub struct ProviderAppBag {
    /// The consumer application whose leader bootstraps the cluster.
    #[serde(
        rename = "bootstrap-app",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(
        with = "String",
        pattern(r"^[a-z][a-z0-9]*(-[a-z0-9]*[a-z][a-z0-9]*)*$")
    )]
    pub bootstrap_app: Option<String>,
}

/// Decodes a bag strictly, then again without the keys that failed (each failure reported).
fn decode_lenient<T: serde::de::DeserializeOwned + Default>(
    bag: &BagData,
    droppable: &[&str],
) -> (T, Vec<WireError>) {
    let mut bag = bag.clone();
    let mut problems = Vec::new();
    // At most one retry per droppable key: each failure names the key it is about.
    for _ in 0..=droppable.len() {
        match databag::decode::<T>(&bag) {
            Ok(value) => return (value, problems),
            Err(e) => {
                let key = e.key().unwrap_or(".").to_string();
                problems.push(WireError::from(e));
                if droppable.contains(&key.as_str()) && bag.remove(&key).is_some() {
                    continue;
                }
                return (T::default(), problems);
            }
        }
    }
    (T::default(), problems)
}

impl ConsumerUnitBag {
    /// Decodes strictly: a `mirror` other than `up`/`down` or a bad `hostname` is an error.
    pub fn decode(bag: &BagData) -> Result<Self, WireError> {
        let value: ConsumerUnitBag = databag::decode(bag)?;
        value.check()?;
        Ok(value)
    }

    /// Decodes what can be used: a bad `mirror` or `hostname` is left out and reported.
    pub fn decode_lenient(bag: &BagData) -> (Self, Vec<WireError>) {
        let (mut value, mut problems): (ConsumerUnitBag, _) =
            decode_lenient(bag, &[KEY_MIRROR, KEY_HOSTNAME]);
        if let Err(e) = value.check() {
            value.hostname = None;
            problems.push(e);
        }
        (value, problems)
    }

    fn check(&self) -> Result<(), WireError> {
        if let Some(name) = &self.hostname {
            check_node_name(name).map_err(|why| WireError::NodeName {
                key: KEY_HOSTNAME.into(),
                name: name.clone(),
                why,
            })?;
        }
        Ok(())
    }

    /// The bag entries this value writes (absent fields are left as they are).
    pub fn encode(&self) -> Result<BagData, WireError> {
        Ok(databag::encode(self)?)
    }
}

impl ProviderUnitBag {
    /// Decodes strictly: a `mirror` other than `up`/`down` is an error.
    pub fn decode(bag: &BagData) -> Result<Self, WireError> {
        Ok(databag::decode(bag)?)
    }

    /// Decodes what can be used: a bad `mirror` is left out (the unit is no mirror) and reported.
    pub fn decode_lenient(bag: &BagData) -> (Self, Vec<WireError>) {
        decode_lenient(bag, &[KEY_MIRROR])
    }

    /// The bag entries this value writes.
    pub fn encode(&self) -> Result<BagData, WireError> {
        Ok(databag::encode(self)?)
    }
}

impl ProviderAppBag {
    /// Decodes the app bag; a `bootstrap-app` that is not a valid application name is an error.
    pub fn decode(bag: &BagData) -> Result<Self, WireError> {
        let value: ProviderAppBag = databag::decode(bag)?;
        if let Some(app) = &value.bootstrap_app
            && !valid_app_name(app)
        {
            return Err(WireError::Field {
                key: KEY_BOOTSTRAP_APP.into(),
                detail: format!("{app:?} is not a Juju application name"),
            });
        }
        Ok(value)
    }

    /// The bag entries this value writes.
    pub fn encode(&self) -> Result<BagData, WireError> {
        Ok(databag::encode(self)?)
    }
}

/// Juju's application name rule: lowercase letters, digits and `-`, starting with a letter,
/// no `-` at the end or before a digit-only segment.
fn valid_app_name(name: &str) -> bool {
    let mut segments = name.split('-');
    let first_ok = segments
        .next()
        .is_some_and(|s| s.starts_with(|c: char| c.is_ascii_lowercase()));
    first_ok
        && name.split('-').all(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && name
            .split('-')
            .all(|s| s.chars().any(|c| c.is_ascii_lowercase()))
}

#[cfg(test)]
#[path = "wire_test.rs"]
mod tests;
