//! The requirer side (the filesystem client): learn what to mount, and when to unmount.

use crate::error::FilesystemInfoError;
use crate::events::{MountFilesystem, UmountFilesystem};
use crate::wire::{
    AuthSecret, CephfsAuth, CephfsInfo, ENDPOINT, EndpointUri, FilesystemInfo, SecretId,
};
use charm::secret::SecretRead;
use charm::{
    Bag, Charm, Ctx, EndpointSpec, Error, EventKind, HookToolError, ModelError, Plugin,
    RelationEvent, RelationId,
};

/// A provider's filesystem with where it came from (the Python library's `Endpoint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The relation.
    pub relation: RelationId,
    /// The filesystem, the cephfs key resolved.
    pub info: FilesystemInfo,
    /// The URI as the provider wrote it (may hold a `plain:` key: never log it).
    pub uri: String,
}

/// The requirer side of `filesystem_info` on one relation name. Add it with [`Charm::plugin`].
///
/// Emits [`MountFilesystem`] on every relation-changed and [`UmountFilesystem`] on
/// relation-broken, on every unit; writes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesystemRequirer {
    relation_name: String,
}

impl FilesystemRequirer {
    /// The requirer of the `requires` endpoint `relation_name` (usually `filesystem`).
    pub fn new(relation_name: impl Into<String>) -> Self {
        FilesystemRequirer {
            relation_name: relation_name.into(),
        }
    }

    /// The relation (endpoint) name.
    pub fn relation_name(&self) -> &str {
        &self.relation_name
    }

    /// The live relations.
    pub fn relations(&self, ctx: &mut Ctx) -> Result<Vec<RelationId>, FilesystemInfoError> {
        Ok(ctx.relations(&self.relation_name)?)
    }

    /// The first live relation (filesystem-client declares `limit: 1`).
    pub fn relation(&self, ctx: &mut Ctx) -> Result<Option<RelationId>, FilesystemInfoError> {
        Ok(self.relations(ctx)?.into_iter().next())
    }

    /// The provider's `endpoint` text, if it published one (may hold a key: never log it).
    pub fn uri(
        &self,
        ctx: &mut Ctx,
        relation: &RelationId,
    ) -> Result<Option<String>, FilesystemInfoError> {
        let bag = ctx.read(relation, &Bag::RemoteApp)?;
        Ok(bag.get(ENDPOINT).cloned())
    }

    /// The provider's endpoint, parsed; no secret is read.
    pub fn endpoint_uri(
        &self,
        ctx: &mut Ctx,
        relation: &RelationId,
    ) -> Result<Option<EndpointUri>, FilesystemInfoError> {
        let Some(text) = self.uri(ctx, relation)? else {
            return Ok(None);
        };
        match EndpointUri::parse(&text) {
            Ok(uri) => Ok(Some(uri)),
            Err(error) => Err(FilesystemInfoError::BadEndpoint {
                relation: relation.clone(),
                app: remote_app(ctx, relation)?,
                error,
            }),
        }
    }

    /// The provider's filesystem, ready to mount: a cephfs key is read from its secret (latest
    /// revision, which this unit then tracks). `None` until the provider published one.
    pub fn info(
        &self,
        ctx: &mut Ctx,
        relation: &RelationId,
    ) -> Result<Option<FilesystemInfo>, FilesystemInfoError> {
        let Some(uri) = self.endpoint_uri(ctx, relation)? else {
            return Ok(None);
        };
        Ok(Some(match uri {
            EndpointUri::Nfs(info) => FilesystemInfo::Nfs(info),
            EndpointUri::Lustre(info) => FilesystemInfo::Lustre(info),
            EndpointUri::Cephfs(ceph) => {
                let key = match ceph.auth {
                    CephfsAuth::Plain(key) => key,
                    CephfsAuth::Secret(secret) => read_key(ctx, relation, &secret)?,
                };
                FilesystemInfo::Cephfs(CephfsInfo {
                    fsid: ceph.fsid,
                    name: ceph.name,
                    path: ceph.path,
                    monitor_hosts: ceph.monitor_hosts,
                    user: ceph.user,
                    key,
                })
            }
        }))
    }

    /// Every relation's filesystem, in relation order (the Python `endpoints`); relations
    /// without an endpoint are left out, and the first bad one is an error.
    pub fn endpoints(&self, ctx: &mut Ctx) -> Result<Vec<Endpoint>, FilesystemInfoError> {
        let mut out = Vec::new();
        for relation in self.relations(ctx)? {
            let (Some(uri), Some(info)) = (self.uri(ctx, &relation)?, self.info(ctx, &relation)?)
            else {
                continue;
            };
            out.push(Endpoint {
                relation,
                info,
                uri,
            });
        }
        Ok(out)
    }

    // ----- handlers -----

    /// The endpoint this requirer serves.
    fn spec(&self) -> EndpointSpec {
        EndpointSpec::requires(
            "filesystem-requirer",
            "filesystem_info",
            &self.relation_name,
        )
    }

    fn on_changed(&self, ctx: &mut Ctx, event: &RelationEvent) -> Result<(), Error> {
        ctx.emit(MountFilesystem {
            relation: event.relation.clone(),
            remote_app: event.remote_app.clone(),
            remote_unit: event.remote_unit.clone(),
        });
        Ok(())
    }

    fn on_broken(&self, ctx: &mut Ctx, event: &RelationEvent) -> Result<(), Error> {
        ctx.emit(UmountFilesystem {
            relation: event.relation.clone(),
            remote_app: event.remote_app.clone(),
        });
        Ok(())
    }
}

fn remote_app(ctx: &mut Ctx, relation: &RelationId) -> Result<String, FilesystemInfoError> {
    Ok(ctx
        .remote_app(relation)?
        .unwrap_or_else(|| "unknown application".to_string()))
}

/// Reads the key from the provider's secret; the URI was validated by the parser.
fn read_key(
    ctx: &mut Ctx,
    relation: &RelationId,
    secret: &SecretId,
) -> Result<crate::wire::Key, FilesystemInfoError> {
    let uri = secret.to_string();
    match ctx.get_secret(Some(secret), None, SecretRead::Refresh) {
        Ok(content) => match AuthSecret::key(&content) {
            Some(key) => Ok(key),
            None => Err(FilesystemInfoError::BadSecret {
                relation: relation.clone(),
                app: remote_app(ctx, relation)?,
                uri,
            }),
        },
        Err(ModelError::HookTool(HookToolError::SecretNotFound { .. })) => {
            Err(FilesystemInfoError::SecretNotFound {
                relation: relation.clone(),
                app: remote_app(ctx, relation)?,
                uri,
            })
        }
        Err(ModelError::HookTool(HookToolError::PermissionDenied { .. })) => {
            Err(FilesystemInfoError::SecretNotGranted {
                relation: relation.clone(),
                app: remote_app(ctx, relation)?,
                uri,
            })
        }
        Err(e) => Err(e.into()),
    }
}

impl Plugin for FilesystemRequirer {
    fn key(&self) -> Option<String> {
        Some(self.spec().key())
    }

    fn build(self, charm: &mut Charm) {
        charm
            .endpoint(self.spec(), &self)
            .on(EventKind::RelationChanged, Self::on_changed)
            .on(EventKind::RelationBroken, Self::on_broken);
    }
}
