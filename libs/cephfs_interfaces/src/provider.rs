//! The provider side (the CephFS server): learn which shares clients request, and serve them.

use crate::diff::Transaction;
use crate::error::CephFsError;
use crate::events::ShareRequested;
use crate::requirer::read_cache;
use crate::secrets::{Pruned, prune_revision};
use crate::wire::{
    self, AUTH, AUTH_REV, AUTH_SECRET_DESCRIPTION, AuthInfo, CACHE, NAME, ProviderAppBag, ShareInfo,
};
use charm::secret::{NewSecret, SecretId, SecretOwner, SecretRead, SecretUpdate};
use charm::{
    Bag, BagData, Charm, Ctx, EndpointSpec, Error, EventKind, HookToolError, ModelError, Plugin,
    RelationEvent, RelationId, SecretEvent,
};
use std::collections::BTreeMap;

/// A client's request for a share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareRequest {
    /// The relation.
    pub relation: RelationId,
    /// The client application.
    pub remote_app: Option<String>,
    /// The requested name.
    pub name: String,
}

/// The provider side of `cephfs_share` on one endpoint. Add it to a charm with [`Charm::plugin`].
///
/// Emits [`ShareRequested`] on the leader when a client's requested `name` appears or changes;
/// answer with [`CephFsProvider::set_share`]. Removes the per-relation auth secret when a
/// relation is removed, and obsolete revisions of its secrets on `secret-remove`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CephFsProvider {
    endpoint: String,
}

impl CephFsProvider {
    /// The provider of the `provides` endpoint `endpoint` (usually `cephfs-share`).
    pub fn new(endpoint: impl Into<String>) -> Self {
        CephFsProvider {
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

    /// The share name the client of `relation` requests, if it requested one.
    pub fn requested_name(
        &self,
        ctx: &mut Ctx,
        relation: &RelationId,
    ) -> Result<Option<String>, CephFsError> {
        let bag = ctx.read(relation, &Bag::RemoteApp)?;
        Ok(bag.get(NAME).cloned())
    }

    /// Every relation whose client requested a share, in relation order.
    pub fn requests(&self, ctx: &mut Ctx) -> Result<Vec<ShareRequest>, CephFsError> {
        let mut out = Vec::new();
        for relation in self.relations(ctx)? {
            if let Some(name) = self.requested_name(ctx, &relation)? {
                let remote_app = ctx.remote_app(&relation)?;
                out.push(ShareRequest {
                    relation,
                    remote_app,
                    name,
                });
            }
        }
        Ok(out)
    }

    /// The clients' application bags of every relation, minus `cache` (the Python `fetch_data`).
    pub fn fetch_data(&self, ctx: &mut Ctx) -> Result<BTreeMap<RelationId, BagData>, CephFsError> {
        let mut out = BTreeMap::new();
        for relation in self.relations(ctx)? {
            let bag = ctx.read(&relation, &Bag::RemoteApp)?;
            out.insert(relation, wire::snapshot(&bag));
        }
        Ok(out)
    }

    /// Serves a share on `relation` (leader only; returns `false`, doing nothing, on a non-leader).
    ///
    /// The auth info goes into this relation's own secret (label `auth_info.<relation id>`),
    /// created and granted to the relation on first use and given a new revision only when the
    /// auth info changed; `share_info`, `auth` and `auth-rev` are written to the app bag, and the
    /// client's request is recorded as seen (so it is not reported again). Calling it again with
    /// the same values changes nothing and costs one `secret-get`.
    pub fn set_share(
        &self,
        ctx: &mut Ctx,
        relation: &RelationId,
        share: &ShareInfo,
        auth: &AuthInfo,
    ) -> Result<bool, CephFsError> {
        if !ctx.is_leader()? {
            tracing::debug!(relation = %relation, "not the leader: not serving the CephFS share");
            return Ok(false);
        }
        let invalid = |reason| CephFsError::InvalidAuth {
            relation: relation.clone(),
            reason,
        };
        if auth.username.is_empty() {
            return Err(invalid("the user name is empty"));
        }
        if auth.key.is_empty() {
            return Err(invalid("the key is empty"));
        }
        let label = wire::auth_secret_label(relation.id);
        let content = auth.to_secret_content();
        let served = ctx.read(relation, &Bag::LocalApp)?;
        let (uri, revision) = match ctx.get_secret(None, Some(&label), SecretRead::Peek) {
            Ok(current) => {
                let same = AuthInfo::from_secret_content(&current).ok().as_ref() == Some(auth);
                let known = match (served.get(AUTH), served.get(AUTH_REV)) {
                    (Some(uri), Some(rev)) => match (SecretId::parse(uri), rev.parse::<u32>()) {
                        (Ok(id), Ok(rev)) => Some((id, rev)),
                        _ => None,
                    },
                    _ => None,
                };
                match (same, known) {
                    (true, Some(known)) => known,
                    (true, None) => {
                        let info = ctx.secret_info(None, Some(&label))?;
                        (info.id, info.revision)
                    }
                    (false, known) => {
                        // The bag names the secret and the revision last served (only the
                        // leader writes it, with each new revision): Juju need not be asked.
                        let (id, revision) = match known {
                            Some(known) => known,
                            None => {
                                let info = ctx.secret_info(None, Some(&label))?;
                                (info.id, info.revision)
                            }
                        };
                        let update = SecretUpdate {
                            content: Some(content),
                            ..SecretUpdate::default()
                        };
                        ctx.set_secret(&id, &update)?;
                        tracing::info!(relation = %relation, "auth info changed: new revision of {label}");
                        (id, revision + 1)
                    }
                }
            }
            Err(ModelError::HookTool(HookToolError::SecretNotFound { .. })) => {
                let uri = ctx.add_secret(&NewSecret {
                    content,
                    label: Some(label.clone()),
                    description: Some(AUTH_SECRET_DESCRIPTION.to_string()),
                    owner: SecretOwner::Application,
                    ..NewSecret::default()
                })?;
                ctx.grant_secret(&uri, relation, None)?;
                tracing::info!(relation = %relation, "created and granted auth secret {label}");
                (uri, 1)
            }
            Err(e) => return Err(e.into()),
        };
        tracing::debug!(relation = %relation, share = %share.to_json(), "serving CephFS share");
        // What is served answers the request as it is now: remember it as seen, so that a later
        // relation-changed (on this or a new leader) does not report it as a new request.
        let request = wire::snapshot(&ctx.read(relation, &Bag::RemoteApp)?);
        let seen = served
            .get(CACHE)
            .map(|text| read_cache(relation, "this application's bag", Some(text)));
        let bag = ProviderAppBag {
            share_info: Some(share.clone()),
            auth: Some(uri.uri()),
            auth_rev: Some(revision),
            cache: (seen.as_ref() != Some(&request)).then_some(request),
        };
        ctx.save(relation, &Bag::LocalApp, &bag)?;
        Ok(true)
    }

    // ----- handlers -----

    /// The endpoint this provider serves.
    fn spec(&self) -> EndpointSpec {
        EndpointSpec::provides("cephfs-provider", "cephfs_share", &self.endpoint)
    }

    fn on_changed(&self, ctx: &mut Ctx, event: &RelationEvent) -> Result<(), Error> {
        if !ctx.is_leader()? {
            return Ok(());
        }
        let relation = &event.relation;
        let remote = ctx.read(relation, &Bag::RemoteApp)?;
        let local = ctx.read(relation, &Bag::LocalApp)?;
        let cached = local.get(CACHE);
        let old = match cached {
            Some(text) => read_cache(relation, "this application's bag", Some(text)),
            None => {
                // A Python provider's leader kept the snapshot in its unit bag: start from it.
                let unit = ctx.read(relation, &Bag::LocalUnit)?;
                read_cache(relation, "this unit's bag", unit.get(CACHE))
            }
        };
        let new = wire::snapshot(&remote);
        let transaction = Transaction::between(&old, &new);
        if old != new || (cached.is_none() && !new.is_empty()) {
            let bag = ProviderAppBag {
                cache: Some(new.clone()),
                ..ProviderAppBag::default()
            };
            ctx.save(relation, &Bag::LocalApp, &bag)?;
        }
        if transaction.changed.contains(NAME)
            && let Some(name) = new.get(NAME)
        {
            tracing::debug!(relation = %relation, name = name.as_str(), "CephFS share requested");
            ctx.emit(ShareRequested {
                relation: relation.clone(),
                remote_app: event.remote_app.clone(),
                name: name.clone(),
            });
        }
        Ok(())
    }

    fn on_broken(&self, ctx: &mut Ctx, event: &RelationEvent) -> Result<(), Error> {
        if !ctx.is_leader()? {
            return Ok(());
        }
        let label = wire::auth_secret_label(event.relation.id);
        match ctx.secret_info(None, Some(&label)) {
            Ok(info) => {
                ctx.remove_secret(&info.id, None)?;
                tracing::info!(relation = %event.relation, "removed auth secret {label}");
            }
            Err(ModelError::HookTool(HookToolError::SecretNotFound { .. })) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    fn on_secret_remove(&self, ctx: &mut Ctx, event: &SecretEvent) -> Result<(), Error> {
        let outcome = prune_revision(ctx, event, wire::is_auth_secret_label)?;
        if outcome != Pruned::NotOurs {
            tracing::debug!(secret = %event.id, "secret-remove: {outcome:?}");
        }
        Ok(())
    }
}

impl Plugin for CephFsProvider {
    fn key(&self) -> Option<String> {
        Some(self.spec().key())
    }

    fn build(self, charm: &mut Charm) {
        charm
            .endpoint(self.spec(), &self)
            .on(EventKind::RelationChanged, Self::on_changed)
            .on(EventKind::RelationBroken, Self::on_broken)
            .on_any(EventKind::SecretRemove, Self::on_secret_remove);
    }
}
