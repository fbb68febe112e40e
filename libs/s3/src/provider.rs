//! The providing side: answers bucket requests with connection info (the s3-integrator side).
//!
//! Per relation it speaks what the requirer speaks (interfaces-current 1.5, 1.11): a v1
//! requirer (`requested-secrets` lists the credentials) gets them in a secret owned by this
//! application, a v0 requirer in plain; a relation whose bag already holds plain credentials
//! stays plain (it started v0).

use crate::error::S3Error;
use crate::events::CredentialsRequested;
use crate::wire::{
    self, CACHE_KEY, LIB_VERSION, LIB_VERSION_KEY, PeerVersion, S3ConnectionInfo, S3Key, S3Request,
    SECRET_EXTRA_KEY, UriStyle, VERSION, VERSION_KEY,
};
use charm::{
    Bag, BagData, Charm, Ctx, EndpointSpec, Error, Event, EventKind, NewSecret, Plugin,
    RelationEvent, RelationId, SecretContent, SecretEvent, SecretId, SecretOwner, SecretRead,
    SecretUpdate,
};
use std::collections::BTreeMap;

/// The provider of one `s3` endpoint. Add it with [`Charm::plugin`], keep a clone for writing.
///
/// The leader writes both version keys at relation-created. v0 requirers: on `relation-changed`
/// the leader compares the requirer's bag with the snapshot it keeps in its own app bag under
/// `data` (the Python v0 library's diff cache, kept for wire and upgrade compatibility) and emits
/// [`CredentialsRequested`] when `bucket` was added or changed. v1 requirers: the leader emits it
/// on every `relation-changed` once the requirer has spoken (as the Python v1 library), without
/// a cache. A newly elected leader does the same for every relation, so a request made while
/// leadership moved is not lost. The credentials secret of a relation is removed when the
/// relation is broken (upstream leaks it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Provider {
    endpoint: String,
}

impl S3Provider {
    /// A provider for `endpoint` (usually `s3-credentials`).
    pub fn new(endpoint: impl Into<String>) -> Self {
        S3Provider {
            endpoint: endpoint.into(),
        }
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The live relations of the endpoint.
    pub fn relations(&self, ctx: &mut Ctx<'_>) -> Result<Vec<RelationId>, S3Error> {
        Ok(ctx.relations(&self.endpoint)?)
    }

    /// What the requirer of `relation` asks for; `None` until it has spoken (a version key or a
    /// bucket). The bucket is empty when a v1 requirer asked for none.
    pub fn request(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<Option<S3Request>, S3Error> {
        self.check_endpoint(relation)?;
        let bag = ctx.read(relation, &Bag::RemoteApp)?;
        if !wire::requirer_ready(&bag) {
            return Ok(None);
        }
        let text = |k: &str| bag.get(k).filter(|v| !v.is_empty()).cloned();
        Ok(Some(S3Request {
            bucket: text("bucket").unwrap_or_default(),
            path: text("path"),
        }))
    }

    /// Which version the requirer of `relation` speaks (v0 until `requested-secrets` says
    /// otherwise); a malformed `requested-secrets` is [`S3Error::Malformed`].
    pub fn requirer_version(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<PeerVersion, S3Error> {
        self.check_endpoint(relation)?;
        let bag = ctx.read(relation, &Bag::RemoteApp)?;
        match wire::requirer_version(&bag) {
            Ok(v) => Ok(v),
            Err(detail) => {
                Err(self.malformed(ctx, relation, wire::REQUESTED_SECRETS_KEY, detail)?)
            }
        }
    }

    /// Whether the credentials of `relation` travel in a secret: the requirer asked for them so,
    /// and this side has not already sent them in plain (a relation that started v0 stays v0).
    pub fn uses_secret(&self, ctx: &mut Ctx<'_>, relation: &RelationId) -> Result<bool, S3Error> {
        Ok(!self.secret_fields(ctx, relation)?.is_empty())
    }

    /// The bucket the requirer of `relation` asks for, if any.
    pub fn requested_bucket(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<Option<String>, S3Error> {
        Ok(self
            .request(ctx, relation)?
            .map(|r| r.bucket)
            .filter(|b| !b.is_empty()))
    }

    /// Every live relation with what its requirer asks for (`None`: nothing yet).
    pub fn relation_data(
        &self,
        ctx: &mut Ctx<'_>,
    ) -> Result<BTreeMap<RelationId, Option<S3Request>>, S3Error> {
        let mut all = BTreeMap::new();
        for relation in self.relations(ctx)? {
            let request = self.request(ctx, &relation)?;
            all.insert(relation, request);
        }
        Ok(all)
    }

    /// Sends `info` on `relation` (leader only): every field is written, and a field that is unset
    /// (or an empty list) is removed from the bag, so the bag says exactly what `info` says. The
    /// credentials go into the relation's secret when the requirer speaks v1 (a new revision only
    /// when they changed). Returns `false`, writing nothing, while the requirer has not spoken
    /// yet (the Python library raises `PrematureDataAccessError`; [`CredentialsRequested`] comes
    /// once it has).
    pub fn update_connection_info(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        info: &S3ConnectionInfo,
    ) -> Result<bool, S3Error> {
        self.writable(ctx, relation, "update the S3 connection info")?;
        if !self.ready(ctx, relation)? {
            tracing::debug!(relation = %relation, "the requirer has not spoken yet: nothing sent");
            return Ok(false);
        }
        // A v1 requirer needs no bucket (it may leave the choice to the provider, which may
        // have none to give); a v0 requirer cannot work without one.
        let v1 = self.requirer_version(ctx, relation)? == PeerVersion::V1;
        let empty: Vec<S3Key> = info
            .empty_required()
            .into_iter()
            .filter(|k| !(v1 && *k == S3Key::Bucket))
            .collect();
        if let Some(key) = empty.first() {
            return Err(S3Error::InvalidValue {
                relation: relation.clone(),
                key: key.as_str(),
                detail: "a required field must not be empty".into(),
            });
        }
        let mut changes = info.to_bag().map_err(|e| S3Error::InvalidValue {
            relation: relation.clone(),
            key: "connection info",
            detail: e.to_string(),
        })?;
        for key in S3Key::ALL {
            changes.entry(key.as_str().to_string()).or_default();
        }
        let secret_fields = self.secret_fields(ctx, relation)?;
        if !secret_fields.is_empty() {
            let updates: Vec<(S3Key, Option<String>)> = secret_fields
                .iter()
                .map(|k| (*k, changes.remove(k.as_str())))
                .collect();
            changes.extend(self.sync_secret(ctx, relation, &updates)?);
        }
        self.apply(ctx, relation, changes)?;
        Ok(true)
    }

    /// Sets `bucket` (leader only).
    pub fn set_bucket(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        bucket: &str,
    ) -> Result<(), S3Error> {
        self.set_required(ctx, relation, S3Key::Bucket, bucket)
    }

    /// Sets `access-key` (leader only).
    pub fn set_access_key(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        access_key: &str,
    ) -> Result<(), S3Error> {
        self.set_required(ctx, relation, S3Key::AccessKey, access_key)
    }

    /// Sets `secret-key` (leader only).
    pub fn set_secret_key(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        secret_key: &str,
    ) -> Result<(), S3Error> {
        self.set_required(ctx, relation, S3Key::SecretKey, secret_key)
    }

    /// Sets `path` (leader only); `""` removes it.
    pub fn set_path(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        path: &str,
    ) -> Result<(), S3Error> {
        self.set_raw(ctx, relation, S3Key::Path, path.to_string())
    }

    /// Sets `endpoint` (leader only); `""` removes it.
    pub fn set_endpoint(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        endpoint: &str,
    ) -> Result<(), S3Error> {
        self.set_raw(ctx, relation, S3Key::Endpoint, endpoint.to_string())
    }

    /// Sets `region` (leader only); `""` removes it.
    pub fn set_region(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        region: &str,
    ) -> Result<(), S3Error> {
        self.set_raw(ctx, relation, S3Key::Region, region.to_string())
    }

    /// Sets `s3-uri-style` (leader only).
    pub fn set_s3_uri_style(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        style: &UriStyle,
    ) -> Result<(), S3Error> {
        self.set_raw(ctx, relation, S3Key::S3UriStyle, style.as_str().to_string())
    }

    /// Sets `storage-class` (leader only); `""` removes it.
    pub fn set_storage_class(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        storage_class: &str,
    ) -> Result<(), S3Error> {
        self.set_raw(
            ctx,
            relation,
            S3Key::StorageClass,
            storage_class.to_string(),
        )
    }

    /// Sets `tls-ca-chain` as JSON text (leader only); an empty list removes it.
    pub fn set_tls_ca_chain(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        chain: &[String],
    ) -> Result<(), S3Error> {
        self.set_raw(ctx, relation, S3Key::TlsCaChain, wire::encode_list(chain))
    }

    /// Sets `s3-api-version` (leader only); `""` removes it.
    pub fn set_s3_api_version(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        version: &str,
    ) -> Result<(), S3Error> {
        self.set_raw(ctx, relation, S3Key::S3ApiVersion, version.to_string())
    }

    /// Sets `attributes` as JSON text (leader only); an empty list removes it.
    pub fn set_attributes(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        attributes: &[String],
    ) -> Result<(), S3Error> {
        self.set_raw(
            ctx,
            relation,
            S3Key::Attributes,
            wire::encode_list(attributes),
        )
    }

    /// Sets `delete-older-than-days` as decimal text (leader only).
    pub fn set_delete_older_than_days(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        days: u32,
    ) -> Result<(), S3Error> {
        self.set_raw(
            ctx,
            relation,
            S3Key::DeleteOlderThanDays,
            wire::encode_days(days),
        )
    }

    /// Removes one key from the bag (leader only); removing a required key withdraws the credentials.
    pub fn unset(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        key: S3Key,
    ) -> Result<(), S3Error> {
        self.set_raw(ctx, relation, key, String::new())
    }

    fn set_required(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        key: S3Key,
        value: &str,
    ) -> Result<(), S3Error> {
        if value.is_empty() {
            return Err(S3Error::InvalidValue {
                relation: relation.clone(),
                key: key.as_str(),
                detail: "a required field must not be empty (use unset to remove it)".into(),
            });
        }
        self.set_raw(ctx, relation, key, value.to_string())
    }

    fn set_raw(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        key: S3Key,
        value: String,
    ) -> Result<(), S3Error> {
        self.writable(ctx, relation, "update the S3 connection info")?;
        if !self.ready(ctx, relation)? {
            return Err(S3Error::NotReady {
                relation: relation.clone(),
            });
        }
        let mut changes = BagData::new();
        if self.secret_fields(ctx, relation)?.contains(&key) {
            let value = Some(value).filter(|v| !v.is_empty());
            changes.extend(self.sync_secret(ctx, relation, &[(key, value)])?);
        } else {
            changes.insert(key.as_str().to_string(), value);
        }
        self.apply(ctx, relation, changes)
    }

    /// Whether the requirer of `relation` has spoken (a version key or a bucket).
    fn ready(&self, ctx: &mut Ctx<'_>, relation: &RelationId) -> Result<bool, S3Error> {
        Ok(wire::requirer_ready(&ctx.read(relation, &Bag::RemoteApp)?))
    }

    /// The credential keys that go into the secret on `relation` (none: all plain).
    fn secret_fields(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<Vec<S3Key>, S3Error> {
        self.check_endpoint(relation)?;
        let local = ctx.read(relation, &Bag::LocalApp)?;
        let plain_already = wire::REQUESTED_SECRETS
            .iter()
            .any(|k| local.get(k.as_str()).is_some_and(|v| !v.is_empty()));
        if plain_already {
            return Ok(Vec::new());
        }
        let remote = ctx.read(relation, &Bag::RemoteApp)?;
        let requested = match wire::decode_requested_secrets(&remote) {
            Ok(r) => r,
            Err(detail) => {
                return Err(self.malformed(ctx, relation, wire::REQUESTED_SECRETS_KEY, detail)?);
            }
        };
        Ok(wire::REQUESTED_SECRETS
            .into_iter()
            .filter(|k| requested.iter().any(|r| r == k.as_str()))
            .collect())
    }

    /// Merges `updates` (`None`: remove the key) into the relation's credentials secret, creating
    /// and granting it on first use; a new revision only when the content changes. Returns the bag
    /// entries that point at it (`secret-extra`).
    fn sync_secret(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        updates: &[(S3Key, Option<String>)],
    ) -> Result<BagData, S3Error> {
        let label = wire::secret_label(&self.endpoint, relation.id);
        let mut changes = BagData::new();
        let merge = |content: &mut SecretContent| {
            let mut map: BTreeMap<String, String> =
                content.iter().map(|(k, v)| (k.into(), v.into())).collect();
            for (key, value) in updates {
                match value {
                    Some(v) => map.insert(key.as_str().into(), v.clone()),
                    None => map.remove(key.as_str()),
                };
            }
            *content = SecretContent::from(map);
        };
        match ctx.get_secret(None, Some(&label), SecretRead::Peek) {
            Ok(current) => {
                let mut next = current.clone();
                merge(&mut next);
                // The bag points at the secret (we wrote that pointer in the hook that created
                // it, and only the leader writes this bag), so its id need not be asked of Juju.
                let pointer = ctx
                    .read(relation, &Bag::LocalApp)?
                    .get(SECRET_EXTRA_KEY)
                    .and_then(|uri| SecretId::parse(uri).ok());
                if next == current
                    && let Some(id) = &pointer
                {
                    // Unchanged: `apply` then writes nothing.
                    changes.insert(SECRET_EXTRA_KEY.into(), id.uri());
                    return Ok(changes);
                }
                let id = match pointer {
                    Some(id) => id,
                    None => ctx.secret_info(None, Some(&label))?.id,
                };
                if next.is_empty() {
                    ctx.remove_secret(&id, None)?;
                    changes.insert(SECRET_EXTRA_KEY.into(), String::new());
                } else {
                    if next != current {
                        tracing::info!(relation = %relation, "new revision of the S3 credentials secret");
                        let update = SecretUpdate {
                            content: Some(next),
                            ..SecretUpdate::default()
                        };
                        ctx.set_secret(&id, &update)?;
                    }
                    changes.insert(SECRET_EXTRA_KEY.into(), id.uri());
                }
            }
            Err(e) if e.is_secret_not_found() => {
                let mut content = SecretContent::new();
                merge(&mut content);
                if content.is_empty() {
                    return Ok(changes);
                }
                let id = ctx.add_secret(&NewSecret {
                    content,
                    label: Some(label),
                    description: Some(format!("S3 credentials for relation {}", relation.id)),
                    owner: SecretOwner::Application,
                    ..NewSecret::default()
                })?;
                ctx.grant_secret(&id, relation, None)?;
                tracing::info!(relation = %relation, "created the S3 credentials secret");
                changes.insert(SECRET_EXTRA_KEY.into(), id.uri());
            }
            Err(e) => return Err(e.into()),
        }
        Ok(changes)
    }

    fn malformed(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        key: &str,
        detail: String,
    ) -> Result<S3Error, S3Error> {
        Ok(S3Error::Malformed {
            relation: relation.clone(),
            app: ctx.remote_app(relation)?.unwrap_or_else(|| "?".into()),
            key: key.to_string(),
            detail,
        })
    }

    fn check_endpoint(&self, relation: &RelationId) -> Result<(), S3Error> {
        if relation.endpoint == self.endpoint {
            Ok(())
        } else {
            Err(S3Error::UnknownRelation {
                relation: relation.clone(),
                endpoint: self.endpoint.clone(),
            })
        }
    }

    fn writable(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        action: &'static str,
    ) -> Result<(), S3Error> {
        self.check_endpoint(relation)?;
        if !ctx.is_leader()? {
            return Err(S3Error::NotLeader {
                relation: relation.clone(),
                action,
            });
        }
        if !self.relations(ctx)?.contains(relation) {
            return Err(S3Error::UnknownRelation {
                relation: relation.clone(),
                endpoint: self.endpoint.clone(),
            });
        }
        Ok(())
    }

    /// Stages the entries that differ from what the bag holds; logs key names, never values.
    fn apply(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        changes: BagData,
    ) -> Result<(), S3Error> {
        let current = ctx.read(relation, &Bag::LocalApp)?;
        let changes: BagData = changes
            .into_iter()
            .filter(|(k, v)| current.get(k).map_or(!v.is_empty(), |old| old != v))
            .collect();
        if changes.is_empty() {
            return Ok(());
        }
        let keys: Vec<&str> = changes.keys().map(String::as_str).collect();
        tracing::info!(relation = %relation, keys = %keys.join(","), "updating S3 connection info");
        ctx.update(relation, &Bag::LocalApp, &changes)?;
        Ok(())
    }

    /// Compares the requirer bag with the `data` cache, refreshes the cache, and says whether a
    /// bucket was requested (added, or changed: the Python library only reacts to added).
    pub fn check_request(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<Option<CredentialsRequested>, S3Error> {
        self.check_endpoint(relation)?;
        if !ctx.is_leader()? {
            return Ok(None);
        }
        let Some(app) = ctx.remote_app(relation)? else {
            // Without the requirer's name its bag cannot be read: keep the cache as it is.
            return Ok(None);
        };
        let local = ctx.read(relation, &Bag::LocalApp)?;
        let remote = ctx.read(relation, &Bag::RemoteApp)?;
        let old = match local.get(CACHE_KEY) {
            None => serde_json::Map::new(),
            Some(text) => wire::decode_cache(text).unwrap_or_else(|detail| {
                tracing::warn!(relation = %relation, "ignoring the unreadable {CACHE_KEY:?} cache: {detail}");
                serde_json::Map::new()
            }),
        };
        let cache = wire::encode_cache(&remote);
        if local.get(CACHE_KEY) != Some(&cache) {
            ctx.set(relation, &Bag::LocalApp, CACHE_KEY, &cache)?;
        }
        let Some(bucket) = remote.get("bucket").filter(|b| !b.is_empty()) else {
            return Ok(None);
        };
        let requested = match old.get("bucket") {
            None => true,
            Some(serde_json::Value::String(seen)) => seen != bucket,
            Some(_) => true,
        };
        if !requested {
            return Ok(None);
        }
        tracing::info!(relation = %relation, bucket = %bucket, "S3 credentials requested");
        Ok(Some(CredentialsRequested {
            relation: relation.clone(),
            app: Some(app),
            bucket: bucket.clone(),
            path: None,
            v1: false,
        }))
    }

    /// What the leader emits for `relation` now: a v1 requirer that has spoken is answered every
    /// time (no cache in the bag: a v1 provider writes none); a v0 requirer as [`Self::check_request`].
    fn requested(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<Option<CredentialsRequested>, S3Error> {
        if !ctx.is_leader()? {
            return Ok(None);
        }
        if self.requirer_version(ctx, relation)? == PeerVersion::V0 {
            return self.check_request(ctx, relation);
        }
        let Some(request) = self.request(ctx, relation)? else {
            return Ok(None);
        };
        tracing::info!(relation = %relation, bucket = %request.bucket, "S3 connection info requested (v1)");
        Ok(Some(CredentialsRequested {
            relation: relation.clone(),
            app: ctx.remote_app(relation)?,
            bucket: request.bucket,
            path: request.path,
            v1: true,
        }))
    }

    fn on_created(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        if !ctx.is_leader()? {
            return Ok(());
        }
        let versions = BagData::from([
            (VERSION_KEY.to_string(), VERSION.to_string()),
            (LIB_VERSION_KEY.to_string(), LIB_VERSION.to_string()),
        ]);
        ctx.update(&event.relation, &Bag::LocalApp, &versions)?;
        Ok(())
    }

    /// secret-remove of a relation secret (leader): the revision no consumer tracks any more
    /// is removed, so rotations do not pile revisions up.
    fn on_secret_remove(&self, ctx: &mut Ctx<'_>, event: &SecretEvent) -> Result<(), Error> {
        let (Some(label), Some(revision)) = (event.label.as_deref(), event.revision) else {
            return Ok(());
        };
        if wire::relation_of_label(label, &self.endpoint).is_none() || !ctx.is_leader()? {
            return Ok(());
        }
        match ctx.remove_secret(&event.id, Some(revision)) {
            Ok(()) => {
                tracing::info!(
                    revision,
                    "removed an unused revision of an S3 credentials secret"
                );
                Ok(())
            }
            // Juju may repeat the hook for a revision already gone.
            Err(e) if e.is_secret_not_found() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn on_changed(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        if let Some(request) = self.requested(ctx, &event.relation)? {
            ctx.emit(request);
        }
        Ok(())
    }

    /// relation-broken (leader): removes the relation's credentials secret, if any.
    fn on_broken(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        if !ctx.is_leader()? {
            return Ok(());
        }
        let label = wire::secret_label(&self.endpoint, event.relation.id);
        match ctx.secret_info(None, Some(&label)) {
            Ok(info) => {
                ctx.remove_secret(&info.id, None)?;
                tracing::info!(relation = %event.relation, "removed the S3 credentials secret");
            }
            Err(e) if e.is_secret_not_found() => {}
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// The endpoint this provider serves.
    fn spec(&self) -> EndpointSpec {
        EndpointSpec::provides("s3-provider", "s3", &self.endpoint)
    }

    fn on_leader_elected(&self, ctx: &mut Ctx<'_>, _event: &Event) -> Result<(), Error> {
        for relation in self.relations(ctx)? {
            if let Some(request) = self.requested(ctx, &relation)? {
                ctx.emit(request);
            }
        }
        Ok(())
    }
}

impl Plugin for S3Provider {
    fn key(&self) -> Option<String> {
        Some(self.spec().key())
    }

    fn build(self, charm: &mut Charm) {
        charm
            .endpoint(self.spec(), &self)
            .on(EventKind::RelationCreated, Self::on_created)
            .on(EventKind::RelationChanged, Self::on_changed)
            .on(EventKind::RelationBroken, Self::on_broken)
            .on_any(EventKind::SecretRemove, Self::on_secret_remove)
            .on_any(EventKind::LeaderElected, Self::on_leader_elected);
    }
}
