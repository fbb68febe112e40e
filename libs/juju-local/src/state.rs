//! The model state file (`state.json`): applications, units, relations, databags, secrets and each unit
//! agent's view of them. Only the driver writes it, atomically; hook tools only read it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::ids::{is_xid, split_unit};

/// The charm metadata kept in the state file with each application.
pub use crate::meta::{ActionSpec, CharmMeta, ConfigOption, Endpoint, Role};

/// The version of the state file format written by this crate.
pub const STATE_VERSION: u32 = 1;

/// Whether an entity is alive or being torn down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Life {
    /// In normal operation.
    #[default]
    Alive,
    /// Being removed: teardown hooks are running or pending.
    Dying,
}

/// A workload status (unit or application).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// `active`, `blocked`, `maintenance`, `waiting`, `unknown` or `error`.
    pub status: String,
    /// Free-text message.
    #[serde(default)]
    pub message: String,
    /// Extra status data.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, Value>,
}

impl Status {
    /// A status with no data.
    pub fn new(status: &str, message: &str) -> Status {
        Status {
            status: status.into(),
            message: message.into(),
            data: BTreeMap::new(),
        }
    }
}

impl Default for Status {
    fn default() -> Self {
        Status::new("unknown", "")
    }
}

/// A databag: string keys and values plus a version bumped on every committed change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bag {
    /// The settings.
    #[serde(default)]
    pub data: BTreeMap<String, String>,
    /// Incremented on every committed change.
    #[serde(default)]
    pub version: u64,
}

/// One side of a relation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationEndpoint {
    /// The application.
    pub app: String,
    /// The endpoint name on that application.
    pub endpoint: String,
    /// The endpoint's role.
    pub role: Role,
}

/// A relation between two applications (or a peer relation of one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    /// The relation id.
    pub id: u64,
    /// The interface name.
    pub interface: String,
    /// One endpoint (peer) or two (requirer first, then provider).
    pub endpoints: Vec<RelationEndpoint>,
    /// `global`, or `container` when either endpoint declares container scope (then both sides
    /// only see the units on their own machine).
    #[serde(default = "global_scope")]
    pub scope: String,
    /// Alive, or dying after `remove-relation`/`remove-app`.
    #[serde(default)]
    pub life: Life,
    /// Application databags by application name.
    #[serde(default)]
    pub app_data: BTreeMap<String, Bag>,
    /// Unit databags by unit name.
    #[serde(default)]
    pub unit_data: BTreeMap<String, Bag>,
}

fn global_scope() -> String {
    "global".into()
}

impl Relation {
    /// True for a container-scoped relation.
    pub fn is_container(&self) -> bool {
        self.scope == "container"
    }

    /// True for a peer relation.
    pub fn is_peer(&self) -> bool {
        self.endpoints.len() == 1
    }

    /// The Juju relation key, e.g. `wordpress:db mysql:server`.
    pub fn key(&self) -> String {
        self.endpoints
            .iter()
            .map(|e| format!("{}:{}", e.app, e.endpoint))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The Juju relation tag, e.g. `relation-wordpress.db#mysql.server`.
    pub fn tag(&self) -> String {
        let parts: Vec<String> = self
            .endpoints
            .iter()
            .map(|e| format!("{}.{}", e.app, e.endpoint))
            .collect();
        format!("relation-{}", parts.join("#"))
    }

    /// The endpoint belonging to `app`.
    pub fn endpoint_of(&self, app: &str) -> Option<&RelationEndpoint> {
        self.endpoints.iter().find(|e| e.app == app)
    }

    /// The application on the other side (the same application for peers).
    pub fn remote_app(&self, app: &str) -> Option<&str> {
        if self.is_peer() {
            return self.endpoints.first().map(|e| e.app.as_str());
        }
        self.endpoints
            .iter()
            .find(|e| e.app != app)
            .map(|e| e.app.as_str())
    }

    /// True when `app` takes part in this relation.
    pub fn involves(&self, app: &str) -> bool {
        self.endpoints.iter().any(|e| e.app == app)
    }
}

/// What a hook run is: name plus the event-specific environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HookSpec {
    /// The hook name (`install`, `db-relation-changed`) or, for actions, the action name.
    pub name: String,
    /// The relation id for relation hooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<u64>,
    /// `JUJU_REMOTE_UNIT` (may be empty for app-level changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_unit: Option<String>,
    /// `JUJU_REMOTE_APP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_app: Option<String>,
    /// `JUJU_DEPARTING_UNIT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departing_unit: Option<String>,
    /// The secret id (bare xid) for secret hooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// `JUJU_SECRET_REVISION` for secret-remove/secret-expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_revision: Option<u32>,
    /// For actions: the action id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<u64>,
    /// For actions: the validated parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_params: Option<Value>,
    /// Extra environment variables (workload/storage hooks run by hand).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
}

impl HookSpec {
    /// A hook with no event-specific environment.
    pub fn simple(name: &str) -> HookSpec {
        HookSpec {
            name: name.into(),
            ..HookSpec::default()
        }
    }

    /// True for an action run.
    pub fn is_action(&self) -> bool {
        self.action_id.is_some()
    }

    /// A short human description, e.g. `db-relation-changed (db:3, remote pg/0)`.
    pub fn describe(&self) -> String {
        let mut extra = Vec::new();
        if let Some(id) = self.relation {
            extra.push(format!("relation {id}"));
        }
        match self.remote_unit.as_deref() {
            Some("") if self.name.ends_with("-relation-changed") => extra.push("app-level".into()),
            Some("") => {}
            Some(u) => extra.push(format!("remote {u}")),
            None => {}
        }
        if let Some(d) = &self.departing_unit {
            extra.push(format!("departing {d}"));
        }
        if let Some(s) = &self.secret {
            extra.push(format!("secret:{s}"));
        }
        if let Some(r) = self.secret_revision {
            extra.push(format!("revision {r}"));
        }
        if let Some(a) = self.action_id {
            extra.push(format!("action {a}"));
        }
        if extra.is_empty() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, extra.join(", "))
        }
    }
}

/// A unit agent's view of one relation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitRelation {
    /// relation-created has run.
    #[serde(default)]
    pub created: bool,
    /// Remote units this unit has seen join, with the bag version its last -changed saw.
    #[serde(default)]
    pub members: BTreeMap<String, u64>,
    /// A -changed that must follow the -joined just run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_pending: Option<String>,
    /// The remote application bag version last delivered as an app-level -changed.
    #[serde(default)]
    pub app_version: u64,
}

/// A hook that failed and blocks its unit until resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookFailure {
    /// The hook that failed.
    pub hook: HookSpec,
    /// Why (exit code or commit error).
    pub message: String,
    /// Whether the failed hook came from the unit's explicit queue.
    #[serde(default)]
    pub queued: bool,
}

/// What the unit agent has seen and done; the driver computes the next hook from it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentState {
    /// install has run.
    #[serde(default)]
    pub installed: bool,
    /// start has run.
    #[serde(default)]
    pub started: bool,
    /// stop has run.
    #[serde(default)]
    pub stopped: bool,
    /// The leadership term whose leader-elected this unit has run.
    #[serde(default)]
    pub leader_term_seen: u64,
    /// The leader-settings version this unit has seen (followers).
    #[serde(default)]
    pub leader_settings_seen: u64,
    /// The config version whose config-changed has run.
    #[serde(default)]
    pub config_seen: u64,
    /// Per-relation views.
    #[serde(default)]
    pub relations: BTreeMap<u64, UnitRelation>,
    /// Explicitly queued hooks (secret events, rotations).
    #[serde(default)]
    pub queue: VecDeque<HookSpec>,
    /// The failed hook blocking this unit, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<HookFailure>,
    /// Storage instances whose `-storage-attached` has run (and not yet `-storage-detaching`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub storage_attached: BTreeSet<String>,
}

/// One opened port or range, optionally limited to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OpenPort {
    /// `*` for all endpoints, else the endpoint name.
    pub endpoint: String,
    /// `tcp`, `udp` or `icmp`.
    pub protocol: String,
    /// First port (0 for icmp).
    pub from: u16,
    /// Last port (0 for icmp).
    pub to: u16,
}

impl OpenPort {
    /// Juju's text form: `80/tcp`, `8000-8999/udp`, `icmp`.
    pub fn display(&self) -> String {
        if self.protocol == "icmp" {
            "icmp".into()
        } else if self.from == self.to {
            format!("{}/{}", self.from, self.protocol)
        } else {
            format!("{}-{}/{}", self.from, self.to, self.protocol)
        }
    }
}

/// A unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// `app/N`.
    pub name: String,
    /// N.
    pub number: u32,
    /// This unit's own copy of the charm (`JUJU_CHARM_DIR`).
    pub charm_dir: PathBuf,
    /// For a subordinate unit: the principal unit it runs next to (`JUJU_PRINCIPAL_UNIT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Workload status.
    #[serde(default)]
    pub status: Status,
    /// Set by `application-version-set`.
    #[serde(default)]
    pub workload_version: String,
    /// Opened ports.
    #[serde(default)]
    pub ports: Vec<OpenPort>,
    /// Charm state (`state-set`).
    #[serde(default)]
    pub charm_state: BTreeMap<String, String>,
    /// Alive or dying.
    #[serde(default)]
    pub life: Life,
    /// When the unit was added (RFC 3339).
    #[serde(default)]
    pub since: String,
    /// The unit agent's view.
    #[serde(default)]
    pub agent: AgentState,
    /// Attached storage instances by id (`data/0`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage: BTreeMap<String, StorageInstance>,
}

/// A storage instance attached to a unit: a directory of the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageInstance {
    /// `filesystem` or `block`.
    pub kind: String,
    /// Its directory (`units/<app>-<n>/storage/<name>-<index>`).
    pub location: PathBuf,
}

/// A deployed application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    /// The application name.
    pub name: String,
    /// 1-based deployment index (used for fake addresses).
    pub index: u32,
    /// The charm directory it was deployed from.
    pub charm_source: PathBuf,
    /// The charm's metadata, config and actions.
    pub meta: CharmMeta,
    /// Config values set by the user (defaults come from `meta.config`).
    #[serde(default)]
    pub config: BTreeMap<String, Value>,
    /// Incremented on every config change.
    #[serde(default)]
    pub config_version: u64,
    /// The leader unit.
    #[serde(default)]
    pub leader: Option<String>,
    /// Incremented on every leadership change.
    #[serde(default)]
    pub leader_term: u64,
    /// Leader settings (`leader-set`).
    #[serde(default)]
    pub leader_settings: BTreeMap<String, String>,
    /// Incremented on every leader-settings change (and on leadership change).
    #[serde(default)]
    pub leader_settings_version: u64,
    /// Application status (set by the leader).
    #[serde(default)]
    pub status: Status,
    /// Extra hook environment (`{unit}`, `{app}`, `{n}`, `{model}` replaced per unit).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The next unit number.
    #[serde(default)]
    pub next_unit: u32,
    /// Units by number.
    #[serde(default)]
    pub units: BTreeMap<u32, Unit>,
    /// Alive or dying.
    #[serde(default)]
    pub life: Life,
    /// Granted `trust`: `credential-get` answers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub trusted: bool,
    /// Attached file resources: the model's copy, by resource name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resources: BTreeMap<String, PathBuf>,
    /// Storage instances each new unit gets, by storage name (`deploy --storage`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage: BTreeMap<String, u32>,
}

impl Application {
    /// The effective config: defaults overlaid with user values (unset options without default omitted).
    pub fn effective_config(&self) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        for (k, opt) in &self.meta.config {
            if let Some(v) = self.config.get(k).or(opt.default.as_ref()) {
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }
}

/// Who owns a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretOwner {
    /// `application`, `unit`, or `model` (a user secret: made by the operator, read-only to charms).
    pub kind: String,
    /// The application or unit name.
    pub name: String,
}

impl SecretOwner {
    /// True when `unit` may manage this secret (`leader` says whether it leads its application).
    pub fn managed_by(&self, unit: &str, leader: bool) -> bool {
        match self.kind.as_str() {
            "unit" => self.name == unit,
            "model" => false,
            _ => leader && unit.split('/').next() == Some(self.name.as_str()),
        }
    }

    /// True when `unit` belongs to the owner (the owning unit, or any unit of the owning app).
    pub fn includes(&self, unit: &str) -> bool {
        match self.kind.as_str() {
            "unit" => self.name == unit,
            "model" => false,
            _ => unit.split('/').next() == Some(self.name.as_str()),
        }
    }
}

/// One revision of a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretRevision {
    /// Content: key → base64 of the value bytes.
    pub content: BTreeMap<String, String>,
    /// When created (RFC 3339).
    #[serde(default)]
    pub created: String,
    /// Expiry time (RFC 3339), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire: Option<String>,
}

impl SecretRevision {
    /// The content decoded: key → value (bytes that are not UTF-8 replaced).
    pub fn decoded(&self) -> BTreeMap<String, String> {
        self.content
            .iter()
            .map(|(k, v)| {
                let bytes = crate::base64::b64_decode(v).unwrap_or_default();
                (k.clone(), String::from_utf8_lossy(&bytes).into_owned())
            })
            .collect()
    }
}

/// Seconds in a rotation period.
pub(crate) fn rotate_period(policy: &str) -> Option<i64> {
    Some(match policy {
        "hourly" => 3600,
        "daily" => 86_400,
        "weekly" => 7 * 86_400,
        "monthly" => 30 * 86_400,
        "quarterly" => 90 * 86_400,
        "yearly" => 365 * 86_400,
        _ => return None,
    })
}

/// Access granted to an application (or one unit of it), scoped to a relation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretGrant {
    /// The grantee application.
    pub app: String,
    /// Only this unit of it, if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The relation the grant is tied to; `None` for a user secret granted by the operator
    /// (`juju grant-secret`), which lasts until revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<u64>,
}

/// A unit reading a secret: the revision it tracks and its own label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretConsumer {
    /// The tracked revision (0: never read).
    #[serde(default)]
    pub revision: u32,
    /// This unit's label for the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The latest revision this unit was told about with secret-changed.
    #[serde(default)]
    pub notified: u32,
}

/// A charm secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Secret {
    /// The bare xid.
    pub id: String,
    /// The owner.
    pub owner: SecretOwner,
    /// The owner's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Rotation policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate: Option<String>,
    /// Next scheduled rotation (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_rotate: Option<String>,
    /// Revisions by number.
    pub revisions: BTreeMap<u32, SecretRevision>,
    /// The latest revision number.
    pub latest: u32,
    /// Grants.
    #[serde(default)]
    pub grants: Vec<SecretGrant>,
    /// Readers by unit name (owner units included).
    #[serde(default)]
    pub consumers: BTreeMap<String, SecretConsumer>,
    /// Revisions for which the owner was already sent secret-remove.
    #[serde(default)]
    pub remove_notified: BTreeSet<u32>,
}

impl Secret {
    /// `secret:<xid>`.
    pub fn uri(&self) -> String {
        format!("secret:{}", self.id)
    }

    /// True when `unit` (of application `app`) has been granted read access.
    pub fn granted_to(&self, unit: &str, app: &str) -> bool {
        self.grants
            .iter()
            .any(|g| g.app == app && g.unit.as_deref().is_none_or(|u| u == unit))
    }
}

/// The result of an action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionOutcome {
    /// The action id.
    pub id: u64,
    /// The unit it ran on.
    pub unit: String,
    /// The action name.
    pub action: String,
    /// The validated parameters.
    pub params: Value,
    /// `completed` or `failed`.
    pub status: String,
    /// The failure message, if any.
    #[serde(default)]
    pub message: String,
    /// Results: `action-set` values (nested at dots) plus `return-code`, `stdout`, `stderr`.
    pub results: Value,
    /// `action-log` messages.
    #[serde(default)]
    pub logs: Vec<String>,
}

/// The whole model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelState {
    /// File format version.
    pub version: u32,
    /// Model name (`JUJU_MODEL_NAME`).
    pub name: String,
    /// Model UUID (`JUJU_MODEL_UUID`).
    pub uuid: String,
    /// When the model was created (RFC 3339).
    pub created: String,
    /// The `JUJU_VERSION` given to charms.
    #[serde(default = "default_juju_version")]
    pub juju_version: String,
    /// Next relation id.
    #[serde(default)]
    pub next_relation_id: u64,
    /// Next storage instance index, by storage name (model-wide, as Juju numbers them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub next_storage: BTreeMap<String, u32>,
    /// Next action id.
    #[serde(default = "one")]
    pub next_action_id: u64,
    /// Counter for secret ids.
    #[serde(default)]
    pub next_secret_seq: u32,
    /// Counter for hook runs (context ids and timeline sequence numbers).
    #[serde(default)]
    pub next_hook_seq: u64,
    /// Counter for application indexes.
    #[serde(default)]
    pub next_app_index: u32,
    /// Applications by name.
    #[serde(default)]
    pub applications: BTreeMap<String, Application>,
    /// Relations by id.
    #[serde(default)]
    pub relations: BTreeMap<u64, Relation>,
    /// Secrets by bare id.
    #[serde(default)]
    pub secrets: BTreeMap<String, Secret>,
    /// Completed actions by id.
    #[serde(default)]
    pub actions: BTreeMap<u64, ActionOutcome>,
    /// Key patterns whose values printed output hides, besides the built-in ones (a scenario's
    /// `redact:` list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redact: Vec<String>,
}

fn default_juju_version() -> String {
    "3.6.14".into()
}

fn one() -> u64 {
    1
}

impl ModelState {
    /// A fresh, empty model.
    pub fn new(name: &str) -> ModelState {
        ModelState {
            next_storage: BTreeMap::new(),
            version: STATE_VERSION,
            name: name.into(),
            uuid: crate::ids::new_uuid(),
            created: crate::clock::rfc3339(crate::clock::now_secs()),
            juju_version: default_juju_version(),
            next_relation_id: 0,
            next_action_id: 1,
            next_secret_seq: 0,
            next_hook_seq: 0,
            next_app_index: 0,
            applications: BTreeMap::new(),
            relations: BTreeMap::new(),
            secrets: BTreeMap::new(),
            actions: BTreeMap::new(),
            redact: Vec::new(),
        }
    }

    /// Parses a state file's text.
    pub fn parse(path: &Path, text: &str) -> Result<ModelState> {
        let st: ModelState = serde_json::from_str(text).map_err(|e| Error::MalformedState {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if st.version != STATE_VERSION {
            return Err(Error::MalformedState {
                path: path.to_path_buf(),
                message: format!(
                    "state version {} not supported (expected {STATE_VERSION})",
                    st.version
                ),
            });
        }
        Ok(st)
    }

    /// Loads `state.json` from a model directory.
    pub fn load(model_dir: &Path) -> Result<ModelState> {
        let path = model_dir.join("state.json");
        if !path.exists() {
            return Err(Error::NoModel(model_dir.to_path_buf()));
        }
        let text = crate::files::read_to_string(&path)?;
        ModelState::parse(&path, &text)
    }

    /// Writes `state.json` atomically.
    pub fn save(&self, model_dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Format {
            what: "model state".into(),
            message: e.to_string(),
        })?;
        crate::files::write_atomic(&model_dir.join("state.json"), text.as_bytes())
    }

    /// Looks a unit up by name.
    pub fn unit(&self, name: &str) -> Option<&Unit> {
        let (app, n) = split_unit(name)?;
        self.applications.get(app)?.units.get(&n)
    }

    /// Looks a unit up by name, mutably.
    pub fn unit_mut(&mut self, name: &str) -> Option<&mut Unit> {
        let (app, n) = split_unit(name)?;
        self.applications.get_mut(app)?.units.get_mut(&n)
    }

    /// True when `unit` is its application's leader.
    pub fn is_leader(&self, unit: &str) -> bool {
        split_unit(unit)
            .and_then(|(app, _)| self.applications.get(app))
            .and_then(|a| a.leader.as_deref())
            == Some(unit)
    }

    /// All unit names, ordered by application then number.
    pub fn unit_names(&self) -> Vec<String> {
        self.applications
            .values()
            .flat_map(|a| a.units.values().map(|u| u.name.clone()))
            .collect()
    }

    /// The "machine" a unit runs on: its principal's name for a subordinate, else its own name.
    pub fn machine_of(&self, unit: &str) -> String {
        self.unit(unit)
            .and_then(|u| u.principal.clone())
            .unwrap_or_else(|| unit.to_string())
    }

    /// The subordinate units whose principal is `unit`, ordered by application then number.
    pub fn subordinates_of(&self, unit: &str) -> Vec<String> {
        self.applications
            .values()
            .flat_map(|a| a.units.values())
            .filter(|u| u.principal.as_deref() == Some(unit))
            .map(|u| u.name.clone())
            .collect()
    }

    /// The fake address of a unit (`10.1.<app index>.<n + 10>`); a subordinate shares its
    /// principal's address, as it runs on the same machine.
    pub fn unit_address(&self, unit: &str) -> String {
        let machine = self.machine_of(unit);
        let (app, n) = split_unit(&machine).unwrap_or((machine.as_str(), 0));
        let idx = self.applications.get(app).map_or(0, |a| a.index);
        format!("10.1.{}.{}", idx % 256, (n + 10) % 256)
    }

    /// Whether `unit` can take part in `rel` at all. In a container-scoped relation between a
    /// subordinate and a principal application, a subordinate unit only belongs to the relation
    /// whose principal side is its own principal's application (Juju's `RelationUnit.Valid`).
    pub fn relation_valid_for(&self, unit: &str, rel: &Relation) -> bool {
        if !rel.is_container() || rel.is_peer() {
            return true;
        }
        let Some(principal) = self.unit(unit).and_then(|u| u.principal.as_deref()) else {
            return true;
        };
        let app = unit.split('/').next().unwrap_or_default();
        let Some(other) = rel.remote_app(app) else {
            return false;
        };
        if self
            .applications
            .get(other)
            .is_some_and(|a| a.meta.subordinate)
        {
            return true;
        }
        principal.split('/').next() == Some(other)
    }

    /// Finds a secret by `secret:<xid>`, `secret://<uuid>/<xid>` or bare xid.
    pub fn find_secret(&self, reference: &str) -> Option<&Secret> {
        let id = parse_secret_ref(reference)?;
        self.secrets.get(&id)
    }

    /// The data of one databag of a relation: a unit's (`app/N`) or an application's.
    pub fn bag(&self, relation: u64, owner: &str) -> Option<BTreeMap<String, String>> {
        let rel = self.relations.get(&relation)?;
        rel.unit_data
            .get(owner)
            .or_else(|| rel.app_data.get(owner))
            .map(|b| b.data.clone())
    }

    /// The id of the relation between two `app[:endpoint]` references, or with `b` `None` of a
    /// peer relation of `a`'s application.
    pub fn relation_between(&self, a: &str, b: Option<&str>) -> Option<u64> {
        let (app_a, ep_a) = endpoint_ref(a);
        let other = b.map(endpoint_ref);
        self.relations
            .values()
            .find(|r| {
                let side = |app: &str, ep: &Option<String>| {
                    r.endpoints
                        .iter()
                        .any(|e| e.app == app && ep.as_ref().is_none_or(|n| &e.endpoint == n))
                };
                side(&app_a, &ep_a)
                    && match &other {
                        Some((x, y)) => side(x, y),
                        None => r.is_peer(),
                    }
            })
            .map(|r| r.id)
    }
}

/// Splits an `app[:endpoint]` reference.
pub(crate) fn endpoint_ref(s: &str) -> (String, Option<String>) {
    match s.split_once(':') {
        Some((a, e)) => (a.to_string(), Some(e.to_string())),
        None => (s.to_string(), None),
    }
}

/// Extracts the bare xid from `secret:<xid>`, `secret://<model-uuid>/<xid>` or `<xid>`.
pub fn parse_secret_ref(s: &str) -> Option<String> {
    let rest = s.strip_prefix("secret:").unwrap_or(s);
    let rest = match rest.strip_prefix("//") {
        Some(r) => {
            let (host, id) = r.split_once('/')?;
            if host.is_empty() {
                return None;
            }
            id
        }
        None => rest,
    };
    is_xid(rest).then(|| rest.to_string())
}
