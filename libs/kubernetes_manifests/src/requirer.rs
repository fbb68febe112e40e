//! The requirer side: sends manifests to the provider inside a Juju secret, one per relation.

use crate::manifest::KubernetesManifest;
use crate::wire::{self, ListError, ManifestsSecretContent, RequirerAppBag, RequirerData};
use charm::error::{Classify, Outcome};
use charm::secret::{NewSecret, SecretId, SecretOwner, SecretRead, SecretUpdate};
use charm::{
    Bag, Charm, Ctx, EndpointSpec, Error, Event, EventKind, Filter, ModelError, Plugin,
    RelationEvent, RelationId, SecretEvent,
};
use std::fmt;
use std::rc::Rc;

/// Something the requirer could not do.
#[derive(Debug, thiserror::Error)]
pub enum RequirerError {
    /// The list does not fit in a Juju secret.
    #[error(
        "the {count} manifests take {bytes} bytes as JSON; a Juju secret holds at most {limit} bytes"
    )]
    TooLarge {
        /// How many manifests.
        count: usize,
        /// Size of the JSON text.
        bytes: usize,
        /// The limit, [`wire::MAX_MANIFESTS_BYTES`].
        limit: usize,
    },
    /// A hook tool failed (or Juju refused) while doing something.
    #[error("endpoint {endpoint}{}: cannot {doing}: {source}", relation.as_ref().map(|r| format!(", relation {r}")).unwrap_or_default())]
    Model {
        /// The endpoint.
        endpoint: String,
        /// The relation, when the step concerns one.
        relation: Option<RelationId>,
        /// What was being done.
        doing: &'static str,
        /// What failed.
        source: Box<ModelError>,
    },
    /// Our own secret holds something that is not a manifest list (someone else wrote it).
    #[error("relation {relation}: our manifests secret holds {source}")]
    InvalidOwnData {
        /// The relation.
        relation: RelationId,
        /// What is wrong.
        source: ListError,
    },
}

impl Classify for RequirerError {
    fn outcome(&self) -> Outcome {
        match self {
            RequirerError::TooLarge { .. } => Outcome::Blocked,
            RequirerError::Model { source, .. } => source.outcome(),
            RequirerError::InvalidOwnData { .. } => Outcome::Fail,
        }
    }
}

/// A manifest list encoded for the wire and checked against Juju's secret size limit.
///
/// Build it before sending anything, so that a list too large is refused before any relation is
/// touched (what was sent before stays).
#[derive(Clone, PartialEq, Eq)]
pub struct ManifestsPayload {
    json: String,
    count: usize,
}

impl ManifestsPayload {
    /// Encodes `items` as Python's `json.dumps` would; fails if the text exceeds the secret limit.
    pub fn new(items: &[KubernetesManifest]) -> Result<Self, RequirerError> {
        let json = wire::encode_manifest_list(items);
        if json.len() > wire::MAX_MANIFESTS_BYTES {
            return Err(RequirerError::TooLarge {
                count: items.len(),
                bytes: json.len(),
                limit: wire::MAX_MANIFESTS_BYTES,
            });
        }
        Ok(ManifestsPayload {
            json,
            count: items.len(),
        })
    }

    /// The JSON text that goes into the secret.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// How many manifests.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

impl fmt::Debug for ManifestsPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManifestsPayload")
            .field("manifests", &self.count)
            .field("bytes", &self.json.len())
            .finish()
    }
}

/// What a send did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// This unit is not the leader: nothing was sent (only the leader writes the app bag).
    NotLeader,
    /// The manifests were published on these relations.
    Sent {
        /// The relations written to.
        relations: Vec<RelationId>,
    },
}

/// What handling a `secret-remove` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PruneOutcome {
    /// Not a manifests secret of this endpoint (or no revision given).
    NotOurs,
    /// Not the leader: the leader handles it.
    NotLeader,
    /// The secret no longer exists (Juju may repeat the hook for removed secrets).
    Gone,
    /// The revision is the latest one: kept.
    KeptLatest,
    /// The revision was removed.
    Removed {
        /// The secret.
        secret_id: SecretId,
        /// The revision.
        revision: u32,
    },
}

/// Sends manifests on one endpoint on demand (the Python `KubernetesManifestRequirerWrapper`).
///
/// Call [`send_data`](Self::send_data) whenever the manifests change. Added as a [`Plugin`], it also
/// prunes secret revisions nobody tracks any more and removes the relation's secret on
/// relation-broken; it sends nothing by itself.
#[derive(Debug, Clone)]
pub struct ManifestsSender {
    endpoint: String,
}

impl ManifestsSender {
    /// A sender for `endpoint` (a `requires` endpoint of interface `kubernetes_manifest`).
    pub fn new(endpoint: impl Into<String>) -> Self {
        ManifestsSender {
            endpoint: endpoint.into(),
        }
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn model(
        &self,
        relation: Option<&RelationId>,
        doing: &'static str,
    ) -> impl FnOnce(ModelError) -> RequirerError {
        let endpoint = self.endpoint.clone();
        let relation = relation.cloned();
        move |source| RequirerError::Model {
            endpoint,
            relation,
            doing,
            source: Box::new(source),
        }
    }

    /// Sends `items` on every relation of the endpoint (leader only; followers send nothing).
    pub fn send_data(
        &self,
        ctx: &mut Ctx<'_>,
        items: &[KubernetesManifest],
    ) -> Result<SendOutcome, RequirerError> {
        let payload = ManifestsPayload::new(items)?;
        self.send_payload(ctx, &payload)
    }

    /// Sends an already encoded list on every relation of the endpoint.
    pub fn send_payload(
        &self,
        ctx: &mut Ctx<'_>,
        payload: &ManifestsPayload,
    ) -> Result<SendOutcome, RequirerError> {
        if !ctx
            .is_leader()
            .map_err(self.model(None, "check leadership"))?
        {
            tracing::debug!(endpoint = %self.endpoint, "not the leader: manifests not sent");
            return Ok(SendOutcome::NotLeader);
        }
        let relations = ctx
            .relations(&self.endpoint)
            .map_err(self.model(None, "list relations"))?;
        self.publish_all(ctx, payload, relations)
    }

    /// Sends on one relation only (e.g. the one just created).
    pub fn send_payload_to(
        &self,
        ctx: &mut Ctx<'_>,
        payload: &ManifestsPayload,
        relation: &RelationId,
    ) -> Result<SendOutcome, RequirerError> {
        if !ctx
            .is_leader()
            .map_err(self.model(None, "check leadership"))?
        {
            return Ok(SendOutcome::NotLeader);
        }
        self.publish_all(ctx, payload, vec![relation.clone()])
    }

    fn publish_all(
        &self,
        ctx: &mut Ctx<'_>,
        payload: &ManifestsPayload,
        relations: Vec<RelationId>,
    ) -> Result<SendOutcome, RequirerError> {
        for relation in &relations {
            self.publish(ctx, payload, relation)?;
        }
        Ok(SendOutcome::Sent { relations })
    }

    /// Writes the list into the relation's secret and points the bag at it; returns the secret id.
    ///
    /// Steady state costs two hook tools: the bag read (cached for the dispatch) and `secret-set`.
    fn publish(
        &self,
        ctx: &mut Ctx<'_>,
        payload: &ManifestsPayload,
        relation: &RelationId,
    ) -> Result<SecretId, RequirerError> {
        let content = ManifestsSecretContent {
            manifests: payload.json().to_string(),
        }
        .to_content();
        let update = SecretUpdate {
            content: Some(content.clone()),
            ..SecretUpdate::default()
        };
        let bag: RequirerAppBag = ctx
            .load(relation, &Bag::LocalApp)
            .map_err(self.model(Some(relation), "read our application bag"))?;
        // The secret our bag already names: it exists and is granted, so only the content changes.
        if let RequirerData::Secret { id } = bag.into_data() {
            match ctx.set_secret(&id, &update) {
                Ok(()) => return Ok(id),
                Err(e) if e.is_secret_not_found() => {
                    tracing::warn!(relation = %relation, "our manifests secret {id} is gone; creating a new one");
                }
                Err(e) => return Err(self.model(Some(relation), "update the manifests secret")(e)),
            }
        }
        let label = wire::secret_label(&self.endpoint, relation.id);
        let id = match ctx.secret_info(None, Some(&label)) {
            Ok(info) => {
                ctx.set_secret(&info.id, &update)
                    .map_err(self.model(Some(relation), "update the manifests secret"))?;
                info.id
            }
            Err(e) if e.is_secret_not_found() => ctx
                .add_secret(&NewSecret {
                    content,
                    label: Some(label),
                    owner: SecretOwner::Application,
                    ..NewSecret::default()
                })
                .map_err(self.model(Some(relation), "create the manifests secret"))?,
            Err(e) => {
                return Err(self.model(Some(relation), "look up the manifests secret")(
                    e,
                ));
            }
        };
        ctx.grant_secret(&id, relation, None)
            .map_err(self.model(Some(relation), "grant the manifests secret"))?;
        ctx.save(relation, &Bag::LocalApp, &RequirerAppBag::secret(&id))
            .map_err(self.model(Some(relation), "write our application bag"))?;
        Ok(id)
    }

    /// The secret this application publishes on `relation`, per its bag (leader only).
    pub fn secret_id(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<Option<SecretId>, RequirerError> {
        let bag: RequirerAppBag = ctx
            .load(relation, &Bag::LocalApp)
            .map_err(self.model(Some(relation), "read our application bag"))?;
        Ok(match bag.into_data() {
            RequirerData::Secret { id } => Some(id),
            _ => None,
        })
    }

    /// The manifests currently published on `relation` (leader only; reads our own secret with
    /// `--peek`), or `None` if nothing was sent.
    pub fn sent_manifests(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<Option<Vec<KubernetesManifest>>, RequirerError> {
        let Some(id) = self.secret_id(ctx, relation)? else {
            return Ok(None);
        };
        let content = match ctx.get_secret(Some(&id), None, SecretRead::Peek) {
            Ok(content) => content,
            Err(e) if e.is_secret_not_found() => return Ok(None),
            Err(e) => return Err(self.model(Some(relation), "read the manifests secret")(e)),
        };
        let text = ManifestsSecretContent::from_content(&content).manifests;
        wire::decode_manifest_list(&text)
            .map(Some)
            .map_err(|source| RequirerError::InvalidOwnData {
                relation: relation.clone(),
                source,
            })
    }

    /// Handles `secret-remove`: removes the revision if the secret is this endpoint's manifests
    /// secret, still exists, and the revision is not the latest.
    pub fn prune(
        &self,
        ctx: &mut Ctx<'_>,
        event: &SecretEvent,
    ) -> Result<PruneOutcome, RequirerError> {
        let ours = event
            .label
            .as_deref()
            .and_then(|l| wire::label_relation_id(l, &self.endpoint))
            .is_some();
        let (true, Some(revision)) = (ours, event.revision) else {
            return Ok(PruneOutcome::NotOurs);
        };
        if !ctx
            .is_leader()
            .map_err(self.model(None, "check leadership"))?
        {
            return Ok(PruneOutcome::NotLeader);
        }
        let info = match ctx.secret_info(Some(&event.id), None) {
            Ok(info) => info,
            Err(e) if e.is_secret_not_found() => {
                tracing::info!(
                    "secret-remove for {} which no longer exists: ignored",
                    event.id
                );
                return Ok(PruneOutcome::Gone);
            }
            Err(e) => return Err(self.model(None, "look up the manifests secret")(e)),
        };
        if revision >= info.revision {
            tracing::warn!(
                "secret-remove for revision {revision} of {}, which is the latest: kept",
                event.id
            );
            return Ok(PruneOutcome::KeptLatest);
        }
        ctx.remove_secret(&event.id, Some(revision))
            .map_err(self.model(None, "remove an old revision of the manifests secret"))?;
        Ok(PruneOutcome::Removed {
            secret_id: event.id.clone(),
            revision,
        })
    }

    /// Removes the relation's secret (relation-broken; leader only). Returns whether one was removed.
    pub fn remove_secret(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<bool, RequirerError> {
        if !ctx
            .is_leader()
            .map_err(self.model(None, "check leadership"))?
        {
            return Ok(false);
        }
        let label = wire::secret_label(&self.endpoint, relation.id);
        match ctx.secret_info(None, Some(&label)) {
            Ok(info) => {
                ctx.remove_secret(&info.id, None)
                    .map_err(self.model(Some(relation), "remove the manifests secret"))?;
                Ok(true)
            }
            Err(e) if e.is_secret_not_found() => Ok(false),
            Err(e) => Err(self.model(Some(relation), "look up the manifests secret")(
                e,
            )),
        }
    }

    /// The endpoint this sender serves.
    fn spec(&self) -> EndpointSpec {
        EndpointSpec::requires(
            "kubernetes_manifests-requirer",
            "kubernetes_manifest",
            &self.endpoint,
        )
    }

    /// Housekeeping: prunes secret revisions the provider no longer reads.
    fn on_secret_remove(&self, ctx: &mut Ctx<'_>, event: &SecretEvent) -> Result<(), Error> {
        self.prune(ctx, event)?;
        Ok(())
    }

    /// Housekeeping: removes the relation's secret when the relation goes.
    fn on_broken(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        self.remove_secret(ctx, &event.relation)?;
        Ok(())
    }
}

impl Plugin for ManifestsSender {
    fn key(&self) -> Option<String> {
        Some(self.spec().key())
    }

    fn build(self, charm: &mut Charm) {
        charm
            .endpoint(self.spec(), &self)
            .on(EventKind::RelationBroken, Self::on_broken)
            .on_any(EventKind::SecretRemove, Self::on_secret_remove);
    }
}

type SourceFn = dyn Fn(&mut Ctx<'_>) -> Result<Vec<KubernetesManifest>, Error>;

#[derive(Clone)]
enum Source {
    Static(Rc<[KubernetesManifest]>),
    Dynamic(Rc<SourceFn>),
}

/// The requirer side of one endpoint, sending a set of manifests whenever it matters.
///
/// Sends on `leader-elected`, `<endpoint>-relation-created` (to that relation), `upgrade-charm`
/// and the charm's refresh events, as a [`Plugin`]; prunes unused secret revisions and removes a
/// relation's secret when the relation is broken. The manifests are either fixed
/// ([`new`](Self::new)) or computed at each send ([`dynamic`](Self::dynamic)).
#[derive(Clone)]
pub struct KubernetesManifestsRequirer {
    sender: ManifestsSender,
    source: Source,
    refresh: Vec<Filter>,
}

impl fmt::Debug for KubernetesManifestsRequirer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Static(items) => format!("{} static manifests", items.len()),
            Source::Dynamic(_) => "dynamic".to_string(),
        };
        f.debug_struct("KubernetesManifestsRequirer")
            .field("endpoint", &self.sender.endpoint)
            .field("source", &source)
            .field("refresh", &self.refresh)
            .finish()
    }
}

impl KubernetesManifestsRequirer {
    /// A requirer that always sends `manifests` (e.g. files built into the charm).
    pub fn new(endpoint: impl Into<String>, manifests: Vec<KubernetesManifest>) -> Self {
        KubernetesManifestsRequirer {
            sender: ManifestsSender::new(endpoint),
            source: Source::Static(manifests.into()),
            refresh: Vec::new(),
        }
    }

    /// A requirer whose manifests are computed at each send (e.g. rendered from config). An error
    /// from `source` sends nothing: what was sent before stays.
    pub fn dynamic<F>(endpoint: impl Into<String>, source: F) -> Self
    where
        F: Fn(&mut Ctx<'_>) -> Result<Vec<KubernetesManifest>, Error> + 'static,
    {
        KubernetesManifestsRequirer {
            sender: ManifestsSender::new(endpoint),
            source: Source::Dynamic(Rc::new(source)),
            refresh: Vec::new(),
        }
    }

    /// Also sends on these events (e.g. `EventKind::ConfigChanged`).
    pub fn refresh_on(mut self, filter: impl Into<Filter>) -> Self {
        self.refresh.push(filter.into());
        self
    }

    /// The sender, for state queries and on-demand sends.
    pub fn sender(&self) -> &ManifestsSender {
        &self.sender
    }

    fn payload(&self, ctx: &mut Ctx<'_>) -> Result<ManifestsPayload, Error> {
        Ok(match &self.source {
            Source::Static(items) => ManifestsPayload::new(items)?,
            Source::Dynamic(source) => ManifestsPayload::new(&source(ctx)?)?,
        })
    }

    /// Computes the manifests and sends them on every relation of the endpoint.
    pub fn send(&self, ctx: &mut Ctx<'_>) -> Result<SendOutcome, Error> {
        // Leadership first: a follower neither renders nor sends.
        if !ctx.is_leader()? {
            return Ok(SendOutcome::NotLeader);
        }
        let payload = self.payload(ctx)?;
        Ok(self.sender.send_payload(ctx, &payload)?)
    }

    fn on_trigger(&self, ctx: &mut Ctx<'_>, _event: &Event) -> Result<(), Error> {
        self.send(ctx)?;
        Ok(())
    }

    fn on_broken(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        self.sender.on_broken(ctx, event)
    }

    fn on_secret_remove(&self, ctx: &mut Ctx<'_>, event: &SecretEvent) -> Result<(), Error> {
        self.sender.on_secret_remove(ctx, event)
    }

    fn on_created(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        if !ctx.is_leader()? {
            return Ok(());
        }
        let payload = self.payload(ctx)?;
        self.sender
            .send_payload_to(ctx, &payload, &event.relation)?;
        Ok(())
    }
}

impl Plugin for KubernetesManifestsRequirer {
    fn key(&self) -> Option<String> {
        Some(self.sender.spec().key())
    }

    fn build(self, charm: &mut Charm) {
        let mut handlers = charm.endpoint(self.sender.spec(), &self);
        handlers
            .on(EventKind::RelationBroken, Self::on_broken)
            .on_any(EventKind::SecretRemove, Self::on_secret_remove)
            .on(EventKind::RelationCreated, Self::on_created);
        let mut triggers: Vec<Filter> = vec![
            EventKind::LeaderElected.into(),
            EventKind::UpgradeCharm.into(),
        ];
        for filter in &self.refresh {
            if !triggers.contains(filter) {
                triggers.push(filter.clone());
            }
        }
        for filter in triggers {
            handlers.on_any(filter, Self::on_trigger);
        }
    }
}
