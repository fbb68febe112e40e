//! The providing side: answers bucket requests with connection info (the s3-integrator side).

use crate::error::S3Error;
use crate::events::CredentialsRequested;
use crate::wire::{self, CACHE_KEY, S3ConnectionInfo, S3Key, S3Request, UriStyle};
use charm::{
    Bag, BagData, Charm, Ctx, EndpointSpec, Error, Event, EventKind, Plugin, RelationEvent,
    RelationId,
};
use std::collections::BTreeMap;

/// The provider of one `s3` endpoint. Add it with [`Charm::plugin`], keep a clone for writing.
///
/// On `relation-changed` the leader compares the requirer's bag with the snapshot it keeps in its own
/// app bag under `data` (the Python library's diff cache, kept for wire and upgrade compatibility)
/// and emits [`CredentialsRequested`] when `bucket` was added or changed. A newly elected leader
/// does the same for every relation, so a request made while leadership moved is not lost.
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

    /// What the requirer of `relation` asks for; `None` until it has written a bucket.
    pub fn request(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<Option<S3Request>, S3Error> {
        self.check_endpoint(relation)?;
        let bag = ctx.read(relation, &Bag::RemoteApp)?;
        Ok(bag
            .get("bucket")
            .filter(|b| !b.is_empty())
            .map(|b| S3Request { bucket: b.clone() }))
    }

    /// The bucket the requirer of `relation` asks for, if any.
    pub fn requested_bucket(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
    ) -> Result<Option<String>, S3Error> {
        Ok(self.request(ctx, relation)?.map(|r| r.bucket))
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
    /// (or an empty list) is removed from the bag, so the bag says exactly what `info` says.
    pub fn update_connection_info(
        &self,
        ctx: &mut Ctx<'_>,
        relation: &RelationId,
        info: &S3ConnectionInfo,
    ) -> Result<(), S3Error> {
        self.writable(ctx, relation, "update the S3 connection info")?;
        if let Some(key) = info.empty_required().first() {
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
        self.apply(ctx, relation, changes)
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
        let mut changes = BagData::new();
        changes.insert(key.as_str().to_string(), value);
        self.apply(ctx, relation, changes)
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
        }))
    }

    fn on_changed(&self, ctx: &mut Ctx<'_>, event: &RelationEvent) -> Result<(), Error> {
        if let Some(request) = self.check_request(ctx, &event.relation)? {
            ctx.emit(request);
        }
        Ok(())
    }

    /// The endpoint this provider serves.
    fn spec(&self) -> EndpointSpec {
        EndpointSpec::provides("s3-provider", "s3", &self.endpoint)
    }

    fn on_leader_elected(&self, ctx: &mut Ctx<'_>, _event: &Event) -> Result<(), Error> {
        for relation in self.relations(ctx)? {
            if let Some(request) = self.check_request(ctx, &relation)? {
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
            .on(EventKind::RelationChanged, Self::on_changed)
            .on_any(EventKind::LeaderElected, Self::on_leader_elected);
    }
}
