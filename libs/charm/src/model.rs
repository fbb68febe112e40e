//! The model a handler sees: this unit, its relations, databags, secrets, config and status.
//!
//! Juju's rules are enforced here, before any hook tool runs. Reads are cached for the dispatch
//! (Juju data does not change during a hook); databag writes are staged and sent with one
//! `relation-set` per bag when the dispatch succeeds.

use crate::backend::{BagData, HookToolError, HookTools, LogLevel};
use crate::databag::{self, DatabagError};
use crate::env::JujuEnv;
use crate::error::{Classify, Outcome};
use crate::event::{Event, RelationId};
use crate::meta::Metadata;
use crate::port::Port;
use crate::secret::{
    InvalidSecretKey, NewSecret, SecretContent, SecretId, SecretInfo, SecretOwner, SecretRead,
    SecretUpdate,
};
use crate::state::StateDoc;
use crate::status::{self, Status};
use serde::{Serialize, de::DeserializeOwned};
use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

/// How long an `is-leader` answer is trusted (Juju's lease is about 30 s).
const LEADER_CACHE: Duration = Duration::from_secs(30);

/// Which databag of a relation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bag {
    /// This unit's bag (read and write).
    LocalUnit,
    /// This application's bag (leader only, except on peer relations where every unit reads).
    LocalApp,
    /// The remote application's bag (read only).
    RemoteApp,
    /// A unit's bag by name: a remote unit, a peer, or this unit.
    Unit(String),
}

impl fmt::Display for Bag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bag::LocalUnit => f.write_str("local unit bag"),
            Bag::LocalApp => f.write_str("local application bag"),
            Bag::RemoteApp => f.write_str("remote application bag"),
            Bag::Unit(u) => write!(f, "bag of unit {u}"),
        }
    }
}

/// A model operation that Juju would refuse, or a hook tool that failed.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A hook tool failed.
    #[error(transparent)]
    HookTool(#[from] HookToolError),
    /// Only the leader may do this.
    #[error("only the leader can {action}; {unit} is not the leader")]
    NotLeader {
        /// This unit.
        unit: String,
        /// What was attempted.
        action: String,
    },
    /// The bag may not be read or written this way.
    #[error("cannot {action} the {bag} of relation {relation}: {why}")]
    AccessDenied {
        /// The relation.
        relation: RelationId,
        /// The bag.
        bag: Bag,
        /// `read` or `write`.
        action: &'static str,
        /// Juju's rule.
        why: &'static str,
    },
    /// The relation is being removed (relation-broken): its data can no longer be written.
    #[error("relation {0} is broken: its data can no longer be written")]
    RelationBroken(RelationId),
    /// The endpoint is not in `metadata.yaml`.
    #[error("endpoint {0:?} is not declared in metadata.yaml")]
    UnknownEndpoint(String),
    /// The storage is not in `metadata.yaml`, or more instances than it allows were asked for.
    #[error("storage {name:?}: {why}")]
    Storage {
        /// The storage name.
        name: String,
        /// What is wrong.
        why: String,
    },
    /// A secret content key Juju would reject.
    #[error(transparent)]
    InvalidSecretKey(#[from] InvalidSecretKey),
    /// Config does not match the charm's config type.
    #[error("invalid config: {0}")]
    Config(String),
    /// A databag does not decode into its type.
    #[error("{bag} of relation {relation}: {source}")]
    Databag {
        /// The relation.
        relation: RelationId,
        /// The bag.
        bag: Bag,
        /// What is wrong.
        source: Box<DatabagError>,
    },
    /// An action-only call outside an action.
    #[error("{0} is only possible while running an action")]
    NotAnAction(&'static str),
    /// The action parameters do not match the handler's type.
    #[error("invalid action parameters: {0}")]
    ActionParams(String),
    /// Action results that cannot be passed to `action-set`: one result, or all of them, do not
    /// fit in a command line (Linux's 128 KiB per argument, 2 MiB in all).
    #[error(
        "the action result {} is too large to return: {detail}",
        key.as_deref().map_or_else(|| "set".to_string(), |k| format!("{k:?}"))
    )]
    ActionResultTooLarge {
        /// The result key, when one result alone is too large.
        key: Option<String>,
        /// The sizes and the limit.
        detail: String,
    },
    /// An action result key Juju would reject.
    #[error(
        "invalid action result key {0:?}: keys are lowercase letters, digits, '-' and '.', and must not be reserved"
    )]
    InvalidResultKey(String),
    /// The event cannot be deferred.
    #[error("{0} cannot be deferred")]
    CannotDefer(String),
    /// The handler cannot defer: a deferral record could not tell it from another handler.
    #[error("{0}")]
    UnidentifiableHandler(String),
    /// `error` and `unknown` are Juju's statuses.
    #[error("a charm cannot set the {0} status")]
    StatusNotSettable(&'static str),
    /// Stored state under a key does not match the requested type.
    #[error("stored state {key:?}: {detail}")]
    State {
        /// The key.
        key: String,
        /// What is wrong.
        detail: String,
    },
    /// `metadata.yaml` could not be read.
    #[error("metadata.yaml: {0}")]
    Metadata(String),
}

impl ModelError {
    /// Whether a hook tool said the secret does not exist (or is not visible to this unit).
    pub fn is_secret_not_found(&self) -> bool {
        matches!(
            self,
            ModelError::HookTool(HookToolError::SecretNotFound { .. })
        )
    }

    /// Whether a hook tool said the relation does not exist (any more).
    pub fn is_relation_not_found(&self) -> bool {
        matches!(
            self,
            ModelError::HookTool(HookToolError::RelationNotFound { .. })
        )
    }
}

impl Classify for ModelError {
    fn outcome(&self) -> Outcome {
        match self {
            // Bad config or bad remote data: a retry cannot fix it, a human can. Results too
            // large for action-set will not shrink on a retry either (in an action, Blocked
            // becomes action-fail with the message).
            ModelError::Config(_)
            | ModelError::Databag { .. }
            | ModelError::ActionResultTooLarge { .. } => Outcome::Blocked,
            _ => Outcome::Fail,
        }
    }
}

/// A relation as seen from this unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// Endpoint and id.
    pub id: RelationId,
    /// The remote application, when known.
    pub remote_app: Option<String>,
    /// Remote units currently in the relation (`relation-list`), in Juju's order.
    pub units: Vec<String>,
    /// False during relation-broken for the relation being removed.
    pub active: bool,
}

/// A library or charm event that handlers can subscribe to, and that can be deferred.
pub trait CustomEvent: Serialize + DeserializeOwned + fmt::Debug + 'static {
    /// A stable name, `<library>.<event>` in snake_case (e.g. `s3.credentials_changed`), used in
    /// deferral records, in the `CHARM_EVENT` lines a dispatch prints and in the local model's
    /// timeline.
    const NAME: &'static str;

    /// Names this event had before, so that deferred copies in state written by an older charm
    /// revision still restore (and are rewritten under [`NAME`](Self::NAME)).
    const ALIASES: &'static [&'static str] = &[];

    /// The relation this event only makes sense on, if any: a deferred copy is dropped once that
    /// relation is gone (as deferred Juju relation events are). Leave it `None` for events that
    /// report a relation going away.
    fn live_relation(&self) -> Option<&RelationId> {
        None
    }
}

/// An event emitted during a dispatch, waiting to be handled.
pub(crate) struct Emitted {
    pub(crate) type_id: TypeId,
    pub(crate) name: &'static str,
    pub(crate) value: std::rc::Rc<dyn Any>,
    pub(crate) data: serde_json::Value,
}

#[derive(Default)]
pub(crate) struct Cache {
    leader: Option<(bool, Instant)>,
    /// `storage-list` answers by storage name; `storage-get` answers of an instance in its
    /// detaching hook (the others are kept in the state document) (`reach.rs`).
    pub(crate) storage_lists: HashMap<String, Vec<crate::storage::StorageId>>,
    pub(crate) storage_infos: HashMap<crate::storage::StorageId, crate::storage::StorageInfo>,
    config: Option<serde_json::Map<String, serde_json::Value>>,
    relation_ids: HashMap<String, Vec<RelationId>>,
    units: HashMap<RelationId, Vec<String>>,
    remote_app: HashMap<RelationId, Option<String>>,
    bags: HashMap<(RelationId, String, bool), BagData>,
    action_params: Option<serde_json::Value>,
    /// Secret reads by (unique id, label, kind of read): content, or the "not found" Juju gave.
    secrets: HashMap<(String, String, ReadKind), Result<SecretContent, String>>,
}

/// What a cached secret read answered: the tracked revision, the latest one (a peek), or the
/// latest one after this unit moved to it (a refresh, which a peek does not do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ReadKind {
    Tracked,
    Latest,
    Refreshed,
}

impl Cache {
    /// Forgets what was read of the secret `id` (by its id, or by a label that may name it or
    /// will: `label`), and every "not found"; reads of other secrets by id stay.
    fn forget_secret(&mut self, id: &SecretId, label: Option<&str>) {
        let unique = id.unique();
        self.secrets.retain(|(uid, l, _), read| {
            read.is_ok() && !uid.is_empty() && uid != unique && Some(l.as_str()) != label
        });
    }
}

/// The handle every handler gets: the Juju model of this unit, for one dispatch.
pub struct Ctx<'a> {
    juju: &'a JujuEnv,
    tools: &'a mut dyn HookTools,
    meta: Option<&'a Metadata>,
    pub(crate) state: StateDoc,
    pub(crate) cache: Cache,
    staged: BTreeMap<(RelationId, bool), BagData>,
    pub(crate) emitted: Vec<Emitted>,
    pub(crate) defer_requested: bool,
    /// Set while a handler runs that may not defer, with the reason.
    pub(crate) defer_refusal: Option<String>,
    pub(crate) current: Option<Event>,
    pub(crate) status_set_now: bool,
    scratch: HashMap<TypeId, Box<dyn Any>>,
}

impl<'a> Ctx<'a> {
    /// A model for one dispatch. `meta` enables endpoint checks and the peer read rule.
    pub fn new(
        juju: &'a JujuEnv,
        tools: &'a mut dyn HookTools,
        meta: Option<&'a Metadata>,
        mut state: StateDoc,
    ) -> Self {
        match &juju.event {
            Event::RelationBroken(r) => {
                state.remote_apps.remove(&r.relation.to_string());
            }
            Event::StorageDetaching(s) => {
                state.storage.remove(&format!("{}/{}", s.name, s.index));
            }
            _ => {}
        }
        Ctx {
            juju,
            tools,
            meta,
            state,
            cache: Cache::default(),
            staged: BTreeMap::new(),
            emitted: Vec::new(),
            defer_requested: false,
            defer_refusal: None,
            current: None,
            status_set_now: false,
            scratch: HashMap::new(),
        }
    }

    // ----- identity and environment -----

    /// This unit's name, e.g. `app/0`.
    pub fn unit_name(&self) -> &str {
        &self.juju.unit
    }

    /// This application's name.
    pub fn app_name(&self) -> &str {
        &self.juju.app
    }

    /// The dispatch environment (model, Juju version, charm directory, the Juju event).
    pub fn env(&self) -> &JujuEnv {
        self.juju
    }

    /// The charm's metadata, when the charm embeds it ([`Charm::metadata`](crate::Charm::metadata)).
    pub fn metadata(&self) -> Option<&'a Metadata> {
        self.meta
    }

    /// The event being handled now: the dispatch's Juju event, or a deferred one being re-run.
    pub fn event(&self) -> &Event {
        self.current.as_ref().unwrap_or(&self.juju.event)
    }

    /// The relation being removed in this dispatch, during `<endpoint>-relation-broken`.
    pub fn broken_relation(&self) -> Option<&RelationId> {
        match &self.juju.event {
            Event::RelationBroken(r) => Some(&r.relation),
            _ => None,
        }
    }

    /// Direct access to the hook tools, for what the model does not cover.
    pub fn tools(&mut self) -> &mut dyn HookTools {
        &mut *self.tools
    }

    // ----- leadership and config -----

    /// Whether this unit is the leader (`is-leader`, cached for 30 s as ops does).
    pub fn is_leader(&mut self) -> Result<bool, ModelError> {
        if let Some((value, at)) = self.cache.leader
            && at.elapsed() < LEADER_CACHE
        {
            return Ok(value);
        }
        let value = self.tools.is_leader()?;
        self.cache.leader = Some((value, Instant::now()));
        Ok(value)
    }

    fn require_leader(&mut self, action: &str) -> Result<(), ModelError> {
        if self.is_leader()? {
            Ok(())
        } else {
            Err(ModelError::NotLeader {
                unit: self.juju.unit.clone(),
                action: action.to_string(),
            })
        }
    }

    /// The raw config values (`config-get --format=json`), read once per dispatch.
    pub fn config_map(
        &mut self,
    ) -> Result<&serde_json::Map<String, serde_json::Value>, ModelError> {
        if self.cache.config.is_none() {
            self.cache.config = Some(self.tools.config_get()?);
        }
        Ok(self.cache.config.get_or_insert_with(Default::default))
    }

    /// The config as a typed value; a mismatch is [`ModelError::Config`] (a Blocked status).
    pub fn config<T: DeserializeOwned>(&mut self) -> Result<T, ModelError> {
        let map = self.config_map()?.clone();
        serde_path_to_error::deserialize(serde_json::Value::Object(map)).map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                ModelError::Config(e.inner().to_string())
            } else {
                ModelError::Config(format!("option {path:?}: {}", e.inner()))
            }
        })
    }

    // ----- relations -----

    fn check_endpoint(&self, endpoint: &str) -> Result<(), ModelError> {
        match self.metadata() {
            Some(meta) if meta.endpoint(endpoint).is_none() => {
                Err(ModelError::UnknownEndpoint(endpoint.to_string()))
            }
            _ => Ok(()),
        }
    }

    /// The live relations of an endpoint (the one being broken in this hook is left out, as in ops).
    pub fn relations(&mut self, endpoint: &str) -> Result<Vec<RelationId>, ModelError> {
        self.check_endpoint(endpoint)?;
        if !self.cache.relation_ids.contains_key(endpoint) {
            let ids = self.tools.relation_ids(endpoint)?;
            self.cache.relation_ids.insert(endpoint.to_string(), ids);
        }
        let broken = self.broken_relation().cloned();
        Ok(self
            .cache
            .relation_ids
            .get(endpoint)
            .map(|ids| {
                ids.iter()
                    .filter(|r| Some(*r) != broken.as_ref())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The remote units of a relation (`relation-list`); empty for a broken relation.
    pub fn remote_units(&mut self, relation: &RelationId) -> Result<Vec<String>, ModelError> {
        if self.broken_relation() == Some(relation) {
            return Ok(Vec::new());
        }
        if let Some(units) = self.cache.units.get(relation) {
            return Ok(units.clone());
        }
        let units = match self.tools.relation_list(relation) {
            Ok(units) => units,
            Err(HookToolError::RelationNotFound { .. }) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        self.cache.units.insert(relation.clone(), units.clone());
        Ok(units)
    }

    /// The remote application of a relation; from the event when it is about this relation.
    pub fn remote_app(&mut self, relation: &RelationId) -> Result<Option<String>, ModelError> {
        if let Some(app) = self.cache.remote_app.get(relation) {
            return Ok(app.clone());
        }
        if let Some(rel) = self.juju.event.relation()
            && rel.relation == *relation
            && let Some(app) = &rel.remote_app
        {
            // Asked about once, likely asked again in a later hook (secret-changed, an action):
            // remembered then, not read from the tool.
            if self.broken_relation() != Some(relation) {
                self.state
                    .remote_apps
                    .insert(relation.to_string(), app.clone());
            }
            return Ok(Some(app.clone()));
        }
        let key = relation.to_string();
        if let Some(app) = self.state.remote_apps.get(&key) {
            return Ok(Some(app.clone()));
        }
        let app = match self.tools.relation_remote_app(relation) {
            Ok(app) => app,
            Err(HookToolError::RelationNotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        if let Some(name) = &app
            && self.broken_relation() != Some(relation)
        {
            self.state.remote_apps.insert(key, name.clone());
        }
        self.cache.remote_app.insert(relation.clone(), app.clone());
        Ok(app)
    }

    /// A relation with its remote app and units.
    pub fn relation(&mut self, relation: &RelationId) -> Result<Relation, ModelError> {
        let remote_app = self.remote_app(relation)?;
        let units = self.remote_units(relation)?;
        Ok(Relation {
            id: relation.clone(),
            remote_app,
            units,
            active: self.broken_relation() != Some(relation),
        })
    }

    fn bag_owner(
        &mut self,
        relation: &RelationId,
        bag: &Bag,
    ) -> Result<Option<(String, bool)>, ModelError> {
        Ok(match bag {
            Bag::LocalUnit => Some((self.juju.unit.clone(), false)),
            Bag::LocalApp => Some((self.juju.app.clone(), true)),
            Bag::Unit(u) => Some((u.clone(), false)),
            Bag::RemoteApp => self.remote_app(relation)?.map(|a| (a, true)),
        })
    }

    /// Whether a follower may read its own application bag here: on a peer relation. Without
    /// metadata the charm cannot tell, and leaves the refusal to Juju.
    fn follower_reads_app_bag(&self, endpoint: &str) -> bool {
        self.metadata().is_none_or(|m| m.is_peer(endpoint))
    }

    /// Reads a databag (cached; this unit's pending writes included).
    pub fn read(&mut self, relation: &RelationId, bag: &Bag) -> Result<BagData, ModelError> {
        let local = match bag {
            Bag::LocalUnit => Some(false),
            Bag::LocalApp => Some(true),
            Bag::Unit(u) if *u == self.juju.unit => Some(false),
            _ => None,
        };
        if local == Some(true)
            && !self.follower_reads_app_bag(&relation.endpoint)
            && !self.is_leader()?
        {
            return Err(ModelError::AccessDenied {
                relation: relation.clone(),
                bag: bag.clone(),
                action: "read",
                why: "only the leader can read its own application bag of a non-peer relation",
            });
        }
        let Some((owner, app)) = self.bag_owner(relation, bag)? else {
            return Ok(BagData::new());
        };
        let key = (relation.clone(), owner, app);
        if !self.cache.bags.contains_key(&key) {
            let data = match self.tools.relation_get(relation, &key.1, app) {
                Ok(data) => data,
                // Dead relations tell no tales: a relation Juju forgot reads as empty.
                Err(HookToolError::RelationNotFound { .. }) => BagData::new(),
                Err(HookToolError::PermissionDenied { .. })
                    if self.broken_relation() == Some(relation) =>
                {
                    BagData::new()
                }
                Err(e) => return Err(e.into()),
            };
            self.cache.bags.insert(key.clone(), data);
        }
        let mut data = self.cache.bags.get(&key).cloned().unwrap_or_default();
        if let Some(is_app) = local
            && let Some(pending) = self.staged.get(&(relation.clone(), is_app))
        {
            for (k, v) in pending {
                if v.is_empty() {
                    data.remove(k);
                } else {
                    data.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(data)
    }

    /// Reads a databag into a typed value; a mismatch is [`ModelError::Databag`] naming the key.
    pub fn load<T: DeserializeOwned>(
        &mut self,
        relation: &RelationId,
        bag: &Bag,
    ) -> Result<T, ModelError> {
        let data = self.read(relation, bag)?;
        databag::decode(&data).map_err(|source| ModelError::Databag {
            relation: relation.clone(),
            bag: bag.clone(),
            source: Box::new(source),
        })
    }

    fn writable(&mut self, relation: &RelationId, bag: &Bag) -> Result<bool, ModelError> {
        let denied = |why| ModelError::AccessDenied {
            relation: relation.clone(),
            bag: bag.clone(),
            action: "write",
            why,
        };
        let app = match bag {
            Bag::LocalUnit => false,
            Bag::Unit(u) if *u == self.juju.unit => false,
            Bag::LocalApp => true,
            Bag::RemoteApp | Bag::Unit(_) => return Err(denied("remote bags are read-only")),
        };
        if self.broken_relation() == Some(relation) {
            return Err(ModelError::RelationBroken(relation.clone()));
        }
        if app && !self.is_leader()? {
            return Err(denied("only the leader can write its application bag"));
        }
        Ok(app)
    }

    /// Stages one key for writing; `""` deletes it. Sent when the dispatch succeeds.
    pub fn set(
        &mut self,
        relation: &RelationId,
        bag: &Bag,
        key: &str,
        value: &str,
    ) -> Result<(), ModelError> {
        self.update(relation, bag, [(key, value)])
    }

    /// Stages several keys at once; `""` deletes a key.
    pub fn update<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        relation: &RelationId,
        bag: &Bag,
        changes: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(), ModelError> {
        let app = self.writable(relation, bag)?;
        let pending = self.staged.entry((relation.clone(), app)).or_default();
        for (k, v) in changes {
            pending.insert(k.as_ref().to_string(), v.as_ref().to_string());
        }
        Ok(())
    }

    /// Stages every field of a typed value (fields that encode to nothing are left as they are).
    pub fn save<T: Serialize>(
        &mut self,
        relation: &RelationId,
        bag: &Bag,
        value: &T,
    ) -> Result<(), ModelError> {
        let data = databag::encode(value).map_err(|source| ModelError::Databag {
            relation: relation.clone(),
            bag: bag.clone(),
            source: Box::new(source),
        })?;
        self.update(relation, bag, data)
    }

    /// Sends staged writes: one `relation-set` per bag, leaving out keys that would not change.
    pub(crate) fn flush(&mut self) -> Result<(), ModelError> {
        let staged = std::mem::take(&mut self.staged);
        for ((relation, app), mut changes) in staged {
            let owner = if app { &self.juju.app } else { &self.juju.unit };
            if let Some(known) = self.cache.bags.get(&(relation.clone(), owner.clone(), app)) {
                changes.retain(|k, v| match known.get(k) {
                    Some(old) => old != v,
                    None => !v.is_empty(),
                });
            }
            if !changes.is_empty() {
                self.tools.relation_set(&relation, app, &changes)?;
            }
        }
        Ok(())
    }

    /// The remote model's UUID (`relation-model-get`, Juju >= 3.6.2).
    pub fn relation_model_uuid(&mut self, relation: &RelationId) -> Result<String, ModelError> {
        Ok(self.tools.relation_model_get(relation)?)
    }

    // ----- secrets -----

    /// Creates a secret (content passed through files, never argv); returns its id.
    pub fn add_secret(&mut self, secret: &NewSecret) -> Result<SecretId, ModelError> {
        secret.content.validate()?;
        if secret.owner == SecretOwner::Application {
            self.require_leader("create an application-owned secret")?;
        }
        // A new secret changes no other secret's content: keep what was read, except "not
        // found" answers and reads by the new label (the new secret may be what they asked for).
        let new_label = secret.label.as_deref();
        self.cache
            .secrets
            .retain(|(_, label, _), read| read.is_ok() && Some(label.as_str()) != new_label);
        Ok(self.tools.secret_add(secret)?)
    }

    /// Reads a secret by id and/or label. Giving both sets this unit's label for it.
    pub fn get_secret(
        &mut self,
        id: Option<&SecretId>,
        label: Option<&str>,
        read: SecretRead,
    ) -> Result<SecretContent, ModelError> {
        // One read per secret and kind of read per dispatch; a "not found" is remembered too. A
        // second refresh in the same dispatch finds this unit on the revision the first moved
        // it to: the same answer, so it is not asked again.
        let key = |kind| {
            (
                id.map(SecretId::unique).unwrap_or("").to_string(),
                label.unwrap_or("").to_string(),
                kind,
            )
        };
        let kind = match read {
            SecretRead::Tracked => ReadKind::Tracked,
            SecretRead::Peek => ReadKind::Latest,
            SecretRead::Refresh => ReadKind::Refreshed,
        };
        match self.cache.secrets.get(&key(kind)) {
            Some(Ok(content)) => return Ok(content.clone()),
            Some(Err(stderr)) => {
                return Err(ModelError::HookTool(HookToolError::SecretNotFound {
                    tool: "secret-get".into(),
                    stderr: stderr.clone(),
                }));
            }
            None => {}
        }
        // What else this read tells: a refresh also answers later tracked reads and peeks.
        let answers: &[ReadKind] = match read {
            SecretRead::Tracked => &[ReadKind::Tracked],
            SecretRead::Peek => &[ReadKind::Latest],
            SecretRead::Refresh => &[ReadKind::Tracked, ReadKind::Latest, ReadKind::Refreshed],
        };
        match self.tools.secret_get(id, label, read) {
            Ok(content) => {
                for kind in answers {
                    self.cache.secrets.insert(key(*kind), Ok(content.clone()));
                }
                Ok(content)
            }
            Err(HookToolError::SecretNotFound { tool, stderr }) => {
                for kind in [ReadKind::Tracked, ReadKind::Latest, ReadKind::Refreshed] {
                    self.cache.secrets.insert(key(kind), Err(stderr.clone()));
                }
                Err(ModelError::HookTool(HookToolError::SecretNotFound {
                    tool,
                    stderr,
                }))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Owner-only metadata of a secret, by id or label.
    pub fn secret_info(
        &mut self,
        id: Option<&SecretId>,
        label: Option<&str>,
    ) -> Result<SecretInfo, ModelError> {
        Ok(self.tools.secret_info_get(id, label)?)
    }

    /// Updates a secret's content (a new revision) and/or metadata.
    pub fn set_secret(&mut self, id: &SecretId, update: &SecretUpdate) -> Result<(), ModelError> {
        if let Some(content) = &update.content {
            content.validate()?;
        }
        self.cache.forget_secret(id, update.label.as_deref());
        Ok(self.tools.secret_set(id, update)?)
    }

    /// Grants a secret to the remote side of a relation (or one remote unit).
    pub fn grant_secret(
        &mut self,
        id: &SecretId,
        relation: &RelationId,
        unit: Option<&str>,
    ) -> Result<(), ModelError> {
        Ok(self.tools.secret_grant(id, relation, unit)?)
    }

    /// Revokes a grant.
    pub fn revoke_secret(
        &mut self,
        id: &SecretId,
        relation: &RelationId,
        unit: Option<&str>,
    ) -> Result<(), ModelError> {
        Ok(self.tools.secret_revoke(id, relation, unit)?)
    }

    /// Removes one revision, or the whole secret when `revision` is `None`.
    pub fn remove_secret(
        &mut self,
        id: &SecretId,
        revision: Option<u32>,
    ) -> Result<(), ModelError> {
        self.cache.forget_secret(id, None);
        Ok(self.tools.secret_remove(id, revision)?)
    }

    /// The ids of the secrets this unit or app owns.
    pub fn secret_ids(&mut self) -> Result<Vec<SecretId>, ModelError> {
        Ok(self.tools.secret_ids()?)
    }

    // ----- status, version, ports -----

    /// Sets the unit status now (Juju applies it at once, even if the hook later fails). The
    /// message is cleaned first ([`Status::cleaned`]).
    pub fn set_unit_status(&mut self, status: Status) -> Result<(), ModelError> {
        let status = status.cleaned();
        if !status.kind.settable() {
            return Err(ModelError::StatusNotSettable(status.kind.as_str()));
        }
        self.status_set_now = true;
        self.tools.status_set(false, &status)?;
        self.state.last_status.unit = Some(status);
        Ok(())
    }

    /// Sets the application status now (leader only; the message cleaned first).
    pub fn set_app_status(&mut self, status: Status) -> Result<(), ModelError> {
        let status = status.cleaned();
        if !status.kind.settable() {
            return Err(ModelError::StatusNotSettable(status.kind.as_str()));
        }
        self.require_leader("set the application status")?;
        self.status_set_now = true;
        self.tools.status_set(true, &status)?;
        self.state.last_status.app = Some(status);
        Ok(())
    }

    /// Sets the unit status only if it differs from the last one this charm set.
    pub(crate) fn converge_status(
        &mut self,
        unit: Option<&Status>,
        app: Option<&Status>,
    ) -> Result<(), ModelError> {
        // Compared as they would be sent, so a message built field by field is not re-sent.
        let unit = unit.map(Status::cleaned);
        let app = app.map(Status::cleaned);
        let (unit, app) = (unit.as_ref(), app.as_ref());
        if let Some(status) = unit
            && self.state.last_status.unit.as_ref() != Some(status)
        {
            self.set_unit_status(status.clone())?;
        }
        if let Some(status) = app
            && self.state.last_status.app.as_ref() != Some(status)
            && self.is_leader()?
        {
            self.set_app_status(status.clone())?;
        }
        Ok(())
    }

    /// Sets the workload version shown in `juju status`.
    pub fn set_workload_version(&mut self, version: &str) -> Result<(), ModelError> {
        Ok(self.tools.application_version_set(version)?)
    }

    /// Opens a port (applied when the hook succeeds).
    pub fn open_port(&mut self, port: Port) -> Result<(), ModelError> {
        Ok(self.tools.open_port(port)?)
    }

    /// Closes a port (applied when the hook succeeds).
    pub fn close_port(&mut self, port: Port) -> Result<(), ModelError> {
        Ok(self.tools.close_port(port)?)
    }

    /// The ports this unit has open.
    pub fn opened_ports(&mut self) -> Result<Vec<Port>, ModelError> {
        Ok(self.tools.opened_ports()?)
    }

    /// Makes exactly `ports` open: closes the others, opens the missing ones.
    pub fn set_ports(&mut self, ports: &[Port]) -> Result<(), ModelError> {
        let open = self.opened_ports()?;
        for p in open.iter().filter(|p| !ports.contains(p)) {
            self.close_port(*p)?;
        }
        for p in ports.iter().filter(|p| !open.contains(p)) {
            self.open_port(*p)?;
        }
        Ok(())
    }

    /// What Juju plans for this application and its relations (`goal-state`).
    pub fn goal_state(&mut self) -> Result<crate::goal_state::GoalState, ModelError> {
        Ok(self.tools.goal_state()?)
    }

    /// `network-get` for a binding (an endpoint or extra-binding), typed; with `relation`, the
    /// addresses as that relation's remote side sees them.
    pub fn network(
        &mut self,
        binding: &str,
        relation: Option<&RelationId>,
    ) -> Result<crate::network::Network, ModelError> {
        Ok(self.tools.network_get(binding, relation)?)
    }

    /// Runs a hook tool the framework does not wrap (the escape hatch): `tool` is checked to be a
    /// hook tool name, `args` are passed exactly as given, so put `--` before positional values
    /// that come from outside. Returns what the tool printed on stdout.
    pub fn run_tool(&mut self, tool: &str, args: &[&str]) -> Result<String, ModelError> {
        let name = crate::backend::ToolName::new(tool)?;
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        Ok(self.tools.run_tool(&name, &args)?)
    }

    // ----- actions -----

    fn require_action(&self, what: &'static str) -> Result<(), ModelError> {
        match self.juju.event {
            Event::Action(_) => Ok(()),
            _ => Err(ModelError::NotAnAction(what)),
        }
    }

    /// The action's parameters as a typed value.
    pub fn action_params<T: DeserializeOwned>(&mut self) -> Result<T, ModelError> {
        self.require_action("action-get")?;
        if self.cache.action_params.is_none() {
            self.cache.action_params = Some(self.tools.action_get()?);
        }
        let params = self.cache.action_params.clone().unwrap_or_default();
        serde_path_to_error::deserialize(params)
            .map_err(|e| ModelError::ActionParams(format!("{}: {}", e.path(), e.inner())))
    }

    /// Adds results to the action; nested objects become dotted keys, non-strings JSON text.
    pub fn action_set(&mut self, results: &serde_json::Value) -> Result<(), ModelError> {
        self.require_action("action-set")?;
        let mut flat = BTreeMap::new();
        flatten("", results, &mut flat);
        for key in flat.keys() {
            if !valid_result_key(key) {
                return Err(ModelError::InvalidResultKey(key.clone()));
            }
        }
        check_action_results(&flat)?;
        Ok(self.tools.action_set(&flat)?)
    }

    /// Shows a progress message to the user running the action (at most
    /// [`MAX_ACTION_MESSAGE`] bytes of it).
    pub fn action_log(&mut self, message: &str) -> Result<(), ModelError> {
        self.require_action("action-log")?;
        Ok(self
            .tools
            .action_log(&status::truncate(message, MAX_ACTION_MESSAGE))?)
    }

    /// Marks the action failed with a message (the hook itself still succeeds; at most
    /// [`MAX_ACTION_MESSAGE`] bytes of the message are sent).
    pub fn action_fail(&mut self, message: &str) -> Result<(), ModelError> {
        self.require_action("action-fail")?;
        Ok(self
            .tools
            .action_fail(&status::truncate(message, MAX_ACTION_MESSAGE))?)
    }

    // ----- logging, state, events -----

    /// Sends one line to the unit's Juju log (prefer the `tracing` macros, which do this).
    pub fn log(&mut self, level: LogLevel, message: &str) -> Result<(), ModelError> {
        Ok(self.tools.juju_log(level, message)?)
    }

    /// A stored value, or `None` if nothing is stored under `key`.
    pub fn stored<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, ModelError> {
        match self.state.stored.get(key) {
            None => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| ModelError::State {
                    key: key.to_string(),
                    detail: e.to_string(),
                }),
        }
    }

    /// Stores a value under `key`; it is saved when the dispatch succeeds.
    pub fn store<T: Serialize>(&mut self, key: &str, value: &T) -> Result<(), ModelError> {
        let v = serde_json::to_value(value).map_err(|e| ModelError::State {
            key: key.to_string(),
            detail: e.to_string(),
        })?;
        self.state.stored.insert(key.to_string(), v);
        Ok(())
    }

    /// A value of type `T` that lives for this dispatch only (created with `Default` on first
    /// use): lets handlers, reconcile and collect-status share what they computed.
    pub fn scratch<T: Default + 'static>(&mut self) -> &mut T {
        let slot = self
            .scratch
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()));
        if !slot.is::<T>() {
            *slot = Box::new(T::default());
        }
        match slot.downcast_mut::<T>() {
            Some(value) => value,
            None => unreachable!("the slot was just filled with a T"),
        }
    }

    /// Removes a stored value.
    pub fn forget(&mut self, key: &str) {
        self.state.stored.remove(key);
    }

    /// Emits a custom event; its handlers run after the current handler returns.
    pub fn emit<E: CustomEvent>(&mut self, event: E) {
        let data = serde_json::to_value(&event).unwrap_or(serde_json::Value::Null);
        self.emitted.push(Emitted {
            type_id: TypeId::of::<E>(),
            name: E::NAME,
            value: std::rc::Rc::new(event),
            data,
        });
    }

    /// Defers the event being handled: this handler runs it again at the start of the next dispatch.
    ///
    /// Refused for events Juju does not let a charm defer, and for a handler a deferral record
    /// could not find again after an upgrade (two closures in one function with the same filter:
    /// name it with [`Charm::on_named`](crate::Charm::on_named)).
    pub fn defer(&mut self) -> Result<(), ModelError> {
        let deferrable = match &self.current {
            Some(e) => e.is_deferrable(),
            None => true,
        };
        if !deferrable {
            return Err(ModelError::CannotDefer(self.event().hook_name()));
        }
        if let Some(reason) = &self.defer_refusal {
            return Err(ModelError::UnidentifiableHandler(reason.clone()));
        }
        self.defer_requested = true;
        Ok(())
    }
}

/// The longest `action-log` or `action-fail` message sent, in bytes (the rest is cut, marked
/// with `…`): far below Linux's 128 KiB per argument, plenty for a person to read.
pub const MAX_ACTION_MESSAGE: usize = 16 * 1024;

/// Checks that `action-set -- k=v ...` fits in a command line, before running it: one result
/// over Linux's per-argument limit, or all of them over the total, is a typed error naming it,
/// never the OS's `E2BIG`.
fn check_action_results(flat: &BTreeMap<String, String>) -> Result<(), ModelError> {
    let mut args = vec!["--".to_string()];
    args.extend(flat.iter().map(|(k, v)| format!("{k}={v}")));
    charm_exec::check_argv(std::ffi::OsStr::new("action-set"), &args).map_err(|e| {
        let key = match &e {
            charm_exec::ExecError::ArgumentTooLong { index, .. } => {
                flat.keys().nth(index.saturating_sub(1)).cloned()
            }
            _ => None,
        };
        let detail = match &e {
            charm_exec::ExecError::ArgumentTooLong { bytes, .. } => format!(
                "it takes {bytes} bytes and one action-set argument holds at most {}",
                charm_exec::MAX_ARG_STRLEN - 1
            ),
            charm_exec::ExecError::ArgumentListTooLong { bytes, limit, .. } => {
                format!("the results take {bytes} bytes and a command line holds at most {limit}")
            }
            other => other.to_string(),
        };
        ModelError::ActionResultTooLarge { key, detail }
    })
}

fn flatten(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        serde_json::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// Juju's action result key rule `^[a-z0-9](([a-z0-9-.]+)?[a-z0-9])?$`, minus reserved keys.
fn valid_result_key(key: &str) -> bool {
    const RESERVED: [&str; 4] = ["stdout", "stdout-encoding", "stderr", "stderr-encoding"];
    if RESERVED.contains(&key) {
        return false;
    }
    let ok_end = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let bytes = key.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(&f), Some(&l)) => {
            ok_end(f)
                && ok_end(l)
                && bytes.iter().all(|&c| ok_end(c) || c == b'-' || c == b'.')
                && key.split('.').all(|part| !part.is_empty())
        }
        _ => false,
    }
}

#[cfg(test)]
#[path = "model_test.rs"]
mod tests;
