//! The requiring side: asks for a bucket and reads the connection info the provider sends.
//!
//! Per relation it speaks v1 (`requested-secrets` at relation-created, both version keys at
//! relation-joined, credentials read from the provider's secret) and falls back to v0 exactly as
//! the Python v1 library does: a provider bag that is not empty and has no version key is v0, and
//! the leader then asks for `relation-<id>` if it asked for no bucket. A relation that started v0
//! (its bag holds a bucket and no v1 key) stays v0.

use crate::digest::sha256_hex;
use crate::error::S3Error;
use crate::events::{CredentialsChanged, CredentialsGone};
use crate::wire::{
    self, LIB_VERSION, LIB_VERSION_KEY, PeerVersion, REQUESTED_SECRETS_KEY, S3ConnectionInfo,
    S3Key, SECRET_EXTRA_KEY, VERSION, VERSION_KEY,
};
use charm::databag::DatabagError;
use charm::{
    Bag, BagData, Charm, Ctx, EndpointSpec, Error, Event, EventKind, HookToolError, ModelError,
    Plugin, RelationEvent, RelationId, SecretEvent, SecretId, SecretRead,
};
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// Computes the bucket to request on a relation; `None` means the default `relation-<id>`.
pub type BucketFn = Rc<dyn Fn(&mut Ctx<'_>, &RelationId) -> Result<Option<String>, Error>>;

#[derive(Clone)]
enum BucketName {
    PerRelation,
    Fixed(String),
    Dynamic(BucketFn),
}

/// What a relation offers right now.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // a short-lived answer; boxing would only get in the way
pub enum ConnectionState {
    /// Usable connection info (its `Debug` redacts the credentials).
    Ready(S3ConnectionInfo),
    /// Required keys the provider has not sent (yet).
    Incomplete {
        /// The missing keys.
        missing: Vec<S3Key>,
    },
}

/// The requirer of one `s3` endpoint. Add it with [`Charm::plugin`], keep a clone for queries.
///
/// The leader writes the requested bucket when a relation joins and again when it is elected (so a
/// leader elected after the joins still asks). Every unit emits [`CredentialsChanged`] when the
/// connection info of a relation differs from what it last saw (a SHA-256 digest per relation is
/// kept in the charm state, never the credentials), and [`CredentialsGone`] on relation-broken.
#[derive(Clone)]
pub struct S3Requirer {
    endpoint: String,
    bucket: BucketName,
    path: Option<BucketFn>,
}

impl fmt::Debug for S3Requirer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bucket = match &self.bucket {
            BucketName::PerRelation => "relation-<id>".to_string(),
            BucketName::Fixed(b) => b.clone(),
            BucketName::Dynamic(_) => "<computed>".to_string(),
        };
        f.debug_struct("S3Requirer")
            .field("endpoint", &self.endpoint)
            .field("bucket", &bucket)
            .field("path", &self.path.as_ref().map(|_| "<computed>"))
            .finish()
    }
}

impl S3Requirer {
    /// A requirer for `endpoint` that asks for `relation-<relation id>` on each relation.
    pub fn new(endpoint: impl Into<String>) -> Self {
        S3Requirer {
            endpoint: endpoint.into(),
            bucket: BucketName::PerRelation,
            path: None,
        }
    }

    /// Asks for this path (prefix) on every relation (v1 only; `""` asks for none).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        self.path = if path.is_empty() {
            None
        } else {
            Some(Rc::new(move |_: &mut Ctx<'_>, _: &RelationId| {
                Ok(Some(path.clone()))
            }))
        };
        self
    }

    /// Asks for the path `f` computes (v1 only; `None` or `""` asks for none).
    pub fn path_with<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Ctx<'_>, &RelationId) -> Result<Option<String>, Error> + 'static,
    {
        self.path = Some(Rc::new(f));
        self
    }

    /// Asks for this bucket on every relation (`""` keeps the default).
    pub fn bucket(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.bucket = if name.is_empty() {
            BucketName::PerRelation
        } else {
            BucketName::Fixed(name)
        };
        self
    }

    /// Asks for the bucket `f` computes (e.g. from config); `None` or `""` keeps the default.
    pub fn bucket_with<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Ctx<'_>, &RelationId) -> Result<Option<String>, Error> + 'static,
    {
        self.bucket = BucketName::Dynamic(Rc::new(f));
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The live relations of the endpoint.
    pub fn relations(&self, ctx: &mut Ctx<'_>) -> Result<Vec<RelationId>, S3Error> {
        Ok(ctx.relations(&self.endpoint)?)
    }

    /// The bucket this requirer names on `relation`, if it names one.
    pub fn chosen_bucket(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<Option<String>, Error> {
        let chosen = match &self.bucket {
            BucketName::PerRelation => None,
            BucketName::Fixed(name) => Some(name.clone()),
            BucketName::Dynamic(f) => f(ctx, relation)?,
        };
        Ok(chosen.filter(|b| !b.is_empty()))
    }

    /// The bucket this requirer asks for on `relation` when it must name one (v0):
    /// the chosen one, or `relation-<relation id>`.
    pub fn bucket_for(&self, ctx: &mut Ctx<'_>, relation: &RelationId) -> Result<String, Error> {
        Ok(self
            .chosen_bucket(ctx, relation)?
            .unwrap_or_else(|| format!("relation-{}", relation.id)))
    }

    /// The path this requirer asks for on `relation`, if any.
    pub fn chosen_path(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<Option<String>, Error> {
        Ok(match &self.path {
            Some(f) => f(ctx, relation)?.filter(|p| !p.is_empty()),
            None => None,
        })
    }

    /// Which version this side speaks on `relation` (leader only: it reads its own app bag).
    /// v0 when the bag holds a bucket and no v1 key (the relation started before this unit spoke
    /// v1, and stays so, as upstream); v1 otherwise.
    pub fn own_version(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<PeerVersion, S3Error> {
        let own = ctx.read(relation, &Bag::LocalApp)?;
        let has = |k: &str| own.get(k).is_some_and(|v| !v.is_empty());
        let v1 = has(REQUESTED_SECRETS_KEY) || has(VERSION_KEY) || has(LIB_VERSION_KEY);
        Ok(if !v1 && has("bucket") {
            PeerVersion::V0
        } else {
            PeerVersion::V1
        })
    }

    /// Which version the provider of `relation` speaks (undecided while its bag is empty); a
    /// version key that is no number is [`S3Error::Malformed`].
    pub fn provider_version(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<PeerVersion, S3Error> {
        self.check_endpoint(relation)?;
        let bag = ctx.read(relation, &Bag::RemoteApp)?;
        wire::provider_version(&bag).map_err(|(key, detail)| S3Error::Malformed {
            relation: relation.clone(),
            app: ctx
                .remote_app(relation)
                .ok()
                .flatten()
                .unwrap_or_else(|| "?".into()),
            key: key.to_string(),
            detail,
        })
    }

    /// Writes the request on `relation` (leader only) where it differs from the bag.
    ///
    /// v1: `requested-secrets` (if relation-created ran before this unit led), both version
    /// keys, the chosen bucket and path (removed when none is chosen), and
    /// `relation-<id>` as the bucket once the provider looks v0. A relation that started v0:
    /// the bucket, as the v0 library does.
    pub fn request_bucket(&self, ctx: &mut Ctx<'_>, relation: &RelationId) -> Result<(), Error> {
        self.check_endpoint(relation)?;
        if !ctx.is_leader()? {
            return Err(S3Error::NotLeader {
                relation: relation.clone(),
                action: "request a bucket",
            }
            .into());
        }
        let own = ctx.read(relation, &Bag::LocalApp)?;
        let mut wanted = BagData::new();
        if self.own_version(ctx, relation)? == PeerVersion::V0 {
            wanted.insert("bucket".into(), self.bucket_for(ctx, relation)?);
        } else {
            // Normally written at relation-created; a leader elected after it writes it here.
            wanted.insert(
                REQUESTED_SECRETS_KEY.into(),
                wire::encode_requested_secrets(),
            );
            wanted.insert(VERSION_KEY.into(), VERSION.into());
            wanted.insert(LIB_VERSION_KEY.into(), LIB_VERSION.into());
            let bucket = match self.chosen_bucket(ctx, relation)? {
                Some(b) => b,
                None if self.provider_version(ctx, relation)? == PeerVersion::V0 => {
                    format!("relation-{}", relation.id)
                }
                None => String::new(),
            };
            wanted.insert("bucket".into(), bucket);
            let path = self.chosen_path(ctx, relation)?.unwrap_or_default();
            wanted.insert("path".into(), path);
        }
        let changes: BagData = wanted
            .into_iter()
            .filter(|(k, v)| own.get(k).map_or(!v.is_empty(), |old| old != v))
            .collect();
        if let Some(text) = changes.get(REQUESTED_SECRETS_KEY) {
            // The copy the Python library's followers read (they cannot read the app bag).
            ctx.set(relation, &Bag::LocalUnit, REQUESTED_SECRETS_KEY, text)?;
        }
        if !changes.is_empty() {
            let keys: Vec<&str> = changes.keys().map(String::as_str).collect();
            tracing::info!(relation = %relation, keys = %keys.join(","), "requesting an S3 bucket");
            ctx.update(relation, &Bag::LocalApp, &changes)?;
        }
        Ok(())
    }

    /// Writes the requested bucket on every relation when this unit leads; does nothing otherwise.
    pub fn request_buckets(&self, ctx: &mut Ctx<'_>) -> Result<(), Error> {
        if !ctx.is_leader()? {
            return Ok(());
        }
        for relation in self.relations(ctx)? {
            self.request_bucket(ctx, &relation)?;
        }
        Ok(())
    }

    /// What `relation` offers: ready connection info, or the required keys still missing.
    ///
    /// Values are typed: a bucket named `123` stays the string `"123"`; the provider's `data` cache
    /// and unknown keys are ignored; a malformed value is [`S3Error::Malformed`] naming the key.
    pub fn connection_state(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<ConnectionState, S3Error> {
        self.check_endpoint(relation)?;
        let mut bag = ctx.read(relation, &Bag::RemoteApp)?;
        self.merge_secret(ctx, relation, &mut bag)?;
        let missing = S3ConnectionInfo::missing_in(&bag);
        if !missing.is_empty() {
            return Ok(ConnectionState::Incomplete { missing });
        }
        match S3ConnectionInfo::from_bag(&bag) {
            Ok(info) => Ok(ConnectionState::Ready(info)),
            Err(e) => {
                let (key, detail) = match e {
                    DatabagError::Field { key, detail } => (key, detail),
                    DatabagError::Encode(detail) => (".".to_string(), detail),
                };
                Err(S3Error::Malformed {
                    relation: relation.clone(),
                    app: ctx.remote_app(relation)?.unwrap_or_else(|| "?".into()),
                    key,
                    detail,
                })
            }
        }
    }

    /// The connection info of `relation`, once the provider sent the required keys.
    pub fn connection_info(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<Option<S3ConnectionInfo>, S3Error> {
        Ok(match self.connection_state(ctx, relation)? {
            ConnectionState::Ready(info) => Some(info),
            ConnectionState::Incomplete { .. } => None,
        })
    }

    /// Every live relation with what it offers.
    pub fn relation_data(
        &self,
        ctx: &mut Ctx<'_>,
    ) -> Result<BTreeMap<RelationId, ConnectionState>, S3Error> {
        let mut all = BTreeMap::new();
        for relation in self.relations(ctx)? {
            let state = self.connection_state(ctx, &relation)?;
            all.insert(relation, state);
        }
        Ok(all)
    }

    /// Overlays the credentials of the provider's secret (`secret-extra`) on `bag`, tracking the
    /// latest revision under this side's label. An unreadable secret leaves the plain keys (how a
    /// v1 requirer reads a v0 provider); with none of those either it is
    /// [`S3Error::SecretUnavailable`]. A `secret-extra` that is no secret id is [`S3Error::Malformed`].
    fn merge_secret(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        bag: &mut BagData,
    ) -> Result<(), S3Error> {
        let Some(text) = bag.get(SECRET_EXTRA_KEY).filter(|t| !t.is_empty()).cloned() else {
            return Ok(());
        };
        let app = |ctx: &mut Ctx<'_>| -> Result<String, S3Error> {
            Ok(ctx.remote_app(relation)?.unwrap_or_else(|| "?".into()))
        };
        let id = match SecretId::parse(&text) {
            Ok(id) => id,
            Err(e) => {
                return Err(S3Error::Malformed {
                    relation: relation.clone(),
                    app: app(ctx)?,
                    key: SECRET_EXTRA_KEY.into(),
                    detail: e.to_string(),
                });
            }
        };
        let label = wire::secret_label(&self.endpoint, relation.id);
        let plain = S3ConnectionInfo::missing_in(bag).is_empty();
        let why = match ctx.get_secret(Some(&id), Some(&label), SecretRead::Refresh) {
            Ok(content) => {
                for key in wire::REQUESTED_SECRETS {
                    if let Some(v) = content.get(key.as_str()).filter(|v| !v.is_empty()) {
                        bag.insert(key.as_str().into(), v.into());
                    }
                }
                if plain || S3ConnectionInfo::missing_in(bag).is_empty() {
                    return Ok(());
                }
                "it holds no access-key and secret-key"
            }
            Err(ModelError::HookTool(HookToolError::SecretNotFound { .. })) => "not found",
            Err(ModelError::HookTool(HookToolError::PermissionDenied { .. })) => "not granted",
            Err(e) => return Err(e.into()),
        };
        if plain {
            tracing::warn!(relation = %relation, secret = %id, "the credentials secret cannot be read ({why}): using the plain keys");
            return Ok(());
        }
        Err(S3Error::SecretUnavailable {
            relation: relation.clone(),
            app: app(ctx)?,
            secret: id.uri(),
            why,
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

    fn state_key(&self) -> String {
        format!("s3-requirer:{}", self.endpoint)
    }

    /// Digests of the connection info last seen, by relation id.
    fn seen(&self, ctx: &mut Ctx<'_>) -> BTreeMap<String, String> {
        let key = self.state_key();
        ctx.stored(&key)
            .unwrap_or_else(|e| {
                tracing::warn!("resetting unreadable stored state {key:?}: {e}");
                None
            })
            .unwrap_or_default()
    }

    fn remember(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        digest: Option<String>,
    ) -> Result<bool, Error> {
        let mut seen = self.seen(ctx);
        let id = relation.id.to_string();
        let changed = match digest {
            Some(d) => seen.insert(id, d.clone()).as_ref() != Some(&d),
            None => seen.remove(&id).is_some(),
        };
        if changed {
            if seen.is_empty() {
                ctx.forget(&self.state_key());
            } else {
                ctx.store(&self.state_key(), &seen)?;
            }
        }
        Ok(changed)
    }

    /// The endpoint this requirer serves.
    fn spec(&self) -> EndpointSpec {
        EndpointSpec::requires("s3-requirer", "s3", &self.endpoint)
    }

    fn on_leader_elected(&self, ctx: &mut Ctx<'_>, _event: &Event) -> Result<(), Error> {
        self.request_buckets(ctx)
    }

    /// relation-created (leader): asks for the credentials in a secret, in the app bag and in
    /// its own unit bag (the copy the Python library's non-leaders read).
    fn on_created(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        if !ctx.is_leader()? {
            return Ok(());
        }
        let text = wire::encode_requested_secrets();
        for bag in [Bag::LocalApp, Bag::LocalUnit] {
            let own = ctx.read(&event.relation, &bag)?;
            if own.get(REQUESTED_SECRETS_KEY) != Some(&text) {
                ctx.set(&event.relation, &bag, REQUESTED_SECRETS_KEY, &text)?;
            }
        }
        Ok(())
    }

    fn on_joined(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        if ctx.is_leader()? {
            self.request_bucket(ctx, &event.relation)?;
        }
        Ok(())
    }

    fn on_changed(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        let relation = &event.relation;
        // The Python v1 library's v0 fallback (leader only): a provider that looks v0 gets
        // `relation-<id>` when nothing was asked, and this hook emits nothing.
        let provider = match self.provider_version(ctx, relation) {
            Ok(v) => v,
            Err(e) => {
                self.remember(ctx, relation, None)?;
                return Err(e.into());
            }
        };
        if provider == PeerVersion::V0 && ctx.is_leader()? {
            let own = ctx.read(relation, &Bag::LocalApp)?;
            if own.get("bucket").is_none_or(|b| b.is_empty()) {
                let bucket = self.bucket_for(ctx, relation)?;
                tracing::info!(relation = %relation, bucket = %bucket, "the provider speaks v0: asking for a bucket");
                ctx.set(relation, &Bag::LocalApp, "bucket", &bucket)?;
                return Ok(());
            }
        }
        self.evaluate(ctx, relation)
    }

    /// secret-changed of a relation's credentials secret (found by this side's label).
    fn on_secret_changed(&self, ctx: &mut Ctx<'_>, event: &SecretEvent) -> Result<(), Error> {
        let Some(id) = event
            .label
            .as_deref()
            .and_then(|l| wire::relation_of_label(l, &self.endpoint))
        else {
            return Ok(());
        };
        let Some(relation) = self.relations(ctx)?.into_iter().find(|r| r.id == id) else {
            return Ok(());
        };
        self.evaluate(ctx, &relation)
    }

    /// Emits [`CredentialsChanged`] when the connection info of `relation` differs from the
    /// last one seen.
    fn evaluate(&self, ctx: &mut Ctx<'_>, relation: &RelationId) -> Result<(), Error> {
        let state = match self.connection_state(ctx, relation) {
            Ok(state) => state,
            Err(e @ (S3Error::Malformed { .. } | S3Error::SecretUnavailable { .. })) => {
                self.remember(ctx, relation, None)?;
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        match state {
            ConnectionState::Incomplete { missing } => {
                let names: Vec<&str> = missing.iter().map(|k| k.as_str()).collect();
                tracing::debug!(relation = %relation, missing = %names.join(","), "no usable S3 credentials yet");
                self.remember(ctx, relation, None)?;
            }
            ConnectionState::Ready(info) => {
                if self.remember(ctx, relation, Some(digest(&info)))? {
                    tracing::info!(relation = %relation, bucket = %info.bucket, "S3 credentials changed");
                    let app = ctx.remote_app(relation)?;
                    ctx.emit(CredentialsChanged {
                        relation: relation.clone(),
                        app,
                        bucket: info.bucket.clone(),
                        endpoint: info.endpoint.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    fn on_broken(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        self.remember(ctx, &event.relation, None)?;
        tracing::info!(relation = %event.relation, "S3 credentials gone");
        ctx.emit(CredentialsGone {
            relation: event.relation.clone(),
            app: event.remote_app.clone(),
        });
        Ok(())
    }
}

/// A digest of every field, unambiguous (length-prefixed), so equal info gives equal digests.
fn digest(info: &S3ConnectionInfo) -> String {
    let mut text = String::new();
    for (k, v) in info.to_bag().unwrap_or_default() {
        text.push_str(&format!("{}:{k}={}:{v};", k.len(), v.len()));
    }
    format!("sha256:{}", sha256_hex(text.as_bytes()))
}

impl Plugin for S3Requirer {
    fn key(&self) -> Option<String> {
        Some(self.spec().key())
    }

    fn build(self, charm: &mut Charm) {
        charm
            .endpoint(self.spec(), &self)
            .on(EventKind::RelationCreated, Self::on_created)
            .on(EventKind::RelationJoined, Self::on_joined)
            .on(EventKind::RelationChanged, Self::on_changed)
            .on(EventKind::RelationBroken, Self::on_broken)
            .on_any(EventKind::SecretChanged, Self::on_secret_changed)
            .on_any(EventKind::LeaderElected, Self::on_leader_elected);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_differ_for_any_field_and_hide_the_secret() {
        let a = S3ConnectionInfo::new("ak", "sk", "b");
        let mut b = a.clone();
        b.secret_key = "sk2".into();
        let mut c = a.clone();
        c.attributes = vec!["x".into()];
        assert_ne!(digest(&a), digest(&b));
        assert_ne!(digest(&a), digest(&c));
        assert_eq!(digest(&a), digest(&a.clone()));
        assert!(!digest(&a).contains("sk"));
        // Length prefixes keep `a=bc` and `ab=c` apart.
        let mut d = a.clone();
        d.path = Some("x;4:path=1:y".into());
        assert_ne!(digest(&d), digest(&a));
    }
}
