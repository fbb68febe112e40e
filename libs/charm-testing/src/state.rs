//! The input and output of a harness run: the Juju model as one unit sees it.

use charm::secret::{RotatePolicy, SecretContent, SecretOwner};
use charm::state::Deferred;
use charm::{BagData, Event, Port, RelationEvent, RelationId, SecretEvent, SecretId, Status};
use std::collections::{BTreeMap, BTreeSet};

/// Builds a bag from pairs.
pub fn bag<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> BagData {
    pairs
        .into_iter()
        .map(|(k, v)| (k.as_ref().to_string(), v.as_ref().to_string()))
        .collect()
}

/// A relation of the unit under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// Endpoint name.
    pub endpoint: String,
    /// Relation id.
    pub id: u32,
    /// The remote application (this app for a peer relation).
    pub remote_app: String,
    /// Whether this is a peer relation.
    pub peer: bool,
    /// This app's bag.
    pub local_app_data: BagData,
    /// This unit's bag.
    pub local_unit_data: BagData,
    /// The remote app's bag.
    pub remote_app_data: BagData,
    /// Remote units by number (`<remote_app>/<n>`) and their bags.
    pub remote_units: BTreeMap<u32, BagData>,
    /// The remote model's UUID.
    pub remote_model_uuid: String,
}

impl Relation {
    /// A regular relation with no data and no remote units yet.
    pub fn new(endpoint: &str, id: u32, remote_app: &str) -> Self {
        Relation {
            endpoint: endpoint.to_string(),
            id,
            remote_app: remote_app.to_string(),
            peer: false,
            local_app_data: BagData::new(),
            local_unit_data: BagData::new(),
            remote_app_data: BagData::new(),
            remote_units: BTreeMap::new(),
            remote_model_uuid: "00000000-0000-4000-8000-000000000000".into(),
        }
    }

    /// A peer relation of application `app`; add the other units with [`Relation::remote_unit`].
    pub fn peer(endpoint: &str, id: u32, app: &str) -> Self {
        Relation {
            peer: true,
            ..Relation::new(endpoint, id, app)
        }
    }

    /// The relation reference hook tools use.
    pub fn rid(&self) -> RelationId {
        RelationId::new(self.endpoint.clone(), self.id)
    }

    /// Sets the remote app bag.
    pub fn remote_app_data<K: AsRef<str>, V: AsRef<str>>(
        mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.remote_app_data = bag(pairs);
        self
    }

    /// Sets this app's bag.
    pub fn local_app_data<K: AsRef<str>, V: AsRef<str>>(
        mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.local_app_data = bag(pairs);
        self
    }

    /// Sets this unit's bag.
    pub fn local_unit_data<K: AsRef<str>, V: AsRef<str>>(
        mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.local_unit_data = bag(pairs);
        self
    }

    /// Adds a remote unit with its bag.
    pub fn remote_unit<K: AsRef<str>, V: AsRef<str>>(
        mut self,
        n: u32,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.remote_units.insert(n, bag(pairs));
        self
    }

    /// The name of remote unit `n`.
    pub fn unit_name(&self, n: u32) -> String {
        format!("{}/{n}", self.remote_app)
    }

    fn event(&self, remote_unit: Option<u32>, departing: Option<u32>) -> RelationEvent {
        RelationEvent {
            relation: self.rid(),
            remote_app: Some(self.remote_app.clone()),
            remote_unit: remote_unit.map(|n| self.unit_name(n)),
            departing_unit: departing.map(|n| self.unit_name(n)),
        }
    }

    /// `<endpoint>-relation-created`
    pub fn created(&self) -> Event {
        Event::RelationCreated(self.event(None, None))
    }

    /// `<endpoint>-relation-joined` for remote unit `n`.
    pub fn joined(&self, n: u32) -> Event {
        Event::RelationJoined(self.event(Some(n), None))
    }

    /// `<endpoint>-relation-changed` from remote unit `n`, or an app-level change (`None`).
    pub fn changed(&self, n: Option<u32>) -> Event {
        Event::RelationChanged(self.event(n, None))
    }

    /// `<endpoint>-relation-departed`: remote unit `n` left (remove it from `remote_units` yourself).
    pub fn departed(&self, n: u32) -> Event {
        Event::RelationDeparted(self.event(Some(n), Some(n)))
    }

    /// `<endpoint>-relation-broken`.
    pub fn broken(&self) -> Event {
        Event::RelationBroken(self.event(None, None))
    }
}

/// A secret this unit owns or can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// URI, `secret:<id>`.
    pub id: String,
    /// `Some` when this unit's app (or this unit) owns it; `None` for a secret granted to us.
    pub owner: Option<SecretOwner>,
    /// Content by revision; the highest is the latest.
    pub revisions: BTreeMap<u32, SecretContent>,
    /// The revision this unit tracks (`None`: never read).
    pub tracked: Option<u32>,
    /// This unit's label for it.
    pub label: Option<String>,
    /// Description (owner).
    pub description: Option<String>,
    /// Expiry (owner).
    pub expire: Option<String>,
    /// Rotation policy (owner).
    pub rotate: Option<RotatePolicy>,
    /// Grants (owner): relation id to the units granted (empty set: the whole remote app).
    pub grants: BTreeMap<u32, BTreeSet<String>>,
    /// Whether this unit may read it: its own side's secret, or one granted to it.
    pub granted: bool,
}

impl Secret {
    /// A secret owned by another application, granted to this unit, with one revision.
    pub fn granted(id: &str, content: SecretContent) -> Self {
        Secret {
            id: id.to_string(),
            owner: None,
            revisions: BTreeMap::from([(1, content)]),
            tracked: None,
            label: None,
            description: None,
            expire: None,
            rotate: None,
            grants: BTreeMap::new(),
            granted: true,
        }
    }

    /// A secret that exists but is not this unit's to read (another application's, not granted
    /// to it, or another unit's): reading it is `permission denied`.
    pub fn ungranted(id: &str) -> Self {
        Secret {
            granted: false,
            ..Secret::granted(id, SecretContent::new().with("unseen", "unseen"))
        }
    }

    /// A secret owned by this application, with one revision.
    pub fn owned(id: &str, content: SecretContent) -> Self {
        Secret {
            owner: Some(SecretOwner::Application),
            tracked: Some(1),
            ..Secret::granted(id, content)
        }
    }

    /// Sets this unit's label.
    pub fn label(mut self, label: &str) -> Self {
        self.label = Some(label.to_string());
        self
    }

    /// Adds a revision with new content (as the owner's `secret-set` would).
    pub fn revision(mut self, content: SecretContent) -> Self {
        let next = self.latest() + 1;
        self.revisions.insert(next, content);
        self
    }

    /// Sets the tracked revision.
    pub fn tracking(mut self, revision: u32) -> Self {
        self.tracked = Some(revision);
        self
    }

    /// The latest revision number.
    pub fn latest(&self) -> u32 {
        self.revisions.keys().next_back().copied().unwrap_or(0)
    }

    /// The secret's id; panics (a test failure) when the test gave one Juju never produces.
    #[allow(clippy::panic)]
    pub fn secret_id(&self) -> SecretId {
        match SecretId::parse(&self.id) {
            Ok(id) => id,
            Err(e) => panic!("test secret: {e}"),
        }
    }

    fn event(&self, revision: Option<u32>) -> SecretEvent {
        SecretEvent {
            id: self.secret_id(),
            label: self.label.clone(),
            revision,
        }
    }

    /// `secret-changed` (to an observer).
    pub fn changed(&self) -> Event {
        Event::SecretChanged(self.event(None))
    }

    /// `secret-remove` of a revision (to the owner).
    pub fn remove(&self, revision: u32) -> Event {
        Event::SecretRemove(self.event(Some(revision)))
    }

    /// `secret-rotate` (to the owner).
    pub fn rotate_event(&self) -> Event {
        Event::SecretRotate(self.event(None))
    }

    /// `secret-expired` of a revision (to the owner).
    pub fn expired(&self, revision: u32) -> Event {
        Event::SecretExpired(self.event(Some(revision)))
    }
}

/// The model as the unit under test sees it, before or after a run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    /// Whether the unit is the leader.
    pub leader: bool,
    /// Config values set by the user (defaults from config.yaml are added by the context).
    pub config: serde_json::Map<String, serde_json::Value>,
    /// Relations.
    pub relations: Vec<Relation>,
    /// Secrets.
    pub secrets: Vec<Secret>,
    /// Stored values (the charm's state between hooks).
    pub stored: BTreeMap<String, serde_json::Value>,
    /// Deferred events.
    pub deferred: Vec<Deferred>,
    /// Unit status.
    pub unit_status: Option<Status>,
    /// App status.
    pub app_status: Option<Status>,
    /// Workload version.
    pub workload_version: Option<String>,
    /// Open ports.
    pub opened_ports: BTreeSet<Port>,
    /// Juju-side charm state (`state-get`/`state-set`).
    pub juju_state: BTreeMap<String, String>,
    /// Answers for hook tools the framework does not wrap, by tool ([`State::tool_answer`]).
    pub tool_answers: BTreeMap<String, crate::ToolAnswer>,
    /// Networks by binding ([`State::network`]); a declared binding not listed gets
    /// [`default_network`](crate::default_network).
    pub networks: BTreeMap<String, charm::network::Network>,
    /// Attached storage instances ([`State::storage`]).
    pub storages: Vec<crate::StorageInstance>,
    /// Instances asked for with `storage-add` and not yet attached: count by storage name.
    pub storage_requests: BTreeMap<String, u32>,
    /// File resources by name: the path `resource-get` prints ([`State::resource`]).
    pub resources: BTreeMap<String, std::path::PathBuf>,
    /// The cloud spec `credential-get` returns; `None`: the application is not trusted.
    pub cloud_spec: Option<charm::cloud::CloudSpec>,
    /// A reboot the charm asked for: `Some(true)` now, `Some(false)` after the hook.
    pub reboot: Option<bool>,
    /// Other units' statuses, for the leader's `status-get --application` (this unit's is
    /// [`State::unit_status`]).
    pub peer_unit_statuses: BTreeMap<String, Status>,
    /// What the dispatch environment says of the host: machine, zone, principal, proxies.
    pub host: charm::host::HostEnv,
    /// Workload containers (Kubernetes sidecar charms), each with its Pebble.
    pub containers: Vec<crate::container::Container>,
}

impl State {
    /// Sets leadership.
    pub fn leader(mut self, leader: bool) -> Self {
        self.leader = leader;
        self
    }

    /// Adds a relation.
    pub fn relation(mut self, relation: Relation) -> Self {
        self.relations.push(relation);
        self
    }

    /// Adds a secret.
    pub fn secret(mut self, secret: Secret) -> Self {
        self.secrets.push(secret);
        self
    }

    /// Sets a config value.
    pub fn config(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.config.insert(key.to_string(), value.into());
        self
    }

    /// Stores a value.
    pub fn stored(mut self, key: &str, value: serde_json::Value) -> Self {
        self.stored.insert(key.to_string(), value);
        self
    }

    /// Adds a workload container.
    pub fn container(mut self, container: crate::container::Container) -> Self {
        self.containers.push(container);
        self
    }

    /// The container of that name; panics (a test failure) when there is none.
    #[allow(clippy::panic)]
    pub fn get_container(&self, name: &str) -> &crate::container::Container {
        match self.containers.iter().find(|c| c.name == name) {
            Some(c) => c,
            None => panic!("the state has no container {name:?}"),
        }
    }

    /// The relation with that id.
    pub fn rel(&self, id: u32) -> Option<&Relation> {
        self.relations.iter().find(|r| r.id == id)
    }

    /// The relation with that id; panics (a test failure) when there is none.
    #[allow(clippy::panic)]
    pub fn get_relation(&self, id: u32) -> &Relation {
        match self.rel(id) {
            Some(rel) => rel,
            None => panic!("the state has no relation {id}"),
        }
    }

    /// The secret with that URI (any form) or label; panics (a test failure) when there is none.
    #[allow(clippy::panic)]
    pub fn get_secret(&self, id_or_label: &str) -> &Secret {
        match self.secret_by(id_or_label) {
            Some(secret) => secret,
            None => panic!("the state has no secret {id_or_label:?}"),
        }
    }

    /// The secret with that URI (any form) or label.
    pub fn secret_by(&self, id_or_label: &str) -> Option<&Secret> {
        let unique = charm::secret::unique_id(id_or_label);
        self.secrets.iter().find(|s| {
            charm::secret::unique_id(&s.id) == unique || s.label.as_deref() == Some(id_or_label)
        })
    }
}
