//! The requirer's events (the provider emits none, as in the Python library).

use charm::{CustomEvent, RelationId};
use serde::{Deserialize, Serialize};

/// The filesystem can be (re)mounted: emitted on every unit for every relation-changed.
///
/// As in the Python library it fires whether or not the `endpoint` is there or changed, so
/// mounting must be idempotent. Read the filesystem with
/// [`FilesystemRequirer::info`](crate::FilesystemRequirer::info) (`None` until the provider
/// published one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountFilesystem {
    /// The relation.
    pub relation: RelationId,
    /// The provider application.
    pub remote_app: Option<String>,
    /// The provider unit whose change this is (`None` for a change of the application bag).
    pub remote_unit: Option<String>,
}

impl CustomEvent for MountFilesystem {
    const NAME: &'static str = "filesystem_info.mount_filesystem";
    const ALIASES: &'static [&'static str] = &["filesystem-info-mount-filesystem"];

    fn live_relation(&self) -> Option<&RelationId> {
        Some(&self.relation)
    }
}

/// The relation is going away: unmount what came from it (every unit, relation-broken).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UmountFilesystem {
    /// The relation being removed.
    pub relation: RelationId,
    /// The provider application, when Juju says.
    pub remote_app: Option<String>,
}

impl CustomEvent for UmountFilesystem {
    const NAME: &'static str = "filesystem_info.umount_filesystem";
    const ALIASES: &'static [&'static str] = &["filesystem-info-umount-filesystem"];
}
