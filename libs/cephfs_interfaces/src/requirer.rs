//! The requirer side (the CephFS client): request a share, learn when to mount and unmount it.

use crate::diff::Transaction;
use crate::error::CephFsError;
use crate::events::{MountShare, ServerConnected, UmountShare};
use crate::wire::{
    self, AUTH, AUTH_REV, AuthInfo, AuthRef, CACHE, RequirerAppBag, SHARE_INFO, ShareInfo, Snapshot,
};
use charm::secret::SecretRead;
use charm::{
    Bag, BagData, Charm, Ctx, EndpointSpec, Error, EventKind, HookToolError, ModelError, Plugin,
    RelationEvent, RelationId, SecretEvent,
};
use std::collections::BTreeMap;

/// The keys whose change means the share must be (re)mounted.
const MOUNT_KEYS: [&str; 3] = [SHARE_INFO, AUTH, AUTH_REV];

/// Everything a client needs to mount a share: where it is, and the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    /// The share.
    pub share: ShareInfo,
    /// The cephx user and key (redacted in `Debug`).
    pub auth: AuthInfo,
}

/// The requirer side of `cephfs_share` on one endpoint. Add it to a charm with [`Charm::plugin`].
///
/// Events: [`ServerConnected`] (leader, relation-joined), [`MountShare`] (every unit, when the
/// share info, auth or auth revision changed, or the auth secret's content changed) and
/// [`UmountShare`] (every unit, relation-broken).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CephFsRequirer {
    endpoint: String,
}

impl CephFsRequirer {
    /// The requirer of the `requires` endpoint `endpoint` (usually `cephfs-share`).
    pub fn new(endpoint: impl Into<String>) -> Self {
        CephFsRequirer {
            endpoint: endpoint.into(),
        }
    }

    /// The endpoint name.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The live relations of the endpoint.
    pub fn relations(&self, ctx: &mut Ctx) -> Result<Vec<RelationId>, CephFsError> {
        Ok(ctx.relations(&self.endpoint)?)
    }

    /// The relation to the server (the endpoint has `limit: 1`), if there is one.
    pub fn relation(&self, ctx: &mut Ctx) -> Result<Option<RelationId>, CephFsError> {
        Ok(self.relations(ctx)?.into_iter().next())
    }

    /// Requests the share `name` (leader only). Returns `false`, writing nothing, on a non-leader.
    pub fn request_share(
        &self,
        ctx: &mut Ctx,
        relation: &RelationId,
        name: &str,
    ) -> Result<bool, CephFsError> {
        if !ctx.is_leader()? {
            tracing::debug!(relation = %relation, "not the leader: not requesting a CephFS share");
            return Ok(false);
        }
        tracing::debug!(relation = %relation, name, "requesting a CephFS share");
        let bag = RequirerAppBag {
            name: Some(name.to_string()),
        };
        ctx.save(relation, &Bag::LocalApp, &bag)?;
        Ok(true)
    }

    fn remote_app(&self, ctx: &mut Ctx, relation: &RelationId) -> Result<String, CephFsError> {
        Ok(ctx
            .remote_app(relation)?
            .unwrap_or_else(|| "unknown application".to_string()))
    }

    fn bad(
        &self,
        ctx: &mut Ctx,
        relation: &RelationId,
        error: wire::WireError,
    ) -> Result<CephFsError, CephFsError> {
        Ok(CephFsError::BadRemoteData {
            relation: relation.clone(),
            app: self.remote_app(ctx, relation)?,
            error,
        })
    }

    /// The share info the server sent, if any; malformed JSON or fields are an error.
    pub fn share_info(
        &self,
        ctx: &mut Ctx,
        relation: &RelationId,
    ) -> Result<Option<ShareInfo>, CephFsError> {
        let bag = ctx.read(relation, &Bag::RemoteApp)?;
        match bag.get(SHARE_INFO) {
            None => Ok(None),
            Some(text) => match ShareInfo::from_json(text) {
                Ok(info) => Ok(Some(info)),
                Err(e) => Err(self.bad(ctx, relation, e)?),
            },
        }
    }

    /// Where the server put the auth info (without reading the secret), if it sent any.
    pub fn auth(
        &self,
        ctx: &mut Ctx,
        relation: &RelationId,
    ) -> Result<Option<AuthRef>, CephFsError> {
        let bag = ctx.read(relation, &Bag::RemoteApp)?;
        match bag.get(AUTH) {
            None => Ok(None),
            Some(value) => match AuthRef::parse(value) {
                Ok(auth) => Ok(Some(auth)),
                Err(e) => Err(self.bad(ctx, relation, e)?),
            },
        }
    }

    /// The auth info the server sent, reading the secret (latest revision) when it is one.
    pub fn auth_info(
        &self,
        ctx: &mut Ctx,
        relation: &RelationId,
    ) -> Result<Option<AuthInfo>, CephFsError> {
        match self.auth(ctx, relation)? {
            None => Ok(None),
            Some(auth) => self.resolve(ctx, relation, auth).map(Some),
        }
    }

    /// Share and auth info together, once the server sent both.
    pub fn mount_info(
        &self,
        ctx: &mut Ctx,
        relation: &RelationId,
    ) -> Result<Option<MountInfo>, CephFsError> {
        let Some(share) = self.share_info(ctx, relation)? else {
            return Ok(None);
        };
        let Some(auth) = self.auth_info(ctx, relation)? else {
            return Ok(None);
        };
        Ok(Some(MountInfo { share, auth }))
    }

    /// The server's application bag of every relation, minus `cache` (the Python `fetch_data`).
    pub fn fetch_data(&self, ctx: &mut Ctx) -> Result<BTreeMap<RelationId, BagData>, CephFsError> {
        let mut out = BTreeMap::new();
        for relation in self.relations(ctx)? {
            let bag = ctx.read(&relation, &Bag::RemoteApp)?;
            out.insert(relation, wire::snapshot(&bag));
        }
        Ok(out)
    }

    fn resolve(
        &self,
        ctx: &mut Ctx,
        relation: &RelationId,
        auth: AuthRef,
    ) -> Result<AuthInfo, CephFsError> {
        let uri = match auth {
            AuthRef::Plain(info) => return Ok(info),
            AuthRef::Secret(uri) => uri,
        };
        match ctx.get_secret(Some(&uri), None, SecretRead::Refresh) {
            Ok(content) => {
                AuthInfo::from_secret_content(&content).map_err(|error| CephFsError::BadSecret {
                    relation: relation.clone(),
                    app: self.remote_app(ctx, relation).unwrap_or_default(),
                    uri,
                    error,
                })
            }
            Err(ModelError::HookTool(HookToolError::SecretNotFound { .. })) => {
                Err(CephFsError::SecretNotFound {
                    relation: relation.clone(),
                    app: self.remote_app(ctx, relation)?,
                    uri,
                })
            }
            Err(ModelError::HookTool(HookToolError::PermissionDenied { .. })) => {
                Err(CephFsError::SecretNotGranted {
                    relation: relation.clone(),
                    app: self.remote_app(ctx, relation)?,
                    uri,
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    // ----- handlers -----

    /// The endpoint this requirer serves.
    fn spec(&self) -> EndpointSpec {
        EndpointSpec::requires("cephfs-requirer", "cephfs_share", &self.endpoint)
    }

    fn on_joined(&self, ctx: &mut Ctx, event: &RelationEvent) -> Result<(), Error> {
        if ctx.is_leader()? {
            ctx.emit(ServerConnected {
                relation: event.relation.clone(),
                remote_app: event.remote_app.clone(),
                remote_unit: event.remote_unit.clone(),
            });
        }
        Ok(())
    }

    fn on_changed(&self, ctx: &mut Ctx, event: &RelationEvent) -> Result<(), Error> {
        let relation = &event.relation;
        let remote = ctx.read(relation, &Bag::RemoteApp)?;
        let local = ctx.read(relation, &Bag::LocalUnit)?;
        let cached = local.get(CACHE);
        let old = read_cache(relation, "this unit's bag", cached);
        let new = wire::snapshot(&remote);
        let transaction = Transaction::between(&old, &new);
        if old != new || (cached.is_none() && !new.is_empty()) {
            ctx.set(relation, &Bag::LocalUnit, CACHE, &wire::encode_cache(&new))?;
        }
        if !transaction.changed_any(&MOUNT_KEYS) {
            return Ok(());
        }
        if !(new.contains_key(SHARE_INFO) && new.contains_key(AUTH)) {
            tracing::debug!(relation = %relation, "share info or auth not sent yet: nothing to mount");
            return Ok(());
        }
        ctx.emit(MountShare {
            relation: relation.clone(),
            remote_app: event.remote_app.clone(),
            changed: MOUNT_KEYS
                .iter()
                .filter(|k| transaction.changed.contains(**k))
                .map(|k| k.to_string())
                .collect(),
        });
        Ok(())
    }

    fn on_broken(&self, ctx: &mut Ctx, event: &RelationEvent) -> Result<(), Error> {
        ctx.emit(UmountShare {
            relation: event.relation.clone(),
            remote_app: event.remote_app.clone(),
        });
        Ok(())
    }

    fn on_secret_changed(&self, ctx: &mut Ctx, event: &SecretEvent) -> Result<(), Error> {
        for relation in self.relations(ctx)? {
            let remote = ctx.read(&relation, &Bag::RemoteApp)?;
            let ours = match remote.get(AUTH).map(|a| AuthRef::parse(a)) {
                Some(Ok(AuthRef::Secret(id))) => id.same_secret(&event.id),
                _ => false,
            };
            if ours && remote.contains_key(SHARE_INFO) {
                let remote_app = ctx.remote_app(&relation)?;
                ctx.emit(MountShare {
                    relation,
                    remote_app,
                    changed: Vec::new(),
                });
            }
        }
        Ok(())
    }
}

/// Reads a `cache` value; garbage counts as an empty snapshot (logged, never fatal).
pub(crate) fn read_cache(relation: &RelationId, place: &str, text: Option<&String>) -> Snapshot {
    match text {
        None => Snapshot::new(),
        Some(text) => wire::parse_cache(text).unwrap_or_else(|e| {
            tracing::warn!(
                relation = %relation,
                "ignoring the change-detection cache in {place}: {e}; treating it as empty"
            );
            Snapshot::new()
        }),
    }
}

impl Plugin for CephFsRequirer {
    fn key(&self) -> Option<String> {
        Some(self.spec().key())
    }

    fn build(self, charm: &mut Charm) {
        charm
            .endpoint(self.spec(), &self)
            .on(EventKind::RelationJoined, Self::on_joined)
            .on(EventKind::RelationChanged, Self::on_changed)
            .on(EventKind::RelationBroken, Self::on_broken)
            .on_any(EventKind::SecretChanged, Self::on_secret_changed);
    }
}
