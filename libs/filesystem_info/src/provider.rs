//! The provider side (the filesystem server): publish one endpoint URI to every client.

use crate::error::FilesystemInfoError;
use crate::wire::{
    AUTH_SECRET_DESCRIPTION, AUTH_SECRET_LABEL, AuthSecret, CephfsAuth, ENDPOINT, EndpointUri,
    FilesystemInfo, Key, SecretId,
};
use charm::secret::{NewSecret, SecretOwner, SecretRead, SecretUpdate};
use charm::{
    Bag, Charm, Ctx, EndpointSpec, Error, EventKind, HookToolError, ModelError, Plugin,
    RelationEvent, RelationId, SecretEvent,
};

/// Stored-state key of the auth secret revisions already removed (Juju may repeat the event).
const REMOVED_KEY: &str = "filesystem_info.removed-revisions";
/// How many removed revisions are remembered.
const REMEMBERED: usize = 32;

/// The provider side of `filesystem_info`. Add it to a charm with [`Charm::plugin`].
///
/// [`set_info`](FilesystemProvider::set_info) publishes the filesystem to every relation and
/// keeps the URI in the peer relation; a relation that joins later gets that copy. Obsolete
/// revisions of the auth secret are removed on `secret-remove`. Emits no events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesystemProvider {
    relation_name: String,
    peer_relation_name: String,
}

impl FilesystemProvider {
    /// The provider of `relation_name` (usually `filesystem`), keeping its state in the peer
    /// relation `peer_relation_name` (usually `server-peers`).
    pub fn new(relation_name: impl Into<String>, peer_relation_name: impl Into<String>) -> Self {
        FilesystemProvider {
            relation_name: relation_name.into(),
            peer_relation_name: peer_relation_name.into(),
        }
    }

    /// The relation (endpoint) name.
    pub fn relation_name(&self) -> &str {
        &self.relation_name
    }

    /// The live relations to clients.
    pub fn relations(&self, ctx: &mut Ctx) -> Result<Vec<RelationId>, FilesystemInfoError> {
        Ok(ctx.relations(&self.relation_name)?)
    }

    fn peer(&self, ctx: &mut Ctx) -> Result<Option<RelationId>, FilesystemInfoError> {
        Ok(ctx.relations(&self.peer_relation_name)?.into_iter().next())
    }

    /// The URI last published (the copy in the peer relation), if any. Readable on every unit.
    pub fn published(&self, ctx: &mut Ctx) -> Result<Option<String>, FilesystemInfoError> {
        let Some(peer) = self.peer(ctx)? else {
            return Ok(None);
        };
        Ok(ctx.read(&peer, &Bag::LocalApp)?.get(ENDPOINT).cloned())
    }

    /// Publishes `info` (leader only; returns `false`, doing nothing, on a follower).
    ///
    /// For cephfs the key goes into the application secret labelled `auth` (created on first
    /// use, given a new revision only when the key changed) and the URI names the secret and
    /// its revision. The URI is stored in the peer relation and written to every relation;
    /// a relation whose bag already holds it costs one read and nothing else. Data the
    /// clients could not read back is refused ([`FilesystemInfoError::InvalidInfo`]) before
    /// anything is touched.
    pub fn set_info(
        &self,
        ctx: &mut Ctx,
        info: &FilesystemInfo,
    ) -> Result<bool, FilesystemInfoError> {
        if !ctx.is_leader()? {
            tracing::debug!("not the leader: not publishing the filesystem");
            return Ok(false);
        }
        info.check().map_err(FilesystemInfoError::InvalidInfo)?;
        let published = self.published(ctx)?;
        let uri = match info {
            FilesystemInfo::Cephfs(ceph) => {
                let (secret, rev) = self.auth_secret(ctx, &ceph.key, published.as_deref())?;
                info.endpoint_uri(CephfsAuth::Secret(secret), Some(rev))
            }
            _ => info.endpoint_uri(CephfsAuth::Plain(Key::new("")), None),
        };
        let text = uri.to_uri();
        match self.peer(ctx)? {
            Some(peer) => ctx.set(&peer, &Bag::LocalApp, ENDPOINT, &text)?,
            // Juju creates peer relations before config-changed: only a test gets here.
            None => tracing::warn!(
                "peer relation {} not there yet: the endpoint is not stored",
                self.peer_relation_name
            ),
        }
        for relation in self.relations(ctx)? {
            self.send(ctx, &relation, &uri, &text)?;
        }
        tracing::info!("published the {} filesystem", uri.scheme());
        Ok(true)
    }

    /// Grants the secret (cephfs) and writes the endpoint, unless the bag already has it.
    fn send(
        &self,
        ctx: &mut Ctx,
        relation: &RelationId,
        uri: &EndpointUri,
        text: &str,
    ) -> Result<(), FilesystemInfoError> {
        let current = ctx.read(relation, &Bag::LocalApp)?;
        if current.get(ENDPOINT).map(String::as_str) == Some(text) {
            return Ok(());
        }
        if let EndpointUri::Cephfs(ceph) = uri
            && let CephfsAuth::Secret(secret) = &ceph.auth
        {
            ctx.grant_secret(secret, relation, None)?;
        }
        ctx.set(relation, &Bag::LocalApp, ENDPOINT, text)?;
        Ok(())
    }

    /// The auth secret holding `key`, and its revision: reused when unchanged, updated or
    /// created otherwise.
    fn auth_secret(
        &self,
        ctx: &mut Ctx,
        key: &Key,
        published: Option<&str>,
    ) -> Result<(SecretId, u32), FilesystemInfoError> {
        let content = AuthSecret::content(key);
        match ctx.get_secret(None, Some(AUTH_SECRET_LABEL), SecretRead::Peek) {
            Ok(current) => {
                let same = AuthSecret::key(&current).as_ref() == Some(key);
                // The peer copy names the secret and revision already: no need to ask Juju.
                let known = published
                    .and_then(|text| EndpointUri::parse(text).ok())
                    .and_then(|uri| match uri {
                        EndpointUri::Cephfs(c) => match (c.auth, c.auth_rev) {
                            (CephfsAuth::Secret(s), Some(rev)) => Some((s, rev)),
                            _ => None,
                        },
                        _ => None,
                    });
                match (same, known) {
                    (true, Some(known)) => Ok(known),
                    (true, None) => {
                        let info = ctx.secret_info(None, Some(AUTH_SECRET_LABEL))?;
                        Ok((info.id, info.revision))
                    }
                    (false, _) => {
                        let info = ctx.secret_info(None, Some(AUTH_SECRET_LABEL))?;
                        let update = SecretUpdate {
                            content: Some(content),
                            ..SecretUpdate::default()
                        };
                        ctx.set_secret(&info.id, &update)?;
                        tracing::info!("the cephx key changed: new revision of the auth secret");
                        // secret-info-get may not see the pending revision within this hook.
                        Ok((info.id, info.revision + 1))
                    }
                }
            }
            Err(ModelError::HookTool(HookToolError::SecretNotFound { .. })) => {
                let id = ctx.add_secret(&NewSecret {
                    content,
                    label: Some(AUTH_SECRET_LABEL.to_string()),
                    description: Some(AUTH_SECRET_DESCRIPTION.to_string()),
                    owner: SecretOwner::Application,
                    ..NewSecret::default()
                })?;
                tracing::info!("created the auth secret");
                Ok((id, 1))
            }
            Err(e) => Err(e.into()),
        }
    }

    // ----- handlers -----

    /// relation-joined (leader): send the stored endpoint, without re-reading the secret.
    /// The endpoint this provider serves.
    fn spec(&self) -> EndpointSpec {
        EndpointSpec::provides(
            "filesystem-provider",
            "filesystem_info",
            &self.relation_name,
        )
    }

    fn on_joined(&self, ctx: &mut Ctx, event: &RelationEvent) -> Result<(), Error> {
        if !ctx.is_leader()? {
            return Ok(());
        }
        let Some(text) = self.published(ctx)? else {
            tracing::debug!(relation = %event.relation, "nothing published yet");
            return Ok(());
        };
        let uri = EndpointUri::parse(&text).map_err(FilesystemInfoError::BadStoredEndpoint)?;
        self.send(ctx, &event.relation, &uri, &text)?;
        Ok(())
    }

    /// secret-remove of the auth secret: drop the revision nobody tracks any more.
    fn on_secret_remove(&self, ctx: &mut Ctx, event: &SecretEvent) -> Result<(), Error> {
        if event
            .label
            .as_deref()
            .is_some_and(|l| l != AUTH_SECRET_LABEL)
        {
            return Ok(());
        }
        let Some(revision) = event.revision else {
            return Ok(());
        };
        if !ctx.is_leader()? {
            return Ok(());
        }
        let info = match ctx.secret_info(Some(&event.id), None) {
            Ok(info) => info,
            // Juju sends it for secrets already gone (juju#19036, juju#20794).
            Err(e) if e.is_secret_not_found() => return Ok(()),
            Err(ModelError::HookTool(HookToolError::PermissionDenied { .. })) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if info.label.as_deref() != Some(AUTH_SECRET_LABEL) || revision >= info.revision {
            return Ok(());
        }
        let record = format!("{}/{revision}", event.id.unique());
        let mut removed: Vec<String> = ctx.stored(REMOVED_KEY)?.unwrap_or_default();
        if removed.contains(&record) {
            return Ok(());
        }
        ctx.remove_secret(&info.id, Some(revision))?;
        removed.push(record);
        let excess = removed.len().saturating_sub(REMEMBERED);
        removed.drain(..excess);
        ctx.store(REMOVED_KEY, &removed)?;
        tracing::info!(revision, "removed an obsolete revision of the auth secret");
        Ok(())
    }
}

impl Plugin for FilesystemProvider {
    fn key(&self) -> Option<String> {
        Some(self.spec().key())
    }

    fn build(self, charm: &mut Charm) {
        charm
            .endpoint(self.spec(), &self)
            .on(EventKind::RelationJoined, Self::on_joined)
            .on_any(EventKind::SecretRemove, Self::on_secret_remove);
    }
}
