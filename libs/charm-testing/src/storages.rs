//! Storage in a test: the instances attached to the unit, what `storage-get`, `storage-list`
//! and `storage-add` answer, and the storage events.

use crate::state::State;
use charm::backend::HookToolError;
use charm::meta::Metadata;
use charm::storage::{StorageId, StorageInfo, StorageKind};
use charm::{Event, StorageEvent};
use std::path::PathBuf;

/// A storage instance attached to the unit under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageInstance {
    /// `<name>/<index>`.
    pub id: StorageId,
    /// Where it is mounted (a filesystem) or its device (a block device).
    pub location: PathBuf,
}

impl StorageInstance {
    /// Instance `index` of storage `name`, at `/var/lib/juju/storage/<name>/<index>` (change it
    /// with [`StorageInstance::at`], e.g. to a temporary directory the charm may write to).
    ///
    /// # Panics
    /// If `name` is not a storage name Juju accepts: a bug in the test.
    pub fn new(name: &str, index: u32) -> StorageInstance {
        let Some(id) = StorageId::new(name, index) else {
            #[allow(clippy::panic)]
            {
                panic!("{name:?} is not a storage name")
            }
        };
        StorageInstance {
            location: PathBuf::from(format!("/var/lib/juju/storage/{name}/{index}")),
            id,
        }
    }

    /// Puts the instance at `location`.
    pub fn at(mut self, location: impl Into<PathBuf>) -> StorageInstance {
        self.location = location.into();
        self
    }

    fn event(&self) -> StorageEvent {
        StorageEvent {
            name: self.id.name.clone(),
            index: self.id.index,
            location: Some(self.location.display().to_string()),
        }
    }

    /// `<name>-storage-attached` for this instance.
    pub fn attached(&self) -> Event {
        Event::StorageAttached(self.event())
    }

    /// `<name>-storage-detaching` for this instance.
    pub fn detaching(&self) -> Event {
        Event::StorageDetaching(self.event())
    }
}

impl State {
    /// Attaches a storage instance to the unit.
    pub fn storage(mut self, instance: StorageInstance) -> Self {
        self.storages.push(instance);
        self
    }
}

fn failed(tool: &str, stderr: String) -> HookToolError {
    HookToolError::classify(tool, 1, &stderr, false)
}

fn kind(tool: &str, meta: &Metadata, name: &str) -> Result<StorageKind, HookToolError> {
    let declared = meta.storage().map_err(|e| HookToolError::BadOutput {
        tool: tool.to_string(),
        detail: format!("the test's metadata.yaml: {e}"),
    })?;
    declared
        .get(name)
        .map(|s| s.kind)
        .ok_or_else(|| failed(tool, format!("ERROR storage {name:?} not found")))
}

/// `storage-get -s <id>`.
pub(crate) fn get(
    state: &State,
    meta: &Metadata,
    id: &StorageId,
) -> Result<StorageInfo, HookToolError> {
    let tool = "storage-get";
    let kind = kind(tool, meta, &id.name)?;
    let instance = state
        .storages
        .iter()
        .find(|s| &s.id == id)
        .ok_or_else(|| failed(tool, format!("ERROR storage instance \"{id}\" not found")))?;
    Ok(StorageInfo {
        id: id.clone(),
        kind,
        location: instance.location.clone(),
    })
}

/// `storage-list <name>`.
pub(crate) fn list(
    state: &State,
    meta: &Metadata,
    name: &str,
) -> Result<Vec<StorageId>, HookToolError> {
    kind("storage-list", meta, name)?;
    let mut ids: Vec<StorageId> = state
        .storages
        .iter()
        .filter(|s| s.id.name == name)
        .map(|s| s.id.clone())
        .collect();
    ids.sort();
    Ok(ids)
}

/// `storage-add <name>=<count>`: recorded in [`State::storage_requests`], kept when the hook
/// succeeds; Juju then attaches the instances.
pub(crate) fn add(
    state: &mut State,
    meta: &Metadata,
    name: &str,
    count: u32,
) -> Result<(), HookToolError> {
    kind("storage-add", meta, name)?;
    *state.storage_requests.entry(name.to_string()).or_insert(0) += count;
    Ok(())
}
