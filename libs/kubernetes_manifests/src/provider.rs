//! The provider side: receives manifests from every related requirer.

use crate::manifest::KubernetesManifest;
use crate::wire::{self, ListError, ManifestsSecretContent, RequirerAppBag, RequirerData};
use charm::backend::HookToolError;
use charm::error::{Classify, Outcome};
use charm::secret::{InvalidSecretId, SecretContent, SecretId, SecretRead};
use charm::{
    Bag, Charm, Ctx, CustomEvent, EndpointSpec, Error, Event, EventKind, Filter, ModelError,
    Plugin, RelationEvent, RelationId, SecretEvent,
};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What made the provider emit [`ManifestsUpdated`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateCause {
    /// `<endpoint>-relation-changed`: the requirer wrote its bag.
    RelationChanged,
    /// `<endpoint>-relation-broken`: the requirer left; its manifests are gone.
    RelationBroken,
    /// `secret-changed`: the requirer published a new revision of its manifests secret.
    SecretChanged,
    /// One of the charm's refresh events.
    Refresh,
}

/// The manifests received on a relation may have changed (the Python library's `updated` event).
///
/// During relation-broken the relation is no longer listed, so [`KubernetesManifestsProvider::manifests`]
/// called from the handler already leaves the departing app out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestsUpdated {
    /// The relation concerned.
    pub relation: RelationId,
    /// The requirer application, when known.
    pub app: Option<String>,
    /// Why.
    pub cause: UpdateCause,
}

impl CustomEvent for ManifestsUpdated {
    const NAME: &'static str = "kubernetes_manifests.updated";
    const ALIASES: &'static [&'static str] = &["kubernetes_manifests_updated"];
}

/// Where bad JSON was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListSource {
    /// The `kubernetes_manifests` key of the requirer's bag (plain mode).
    RelationData,
    /// The `manifests` key of the requirer's secret.
    Secret {
        /// The secret.
        secret_id: SecretId,
    },
}

impl fmt::Display for ListSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListSource::RelationData => {
                write!(f, "relation data {}", wire::KUBERNETES_MANIFESTS_FIELD)
            }
            ListSource::Secret { secret_id } => {
                write!(f, "secret {secret_id} key {}", wire::MANIFESTS_SECRET_KEY)
            }
        }
    }
}

/// What is wrong with one relation's manifests.
#[derive(Debug, thiserror::Error)]
pub enum ProviderErrorKind {
    /// Secret mode, but no secret URI.
    #[error("is_secret is \"true\" but kubernetes_manifests holds no secret id")]
    MissingSecretId,
    /// Secret mode, but the key holds something that is not a secret id (never passed on).
    #[error("key {key}: {source}")]
    InvalidSecretId {
        /// The bag key (`kubernetes_manifests`).
        key: &'static str,
        /// What is wrong with the value.
        source: InvalidSecretId,
    },
    /// The secret does not exist, or is not (yet) granted to this application.
    #[error("secret {secret_id} does not exist or is not granted to this application")]
    SecretNotFound {
        /// The secret the requirer named.
        secret_id: SecretId,
    },
    /// Reading the secret failed for another reason.
    #[error("cannot read secret {secret_id}: {source}")]
    SecretUnreadable {
        /// The secret the requirer named.
        secret_id: SecretId,
        /// The hook-tool failure.
        source: Box<ModelError>,
    },
    /// The bag holds a secret URI but `is_secret` is not exactly `"true"` (the Python provider
    /// would feed the URI to `json.loads` and fail the hook).
    #[error(
        "kubernetes_manifests holds a secret URI but is_secret is {}, not \"true\"",
        match is_secret { Some(v) => format!("{v:?}"), None => "absent".to_string() }
    )]
    NotMarkedAsSecret {
        /// The `is_secret` value sent.
        is_secret: Option<String>,
    },
    /// The JSON text is not a list of manifest objects.
    #[error("{location}: {source}")]
    InvalidList {
        /// Where the text was.
        location: ListSource,
        /// What is wrong.
        source: ListError,
    },
    /// Reading the relation failed.
    #[error(transparent)]
    Model(Box<ModelError>),
}

/// One relation's manifests could not be read: which relation, which app, and why.
#[derive(Debug, thiserror::Error)]
#[error("relation {relation} (app {app}): {kind}")]
pub struct ProviderError {
    /// The relation.
    pub relation: RelationId,
    /// The requirer application (`?` when Juju did not say).
    pub app: String,
    /// What is wrong.
    pub kind: Box<ProviderErrorKind>,
}

impl Classify for ProviderErrorKind {
    fn outcome(&self) -> Outcome {
        match self {
            // The requirer has not finished publishing (or the grant is not visible yet).
            ProviderErrorKind::MissingSecretId | ProviderErrorKind::SecretNotFound { .. } => {
                Outcome::Waiting
            }
            // Bad remote data: the requirer must be fixed.
            ProviderErrorKind::NotMarkedAsSecret { .. }
            | ProviderErrorKind::InvalidSecretId { .. }
            | ProviderErrorKind::InvalidList { .. } => Outcome::Blocked,
            // A hook tool failed: a retry can help.
            ProviderErrorKind::SecretUnreadable { source, .. }
            | ProviderErrorKind::Model(source) => source.outcome(),
        }
    }
}

impl Classify for ProviderError {
    fn outcome(&self) -> Outcome {
        self.kind.outcome()
    }
}

/// The manifests of one relation, or why they could not be read.
#[derive(Debug)]
pub struct RelationManifests {
    /// The relation.
    pub relation: RelationId,
    /// The requirer application, when known.
    pub app: Option<String>,
    /// Its manifests, in the order it sent them.
    pub result: Result<Vec<KubernetesManifest>, ProviderError>,
}

/// What every relation of an endpoint sent: one entry per live relation, in Juju's order.
#[derive(Debug, Default)]
pub struct ReceivedManifests {
    /// Per relation.
    pub relations: Vec<RelationManifests>,
}

impl ReceivedManifests {
    /// The union of the readable relations' manifests (relation order, then the order each sent).
    pub fn manifests(&self) -> impl Iterator<Item = &KubernetesManifest> {
        self.relations
            .iter()
            .filter_map(|r| r.result.as_ref().ok())
            .flatten()
    }

    /// The relations that could not be read.
    pub fn errors(&self) -> impl Iterator<Item = &ProviderError> {
        self.relations
            .iter()
            .filter_map(|r| r.result.as_ref().err())
    }

    /// Every manifest, or the first error (the Python library's all-or-nothing behaviour).
    pub fn into_result(self) -> Result<Vec<KubernetesManifest>, ProviderError> {
        let mut all = Vec::new();
        for r in self.relations {
            all.extend(r.result?);
        }
        Ok(all)
    }
}

/// The provider side of one `kubernetes_manifest` endpoint (e.g. resource-dispatcher's `secrets`).
///
/// As a [`Plugin`] it handles `<endpoint>-relation-changed` (labels the received secret and reads
/// its latest revision), `<endpoint>-relation-broken`, `secret-changed` of the secrets it labelled,
/// and the charm's refresh events, and emits [`ManifestsUpdated`] for each. Query the manifests
/// with [`manifests`](Self::manifests) at any time (the type is cheap to build and clone).
#[derive(Debug, Clone)]
pub struct KubernetesManifestsProvider {
    endpoint: String,
    refresh: Vec<Filter>,
}

impl KubernetesManifestsProvider {
    /// The provider of `endpoint` (a `provides` endpoint of interface `kubernetes_manifest`).
    pub fn new(endpoint: impl Into<String>) -> Self {
        KubernetesManifestsProvider {
            endpoint: endpoint.into(),
            refresh: Vec::new(),
        }
    }

    /// Also re-reads every relation and emits [`ManifestsUpdated`] on these events.
    pub fn refresh_on(mut self, filter: impl Into<Filter>) -> Self {
        self.refresh.push(filter.into());
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The manifests of every live relation of the endpoint, relation by relation.
    ///
    /// A relation that cannot be read gets its own error; the others are still returned. Fails
    /// only when the relations themselves cannot be listed.
    pub fn manifests(&self, ctx: &mut Ctx<'_>) -> Result<ReceivedManifests, ModelError> {
        let mut out = ReceivedManifests::default();
        for relation in ctx.relations(&self.endpoint)? {
            let app = ctx.remote_app(&relation).ok().flatten();
            let result = self.relation_manifests(ctx, &relation);
            out.relations.push(RelationManifests {
                relation,
                app,
                result,
            });
        }
        Ok(out)
    }

    /// Every manifest of every relation, or the first error (like the Python `get_manifests`).
    pub fn get_manifests(&self, ctx: &mut Ctx<'_>) -> Result<Vec<KubernetesManifest>, Error> {
        Ok(self.manifests(ctx)?.into_result()?)
    }

    /// The manifests one relation sent.
    pub fn relation_manifests(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<Vec<KubernetesManifest>, ProviderError> {
        let fail = |ctx: &mut Ctx<'_>, kind| ProviderError {
            relation: relation.clone(),
            app: ctx
                .remote_app(relation)
                .ok()
                .flatten()
                .unwrap_or_else(|| "?".to_string()),
            kind: Box::new(kind),
        };
        let bag = match self.bag(ctx, relation) {
            Ok(bag) => bag,
            Err(e) => return Err(fail(ctx, ProviderErrorKind::Model(Box::new(e)))),
        };
        let (text, location) = match bag.into_data() {
            RequirerData::Empty => return Ok(Vec::new()),
            RequirerData::SecretWithoutId => {
                return Err(fail(ctx, ProviderErrorKind::MissingSecretId));
            }
            RequirerData::Plain { json, is_secret } => {
                if json.trim_start().starts_with("secret:") {
                    return Err(fail(
                        ctx,
                        ProviderErrorKind::NotMarkedAsSecret { is_secret },
                    ));
                }
                (json, ListSource::RelationData)
            }
            RequirerData::BadSecretId(source) => {
                return Err(fail(
                    ctx,
                    ProviderErrorKind::InvalidSecretId {
                        key: wire::KUBERNETES_MANIFESTS_FIELD,
                        source,
                    },
                ));
            }
            RequirerData::Secret { id } => {
                match self.read_secret(ctx, relation, &id, SecretRead::Tracked) {
                    Ok(content) => (
                        ManifestsSecretContent::from_content(&content).manifests,
                        ListSource::Secret { secret_id: id },
                    ),
                    Err(kind) => return Err(fail(ctx, kind)),
                }
            }
        };
        wire::decode_manifest_list(&text)
            .map_err(|source| fail(ctx, ProviderErrorKind::InvalidList { location, source }))
    }

    fn bag(&self, ctx: &mut Ctx<'_>, relation: &RelationId) -> Result<RequirerAppBag, ModelError> {
        ctx.load(relation, &Bag::RemoteApp)
    }

    /// Reads the secret with this side's label attached (`secret-get <uri> --label ...`).
    ///
    /// Attaching the label every time costs nothing extra and keeps `secret-changed` recognisable
    /// even if an earlier attempt failed. If Juju refuses the label (another secret holds it, e.g.
    /// after the requirer replaced its secret), the secret is read without it.
    fn read_secret(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        uri: &SecretId,
        read: SecretRead,
    ) -> Result<SecretContent, ProviderErrorKind> {
        let label = wire::secret_label(&self.endpoint, relation.id);
        let not_found = |uri: &SecretId| ProviderErrorKind::SecretNotFound {
            secret_id: uri.clone(),
        };
        match ctx.get_secret(Some(uri), Some(&label), read) {
            Ok(content) => Ok(content),
            Err(ModelError::HookTool(
                HookToolError::SecretNotFound { .. } | HookToolError::PermissionDenied { .. },
            )) => Err(not_found(uri)),
            Err(first) => {
                tracing::warn!(
                    relation = %relation,
                    "cannot label secret {uri} as {label} ({first}); reading it without the label"
                );
                match ctx.get_secret(Some(uri), None, read) {
                    Ok(content) => Ok(content),
                    Err(ModelError::HookTool(
                        HookToolError::SecretNotFound { .. }
                        | HookToolError::PermissionDenied { .. },
                    )) => Err(not_found(uri)),
                    Err(source) => Err(ProviderErrorKind::SecretUnreadable {
                        secret_id: uri.clone(),
                        source: Box::new(source),
                    }),
                }
            }
        }
    }

    /// Labels the relation's secret and starts tracking its latest revision; errors are only logged
    /// here (they surface, typed, from [`manifests`](Self::manifests)).
    fn refresh(&self, ctx: &mut Ctx<'_>, relation: &RelationId) {
        match self.bag(ctx, relation).map(RequirerAppBag::into_data) {
            Ok(RequirerData::Secret { id }) => {
                if let Err(e) = self.read_secret(ctx, relation, &id, SecretRead::Refresh) {
                    tracing::warn!(relation = %relation, "cannot read the manifests secret: {e}");
                }
            }
            Ok(RequirerData::BadSecretId(e)) => {
                tracing::warn!(relation = %relation, "key {}: {e}", wire::KUBERNETES_MANIFESTS_FIELD);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(relation = %relation, "cannot read the requirer's bag: {e}"),
        }
    }

    fn emit(&self, ctx: &mut Ctx<'_>, relation: &RelationId, cause: UpdateCause) {
        let app = ctx.remote_app(relation).ok().flatten();
        ctx.emit(ManifestsUpdated {
            relation: relation.clone(),
            app,
            cause,
        });
    }

    fn on_changed(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        self.refresh(ctx, &event.relation);
        self.emit(ctx, &event.relation, UpdateCause::RelationChanged);
        Ok(())
    }

    fn on_broken(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        ctx.emit(ManifestsUpdated {
            relation: event.relation.clone(),
            app: event.remote_app.clone(),
            cause: UpdateCause::RelationBroken,
        });
        Ok(())
    }

    /// Finds the relation a changed secret belongs to: by this endpoint's label, or (for a secret
    /// we never managed to label) by the URI in the relations' bags.
    fn relation_of_secret(
        &self,
        ctx: &mut Ctx<'_>,
        event: &SecretEvent,
    ) -> Result<Option<RelationId>, ModelError> {
        match event.label.as_deref().filter(|l| !l.is_empty()) {
            Some(label) => {
                let Some(id) = wire::label_relation_id(label, &self.endpoint) else {
                    return Ok(None);
                };
                Ok(ctx
                    .relations(&self.endpoint)?
                    .into_iter()
                    .find(|r| r.id == id))
            }
            None => {
                for relation in ctx.relations(&self.endpoint)? {
                    if let Ok(RequirerData::Secret { id }) =
                        self.bag(ctx, &relation).map(RequirerAppBag::into_data)
                        && id.same_secret(&event.id)
                    {
                        return Ok(Some(relation));
                    }
                }
                Ok(None)
            }
        }
    }

    fn on_secret_changed(&self, ctx: &mut Ctx<'_>, event: &SecretEvent) -> Result<(), Error> {
        let Some(relation) = self.relation_of_secret(ctx, event)? else {
            return Ok(());
        };
        self.refresh(ctx, &relation);
        self.emit(ctx, &relation, UpdateCause::SecretChanged);
        Ok(())
    }

    /// The endpoint this provider serves.
    fn spec(&self) -> EndpointSpec {
        EndpointSpec::provides(
            "kubernetes_manifests-provider",
            "kubernetes_manifest",
            &self.endpoint,
        )
    }

    fn on_refresh(&self, ctx: &mut Ctx<'_>, _event: &Event) -> Result<(), Error> {
        for relation in ctx.relations(&self.endpoint)? {
            self.refresh(ctx, &relation);
            self.emit(ctx, &relation, UpdateCause::Refresh);
        }
        Ok(())
    }
}

impl Plugin for KubernetesManifestsProvider {
    fn key(&self) -> Option<String> {
        Some(self.spec().key())
    }

    fn build(self, charm: &mut Charm) {
        let mut handlers = charm.endpoint(self.spec(), &self);
        handlers
            .on(EventKind::RelationChanged, Self::on_changed)
            .on(EventKind::RelationBroken, Self::on_broken)
            .on_any(EventKind::SecretChanged, Self::on_secret_changed);
        for filter in &self.refresh {
            handlers.on_any(filter.clone(), Self::on_refresh);
        }
    }
}
