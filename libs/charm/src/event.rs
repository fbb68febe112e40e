//! The events Juju sends a charm: one closed enum, parsed once per dispatch.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A relation as hook tools address it: the endpoint it belongs to and its id (`-r <endpoint>:<id>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RelationId {
    /// Endpoint name from `metadata.yaml`, e.g. `db`.
    pub endpoint: String,
    /// The integer Juju assigns to the relation.
    pub id: u32,
}

impl RelationId {
    /// Builds a relation reference.
    pub fn new(endpoint: impl Into<String>, id: u32) -> Self {
        RelationId {
            endpoint: endpoint.into(),
            id,
        }
    }
}

impl fmt::Display for RelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.endpoint, self.id)
    }
}

/// Payload of every `<endpoint>-relation-*` hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationEvent {
    /// The relation the hook is about.
    pub relation: RelationId,
    /// The remote application (`JUJU_REMOTE_APP`); Juju may omit it on relation-broken.
    pub remote_app: Option<String>,
    /// The remote unit (`JUJU_REMOTE_UNIT`); none on created, broken and app-level changes.
    pub remote_unit: Option<String>,
    /// The unit leaving the relation (`JUJU_DEPARTING_UNIT`), relation-departed only.
    pub departing_unit: Option<String>,
}

/// Payload of the four secret hooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretEvent {
    /// The secret (`JUJU_SECRET_ID`, validated).
    pub id: crate::secret::SecretId,
    /// The receiving side's label for the secret (`JUJU_SECRET_LABEL`), if it set one.
    pub label: Option<String>,
    /// The revision concerned (`JUJU_SECRET_REVISION`): secret-remove and secret-expired.
    pub revision: Option<u32>,
}

/// Payload of the storage hooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageEvent {
    /// Storage name from metadata, e.g. `data`.
    pub name: String,
    /// Storage instance index: `data/0` has index 0.
    pub index: u32,
    /// Mount path (`JUJU_STORAGE_LOCATION`), when Juju gives it.
    pub location: Option<String>,
}

/// The container of a Pebble hook: every workload event carries it (`JUJU_WORKLOAD_NAME`), so a
/// handler taking `&WorkloadEvent` runs for all four (`<container>-pebble-*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadEvent {
    /// Container name (`JUJU_WORKLOAD_NAME`).
    pub container: String,
}

/// Payload of `<container>-pebble-custom-notice`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PebbleNoticeEvent {
    /// The container.
    #[serde(flatten)]
    pub workload: WorkloadEvent,
    /// The notice (`JUJU_NOTICE_ID`, `JUJU_NOTICE_TYPE`, `JUJU_NOTICE_KEY`); the rest of it is
    /// `Container::get_notice(id)`.
    pub notice: Notice,
}

/// Payload of `<container>-pebble-check-failed` and `-pebble-check-recovered`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PebbleCheckEvent {
    /// The container.
    #[serde(flatten)]
    pub workload: WorkloadEvent,
    /// The check's name (`JUJU_PEBBLE_CHECK_NAME`); its state is `Container::get_check(name)`.
    pub check: String,
}

/// A Pebble notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Notice id.
    pub id: String,
    /// Notice type, e.g. `custom`.
    pub kind: String,
    /// Notice key, e.g. `example.com/a`.
    pub key: String,
}

/// Payload of an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionEvent {
    /// Action name (`JUJU_ACTION_NAME`).
    pub name: String,
    /// Action id (`JUJU_ACTION_UUID`).
    pub id: String,
}

/// Every hook kind Juju 3.x fires, with the data Juju passes for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Event {
    /// `install`
    Install,
    /// `start`
    Start,
    /// `stop`
    Stop,
    /// `remove`
    Remove,
    /// `config-changed`
    ConfigChanged,
    /// `update-status`
    UpdateStatus,
    /// `upgrade-charm`
    UpgradeCharm,
    /// `leader-elected`
    LeaderElected,
    /// `leader-settings-changed`
    LeaderSettingsChanged,
    /// `pre-series-upgrade` (machines, Juju < 4)
    PreSeriesUpgrade,
    /// `post-series-upgrade` (machines, Juju < 4)
    PostSeriesUpgrade,
    /// `<endpoint>-relation-created`
    RelationCreated(RelationEvent),
    /// `<endpoint>-relation-joined`
    RelationJoined(RelationEvent),
    /// `<endpoint>-relation-changed`
    RelationChanged(RelationEvent),
    /// `<endpoint>-relation-departed`
    RelationDeparted(RelationEvent),
    /// `<endpoint>-relation-broken`
    RelationBroken(RelationEvent),
    /// `secret-changed` (observers)
    SecretChanged(SecretEvent),
    /// `secret-rotate` (owner)
    SecretRotate(SecretEvent),
    /// `secret-expired` (owner)
    SecretExpired(SecretEvent),
    /// `secret-remove` (owner)
    SecretRemove(SecretEvent),
    /// `<storage>-storage-attached`
    StorageAttached(StorageEvent),
    /// `<storage>-storage-detaching`
    StorageDetaching(StorageEvent),
    /// `<container>-pebble-ready`
    PebbleReady(WorkloadEvent),
    /// `<container>-pebble-custom-notice`
    PebbleCustomNotice(PebbleNoticeEvent),
    /// `<container>-pebble-check-failed`
    PebbleCheckFailed(PebbleCheckEvent),
    /// `<container>-pebble-check-recovered`
    PebbleCheckRecovered(PebbleCheckEvent),
    /// `collect-metrics` (restricted context; no longer sent from Juju 3.6.11)
    CollectMetrics,
    /// `meter-status-changed` (legacy, restricted context)
    MeterStatusChanged,
    /// An action (`actions/<name>`).
    Action(ActionEvent),
    /// A hook this framework does not know; the charm runs nothing for it and exits 0.
    Unknown {
        /// The hook name as Juju sent it.
        hook: String,
    },
}

/// The kind of an [`Event`], without its data: what handlers subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
#[non_exhaustive]
pub enum EventKind {
    Install,
    Start,
    Stop,
    Remove,
    ConfigChanged,
    UpdateStatus,
    UpgradeCharm,
    LeaderElected,
    LeaderSettingsChanged,
    PreSeriesUpgrade,
    PostSeriesUpgrade,
    RelationCreated,
    RelationJoined,
    RelationChanged,
    RelationDeparted,
    RelationBroken,
    SecretChanged,
    SecretRotate,
    SecretExpired,
    SecretRemove,
    StorageAttached,
    StorageDetaching,
    PebbleReady,
    PebbleCustomNotice,
    PebbleCheckFailed,
    PebbleCheckRecovered,
    CollectMetrics,
    MeterStatusChanged,
    Action,
    Unknown,
}

impl Event {
    /// The event's kind.
    pub fn kind(&self) -> EventKind {
        use EventKind as K;
        match self {
            Event::Install => K::Install,
            Event::Start => K::Start,
            Event::Stop => K::Stop,
            Event::Remove => K::Remove,
            Event::ConfigChanged => K::ConfigChanged,
            Event::UpdateStatus => K::UpdateStatus,
            Event::UpgradeCharm => K::UpgradeCharm,
            Event::LeaderElected => K::LeaderElected,
            Event::LeaderSettingsChanged => K::LeaderSettingsChanged,
            Event::PreSeriesUpgrade => K::PreSeriesUpgrade,
            Event::PostSeriesUpgrade => K::PostSeriesUpgrade,
            Event::RelationCreated(_) => K::RelationCreated,
            Event::RelationJoined(_) => K::RelationJoined,
            Event::RelationChanged(_) => K::RelationChanged,
            Event::RelationDeparted(_) => K::RelationDeparted,
            Event::RelationBroken(_) => K::RelationBroken,
            Event::SecretChanged(_) => K::SecretChanged,
            Event::SecretRotate(_) => K::SecretRotate,
            Event::SecretExpired(_) => K::SecretExpired,
            Event::SecretRemove(_) => K::SecretRemove,
            Event::StorageAttached(_) => K::StorageAttached,
            Event::StorageDetaching(_) => K::StorageDetaching,
            Event::PebbleReady(_) => K::PebbleReady,
            Event::PebbleCustomNotice(_) => K::PebbleCustomNotice,
            Event::PebbleCheckFailed(_) => K::PebbleCheckFailed,
            Event::PebbleCheckRecovered(_) => K::PebbleCheckRecovered,
            Event::CollectMetrics => K::CollectMetrics,
            Event::MeterStatusChanged => K::MeterStatusChanged,
            Event::Action(_) => K::Action,
            Event::Unknown { .. } => K::Unknown,
        }
    }

    /// What the event is scoped to: the relation endpoint, storage name, container or action name.
    pub fn scope(&self) -> Option<&str> {
        match self {
            Event::RelationCreated(r)
            | Event::RelationJoined(r)
            | Event::RelationChanged(r)
            | Event::RelationDeparted(r)
            | Event::RelationBroken(r) => Some(&r.relation.endpoint),
            Event::StorageAttached(s) | Event::StorageDetaching(s) => Some(&s.name),
            Event::PebbleReady(w) => Some(&w.container),
            Event::PebbleCustomNotice(n) => Some(&n.workload.container),
            Event::PebbleCheckFailed(c) | Event::PebbleCheckRecovered(c) => {
                Some(&c.workload.container)
            }
            Event::Action(a) => Some(&a.name),
            _ => None,
        }
    }

    /// The relation payload, for relation hooks.
    pub fn relation(&self) -> Option<&RelationEvent> {
        match self {
            Event::RelationCreated(r)
            | Event::RelationJoined(r)
            | Event::RelationChanged(r)
            | Event::RelationDeparted(r)
            | Event::RelationBroken(r) => Some(r),
            _ => None,
        }
    }

    /// The secret payload, for secret hooks.
    pub fn secret(&self) -> Option<&SecretEvent> {
        match self {
            Event::SecretChanged(s)
            | Event::SecretRotate(s)
            | Event::SecretExpired(s)
            | Event::SecretRemove(s) => Some(s),
            _ => None,
        }
    }

    /// Whether a handler may defer this event (ops forbids it for these, and so do we).
    pub fn is_deferrable(&self) -> bool {
        !matches!(
            self,
            Event::Action(_)
                | Event::Stop
                | Event::Remove
                | Event::SecretRotate(_)
                | Event::SecretExpired(_)
                | Event::Unknown { .. }
        )
    }

    /// Whether Juju runs this hook in a restricted context where most hook tools fail.
    pub fn is_restricted(&self) -> bool {
        matches!(self, Event::CollectMetrics | Event::MeterStatusChanged)
    }

    /// Whether the event can change what the charm should converge to (reconcile runs for these).
    pub fn is_state_changing(&self) -> bool {
        !matches!(
            self,
            Event::Action(_) | Event::Remove | Event::Unknown { .. }
        ) && !self.is_restricted()
    }

    /// The hook name Juju uses for this event (`db-relation-changed`, `install`, ...); actions give their name.
    pub fn hook_name(&self) -> String {
        let plain = |s: &str| s.to_string();
        match self {
            Event::Install => plain("install"),
            Event::Start => plain("start"),
            Event::Stop => plain("stop"),
            Event::Remove => plain("remove"),
            Event::ConfigChanged => plain("config-changed"),
            Event::UpdateStatus => plain("update-status"),
            Event::UpgradeCharm => plain("upgrade-charm"),
            Event::LeaderElected => plain("leader-elected"),
            Event::LeaderSettingsChanged => plain("leader-settings-changed"),
            Event::PreSeriesUpgrade => plain("pre-series-upgrade"),
            Event::PostSeriesUpgrade => plain("post-series-upgrade"),
            Event::RelationCreated(r) => format!("{}-relation-created", r.relation.endpoint),
            Event::RelationJoined(r) => format!("{}-relation-joined", r.relation.endpoint),
            Event::RelationChanged(r) => format!("{}-relation-changed", r.relation.endpoint),
            Event::RelationDeparted(r) => format!("{}-relation-departed", r.relation.endpoint),
            Event::RelationBroken(r) => format!("{}-relation-broken", r.relation.endpoint),
            Event::SecretChanged(_) => plain("secret-changed"),
            Event::SecretRotate(_) => plain("secret-rotate"),
            Event::SecretExpired(_) => plain("secret-expired"),
            Event::SecretRemove(_) => plain("secret-remove"),
            Event::StorageAttached(s) => format!("{}-storage-attached", s.name),
            Event::StorageDetaching(s) => format!("{}-storage-detaching", s.name),
            Event::PebbleReady(w) => format!("{}-pebble-ready", w.container),
            Event::PebbleCustomNotice(n) => {
                format!("{}-pebble-custom-notice", n.workload.container)
            }
            Event::PebbleCheckFailed(c) => format!("{}-pebble-check-failed", c.workload.container),
            Event::PebbleCheckRecovered(c) => {
                format!("{}-pebble-check-recovered", c.workload.container)
            }
            Event::CollectMetrics => plain("collect-metrics"),
            Event::MeterStatusChanged => plain("meter-status-changed"),
            Event::Action(a) => a.name.clone(),
            Event::Unknown { hook } => hook.clone(),
        }
    }
}

impl EventKind {
    /// The kind's name, as in Juju's hook names without the scope (`relation-changed`,
    /// `pebble-ready`, `action`). Deferral records store it (in a [`Filter`]'s text): stable.
    pub fn as_str(self) -> &'static str {
        use EventKind as K;
        match self {
            K::Install => "install",
            K::Start => "start",
            K::Stop => "stop",
            K::Remove => "remove",
            K::ConfigChanged => "config-changed",
            K::UpdateStatus => "update-status",
            K::UpgradeCharm => "upgrade-charm",
            K::LeaderElected => "leader-elected",
            K::LeaderSettingsChanged => "leader-settings-changed",
            K::PreSeriesUpgrade => "pre-series-upgrade",
            K::PostSeriesUpgrade => "post-series-upgrade",
            K::RelationCreated => "relation-created",
            K::RelationJoined => "relation-joined",
            K::RelationChanged => "relation-changed",
            K::RelationDeparted => "relation-departed",
            K::RelationBroken => "relation-broken",
            K::SecretChanged => "secret-changed",
            K::SecretRotate => "secret-rotate",
            K::SecretExpired => "secret-expired",
            K::SecretRemove => "secret-remove",
            K::StorageAttached => "storage-attached",
            K::StorageDetaching => "storage-detaching",
            K::PebbleReady => "pebble-ready",
            K::PebbleCustomNotice => "pebble-custom-notice",
            K::PebbleCheckFailed => "pebble-check-failed",
            K::PebbleCheckRecovered => "pebble-check-recovered",
            K::CollectMetrics => "collect-metrics",
            K::MeterStatusChanged => "meter-status-changed",
            K::Action => "action",
            K::Unknown => "unknown",
        }
    }

    /// Restricts this kind to one scope: an endpoint, storage, container or action name.
    pub fn on(self, scope: impl Into<String>) -> Filter {
        Filter {
            kind: Some(self),
            scope: Some(scope.into()),
        }
    }
}

/// Which Juju events a handler receives: a kind, optionally narrowed to one endpoint or name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    kind: Option<EventKind>,
    scope: Option<String>,
}

impl Filter {
    /// Every Juju event.
    pub fn any() -> Self {
        Filter::default()
    }

    /// The action of that name.
    pub fn action(name: impl Into<String>) -> Self {
        EventKind::Action.on(name)
    }

    /// Every relation hook (created to broken) of one endpoint.
    pub fn relation(endpoint: impl Into<String>) -> Self {
        // A scope without a kind means "any relation hook of this endpoint".
        Filter {
            kind: None,
            scope: Some(endpoint.into()),
        }
    }

    /// Whether `event` passes this filter.
    pub fn matches(&self, event: &Event) -> bool {
        match (self.kind, &self.scope) {
            (None, None) => true,
            (Some(kind), None) => event.kind() == kind,
            (Some(kind), Some(scope)) => {
                event.kind() == kind && event.scope() == Some(scope.as_str())
            }
            (None, Some(endpoint)) => event
                .relation()
                .is_some_and(|r| r.relation.endpoint == *endpoint),
        }
    }
}

/// `any`, a kind (`update-status`), a kind with its scope (`relation-changed@db`, `action@backup`)
/// or every relation hook of an endpoint (`relation@db`). Deferral records store this text to
/// check that a handler still subscribes to what it deferred: it is stable.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, &self.scope) {
            (None, None) => f.write_str("any"),
            (Some(kind), None) => f.write_str(kind.as_str()),
            (Some(kind), Some(scope)) => write!(f, "{}@{scope}", kind.as_str()),
            (None, Some(endpoint)) => write!(f, "relation@{endpoint}"),
        }
    }
}

impl From<EventKind> for Filter {
    fn from(kind: EventKind) -> Self {
        Filter {
            kind: Some(kind),
            scope: None,
        }
    }
}

/// A payload type a handler can ask for; the handler runs only for events that carry it.
pub trait FromEvent {
    /// Borrows the payload out of `event`, or `None` when the event does not carry one.
    fn from_event(event: &Event) -> Option<&Self>;
}

impl FromEvent for Event {
    fn from_event(event: &Event) -> Option<&Self> {
        Some(event)
    }
}

impl FromEvent for RelationEvent {
    fn from_event(event: &Event) -> Option<&Self> {
        event.relation()
    }
}

impl FromEvent for SecretEvent {
    fn from_event(event: &Event) -> Option<&Self> {
        event.secret()
    }
}

impl FromEvent for ActionEvent {
    fn from_event(event: &Event) -> Option<&Self> {
        match event {
            Event::Action(a) => Some(a),
            _ => None,
        }
    }
}

impl FromEvent for StorageEvent {
    fn from_event(event: &Event) -> Option<&Self> {
        match event {
            Event::StorageAttached(s) | Event::StorageDetaching(s) => Some(s),
            _ => None,
        }
    }
}

impl FromEvent for WorkloadEvent {
    fn from_event(event: &Event) -> Option<&Self> {
        match event {
            Event::PebbleReady(w) => Some(w),
            Event::PebbleCustomNotice(n) => Some(&n.workload),
            Event::PebbleCheckFailed(c) | Event::PebbleCheckRecovered(c) => Some(&c.workload),
            _ => None,
        }
    }
}

impl FromEvent for PebbleNoticeEvent {
    fn from_event(event: &Event) -> Option<&Self> {
        match event {
            Event::PebbleCustomNotice(n) => Some(n),
            _ => None,
        }
    }
}

impl FromEvent for PebbleCheckEvent {
    fn from_event(event: &Event) -> Option<&Self> {
        match event {
            Event::PebbleCheckFailed(c) | Event::PebbleCheckRecovered(c) => Some(c),
            _ => None,
        }
    }
}

#[cfg(test)]
#[path = "event_test.rs"]
mod tests;
