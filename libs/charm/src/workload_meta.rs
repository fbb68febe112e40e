//! The Kubernetes parts of `metadata.yaml`: workload `containers` and the `resources` they run.
//!
//! ```yaml
//! containers:
//!   web:                      # the container name: hook prefix and socket directory
//!     resource: web-image     # an oci-image resource
//!     mounts:
//!       - storage: data       # a storage name (the `storage` section)
//!         location: /srv/data
//! resources:
//!   web-image: {type: oci-image, upstream-source: "ghcr.io/example/web:1.0"}
//!   config-bundle: {type: file, filename: bundle.tar.gz}
//! ```
//!
//! [`check`] applies the rules Juju applies at deploy (`internal/charm/meta.go`): a container's
//! resource is an `oci-image` resource of this charm, a mount has both keys, a file resource has
//! a filename, UIDs and GIDs 1000–9999 are reserved. Juju refuses such a charm, so a charm that
//! embeds such metadata is broken: [`Metadata::from_json`](crate::Metadata::from_json) reports
//! it like unreadable metadata.

use serde::{Deserialize, Serialize};

use crate::meta::Metadata;

/// One entry of `containers`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerMeta {
    /// The `oci-image` resource the container runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Storage mounted into the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<Mount>,
    /// The UID the workload runs as (Juju ≥ 3.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// The GID the workload runs as (Juju ≥ 3.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
}

/// A storage mount of a container: which storage, where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// The storage name (a key of the metadata's `storage` section).
    pub storage: String,
    /// Where it is mounted in the container (absolute).
    pub location: String,
}

/// The kind of a resource.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    /// A file the charm reads with `resource-get` (Juju's default type).
    #[default]
    File,
    /// A container image.
    OciImage,
}

/// One entry of `resources`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceMeta {
    /// `file` (the default) or `oci-image`.
    #[serde(rename = "type", default)]
    pub kind: ResourceKind,
    /// The file name `resource-get` gives the fetched file (required for file resources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where the image comes from (oci-image, informative).
    #[serde(
        rename = "upstream-source",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub upstream_source: Option<String>,
}

/// Metadata Juju would refuse to deploy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadMetaError {
    /// A container name that is not an RFC 1123 label (it names hooks and a socket directory).
    #[error(
        "container {0:?}: not a valid container name (lowercase letters, digits and '-', at most 63)"
    )]
    InvalidContainerName(String),
    /// A container's resource is not declared.
    #[error("container {container:?}: resource {resource:?} is not declared in resources")]
    UnknownResource {
        /// The container.
        container: String,
        /// The resource it names.
        resource: String,
    },
    /// A container's resource is a file, not an image.
    #[error("container {container:?}: resource {resource:?} is not of type oci-image")]
    NotAnImage {
        /// The container.
        container: String,
        /// The resource it names.
        resource: String,
    },
    /// A mount without storage or with a location that is not absolute.
    #[error("container {container:?}: mount {index}: {problem}")]
    BadMount {
        /// The container.
        container: String,
        /// The mount's position in `mounts`.
        index: usize,
        /// What is wrong.
        problem: String,
    },
    /// A UID or GID in the range Juju reserves.
    #[error("container {container:?}: {field} {value} is reserved (1000-9999)")]
    ReservedId {
        /// The container.
        container: String,
        /// `uid` or `gid`.
        field: &'static str,
        /// The value.
        value: u32,
    },
    /// A file resource without a filename.
    #[error("resource {0:?}: a file resource needs a filename")]
    MissingFilename(String),
}

/// Whether `name` can name a container: an RFC 1123 label, as Kubernetes requires.
pub fn is_container_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// Checks `containers` and `resources` as Juju does at deploy (see the [module docs](self)).
/// The storage a mount names is not looked up here: the `storage` section is read elsewhere.
pub fn check(meta: &Metadata) -> Result<(), WorkloadMetaError> {
    for (name, resource) in &meta.resources {
        if resource.kind == ResourceKind::File
            && resource.filename.as_deref().unwrap_or("").is_empty()
        {
            return Err(WorkloadMetaError::MissingFilename(name.clone()));
        }
    }
    for (name, container) in &meta.containers {
        if !is_container_name(name) {
            return Err(WorkloadMetaError::InvalidContainerName(name.clone()));
        }
        if let Some(resource) = &container.resource {
            match meta.resources.get(resource) {
                None => {
                    return Err(WorkloadMetaError::UnknownResource {
                        container: name.clone(),
                        resource: resource.clone(),
                    });
                }
                Some(r) if r.kind != ResourceKind::OciImage => {
                    return Err(WorkloadMetaError::NotAnImage {
                        container: name.clone(),
                        resource: resource.clone(),
                    });
                }
                Some(_) => {}
            }
        }
        for (index, mount) in container.mounts.iter().enumerate() {
            let problem = if mount.storage.is_empty() {
                Some("storage is empty".to_string())
            } else if !mount.location.starts_with('/') {
                Some(format!("location {:?} is not absolute", mount.location))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(WorkloadMetaError::BadMount {
                    container: name.clone(),
                    index,
                    problem,
                });
            }
        }
        for (field, value) in [("uid", container.uid), ("gid", container.gid)] {
            if let Some(value) = value.filter(|v| (1000..=9999).contains(v)) {
                return Err(WorkloadMetaError::ReservedId {
                    container: name.clone(),
                    field,
                    value,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "workload_meta_test.rs"]
mod tests;
