//! The library's events: what the requirer and the provider emit for charms to handle.

use charm::{CustomEvent, RelationId};
use serde::{Deserialize, Serialize};

/// Requirer: a CephFS server joined the relation (emitted on the leader, once per joining unit).
///
/// This is where a client requests its share with [`CephFsRequirer::request_share`](crate::CephFsRequirer::request_share).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerConnected {
    /// The relation.
    pub relation: RelationId,
    /// The server application.
    pub remote_app: Option<String>,
    /// The server unit that joined.
    pub remote_unit: Option<String>,
}

impl CustomEvent for ServerConnected {
    const NAME: &'static str = "cephfs_share.server_connected";
    const ALIASES: &'static [&'static str] = &["cephfs-server-connected"];

    fn live_relation(&self) -> Option<&RelationId> {
        Some(&self.relation)
    }
}

/// Requirer: the share can be (re)mounted: its share info, auth or auth revision changed.
///
/// Emitted on every unit, only when both `share_info` and `auth` are present. Read the share with
/// [`CephFsRequirer::mount_info`](crate::CephFsRequirer::mount_info). It may repeat for the same
/// data (e.g. a rotated secret also reported by `secret-changed`), so mounting must be idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountShare {
    /// The relation.
    pub relation: RelationId,
    /// The server application.
    pub remote_app: Option<String>,
    /// The wire keys whose change caused it (`share_info`, `auth`, `auth-rev`); empty when the
    /// content of the auth secret changed (`secret-changed`).
    pub changed: Vec<String>,
}

impl CustomEvent for MountShare {
    const NAME: &'static str = "cephfs_share.mount_share";
    const ALIASES: &'static [&'static str] = &["cephfs-mount-share"];

    fn live_relation(&self) -> Option<&RelationId> {
        Some(&self.relation)
    }
}

/// Requirer: the relation is going away; unmount the share (emitted on every unit, on relation-broken).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UmountShare {
    /// The relation being removed.
    pub relation: RelationId,
    /// The server application, when Juju says.
    pub remote_app: Option<String>,
}

impl CustomEvent for UmountShare {
    const NAME: &'static str = "cephfs_share.umount_share";
    const ALIASES: &'static [&'static str] = &["cephfs-umount-share"];
}

/// Provider: a client requested a share, or changed the name it requests (leader only).
///
/// Answer with [`CephFsProvider::set_share`](crate::CephFsProvider::set_share).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareRequested {
    /// The relation.
    pub relation: RelationId,
    /// The client application.
    pub remote_app: Option<String>,
    /// The requested share name (the client's mountpoint for cephfs-client).
    pub name: String,
}

impl CustomEvent for ShareRequested {
    const NAME: &'static str = "cephfs_share.share_requested";
    const ALIASES: &'static [&'static str] = &["cephfs-share-requested"];

    fn live_relation(&self) -> Option<&RelationId> {
        Some(&self.relation)
    }
}
