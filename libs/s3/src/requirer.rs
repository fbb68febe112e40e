//! The requiring side: asks for a bucket and reads the connection info the provider sends.

use crate::digest::sha256_hex;
use crate::error::S3Error;
use crate::events::{CredentialsChanged, CredentialsGone};
use crate::wire::{S3ConnectionInfo, S3Key};
use charm::databag::DatabagError;
use charm::{
    Bag, Charm, Ctx, EndpointSpec, Error, Event, EventKind, Plugin, RelationEvent, RelationId,
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
            .finish()
    }
}

impl S3Requirer {
    /// A requirer for `endpoint` that asks for `relation-<relation id>` on each relation.
    pub fn new(endpoint: impl Into<String>) -> Self {
        S3Requirer {
            endpoint: endpoint.into(),
            bucket: BucketName::PerRelation,
        }
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

    /// The bucket this requirer asks for on `relation`.
    pub fn bucket_for(&self, ctx: &mut Ctx<'_>, relation: &RelationId) -> Result<String, Error> {
        let chosen = match &self.bucket {
            BucketName::PerRelation => None,
            BucketName::Fixed(name) => Some(name.clone()),
            BucketName::Dynamic(f) => f(ctx, relation)?,
        };
        Ok(chosen
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| format!("relation-{}", relation.id)))
    }

    /// Writes the requested bucket on `relation` (leader only) unless it is already there.
    pub fn request_bucket(&self, ctx: &mut Ctx<'_>, relation: &RelationId) -> Result<(), Error> {
        self.check_endpoint(relation)?;
        if !ctx.is_leader()? {
            return Err(S3Error::NotLeader {
                relation: relation.clone(),
                action: "request a bucket",
            }
            .into());
        }
        let bucket = self.bucket_for(ctx, relation)?;
        let own = ctx.read(relation, &Bag::LocalApp)?;
        if own.get("bucket") != Some(&bucket) {
            tracing::info!(relation = %relation, bucket = %bucket, "requesting an S3 bucket");
            ctx.set(relation, &Bag::LocalApp, "bucket", &bucket)?;
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
        let bag = ctx.read(relation, &Bag::RemoteApp)?;
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

    fn on_joined(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        if ctx.is_leader()? {
            self.request_bucket(ctx, &event.relation)?;
        }
        Ok(())
    }

    fn on_changed(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        let relation = &event.relation;
        let state = match self.connection_state(ctx, relation) {
            Ok(state) => state,
            Err(e @ S3Error::Malformed { .. }) => {
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
            .on(EventKind::RelationJoined, Self::on_joined)
            .on(EventKind::RelationChanged, Self::on_changed)
            .on(EventKind::RelationBroken, Self::on_broken)
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
