//! The rest of the Juju model on [`Ctx`]: storage, resources, cloud credentials, reboot, goal
//! state and statuses. Each call checks what it can against the metadata first, then runs one
//! hook tool. Storage answers are kept for the dispatch, as relation data is: a hook sees one
//! model (instances Juju adds after `storage-add` come with their own storage-attached hooks).

use crate::app_status::AppStatusReport;
use crate::cloud::CloudSpec;
use crate::model::{Ctx, ModelError};
use crate::storage::{StorageId, StorageInfo, StorageMeta};
use std::path::PathBuf;

impl Ctx<'_> {
    /// The declared storage `name`, when the charm embeds metadata (`Ok(None)` when it does not).
    fn storage_meta(&self, name: &str) -> Result<Option<StorageMeta>, ModelError> {
        let Some(meta) = self.metadata() else {
            return Ok(None);
        };
        let bad = |why: String| ModelError::Storage {
            name: name.to_string(),
            why,
        };
        let mut all = meta
            .storage()
            .map_err(|e| bad(format!("metadata.yaml: {e}")))?;
        all.remove(name)
            .map(Some)
            .ok_or_else(|| bad("not declared in metadata.yaml".into()))
    }

    /// An attached storage instance: its kind and location (`storage-get`).
    pub fn storage(&mut self, id: &StorageId) -> Result<StorageInfo, ModelError> {
        self.storage_meta(&id.name)?;
        if let Some(info) = self.cache.storage_infos.get(id) {
            return Ok(info.clone());
        }
        let key = id.to_string();
        if let Some(info) = self.state.storage.get(&key) {
            return Ok(info.clone());
        }
        let info = self.tools().storage_get(id)?;
        // Kept for later hooks, unless this hook is the instance's last: then for this one.
        let detaching = matches!(self.event(), crate::Event::StorageDetaching(s)
            if s.name == id.name && s.index == id.index);
        if detaching {
            self.cache.storage_infos.insert(id.clone(), info.clone());
        } else {
            self.state.storage.insert(key, info.clone());
        }
        Ok(info)
    }

    /// This unit's instances of storage `name` (`storage-list`).
    pub fn storages(&mut self, name: &str) -> Result<Vec<StorageId>, ModelError> {
        self.storage_meta(name)?;
        if let Some(ids) = self.cache.storage_lists.get(name) {
            return Ok(ids.clone());
        }
        let ids = self.tools().storage_list(name)?;
        self.cache
            .storage_lists
            .insert(name.to_string(), ids.clone());
        Ok(ids)
    }

    /// Asks Juju for `count` more instances of storage `name` (`storage-add`); they are added
    /// when the hook succeeds and each gets a `<name>-storage-attached` event. More than
    /// metadata's `multiple.range` allows is refused before anything runs.
    pub fn add_storage(&mut self, name: &str, count: u32) -> Result<(), ModelError> {
        if let Some(meta) = self.storage_meta(name)?
            && let Some(max) = meta.count.max
        {
            let have = self.storages(name)?.len();
            let want = u64::try_from(have).unwrap_or(u64::MAX) + u64::from(count);
            if want > u64::from(max) {
                return Err(ModelError::Storage {
                    name: name.to_string(),
                    why: format!(
                        "{have} attached and {count} more is over the {} metadata.yaml allows",
                        meta.count
                    ),
                });
            }
        }
        self.tools().storage_add(name, count)?;
        // Asked again, storage-list says what Juju says now.
        self.cache.storage_lists.remove(name);
        Ok(())
    }

    /// The local path of file resource `name` (`resource-get`; Juju fetches it on first use).
    /// A resource that was never uploaded (or cannot be fetched) is
    /// [`HookToolError::NotFound`](crate::HookToolError::NotFound): see
    /// [`ModelError::is_not_found`].
    pub fn resource(&mut self, name: &str) -> Result<PathBuf, ModelError> {
        Ok(self.tools().resource_get(name)?)
    }
}

impl Ctx<'_> {
    /// The application's status with each unit's (`status-get --application`); leader only.
    pub fn app_status_report(&mut self) -> Result<AppStatusReport, ModelError> {
        if !self.is_leader()? {
            return Err(ModelError::NotLeader {
                unit: self.unit_name().to_string(),
                action: "read the application status".into(),
            });
        }
        Ok(self.tools().app_status_report()?)
    }

    /// The cloud this application runs on, with its credential (`credential-get`). An
    /// application without `juju trust` gets
    /// [`HookToolError::NotTrusted`](crate::HookToolError::NotTrusted).
    pub fn cloud_spec(&mut self) -> Result<CloudSpec, ModelError> {
        Ok(self.tools().credential_get()?)
    }

    /// Asks Juju to reboot this unit's machine after this hook (`juju-reboot`).
    pub fn reboot_after_hook(&mut self) -> Result<(), ModelError> {
        Ok(self.tools().juju_reboot(false)?)
    }

    /// Reboots this unit's machine now (`juju-reboot --now`): Juju kills this hook and runs it
    /// again after the reboot, so nothing after this call is committed; return at once.
    pub fn reboot_now(&mut self) -> Result<(), ModelError> {
        Ok(self.tools().juju_reboot(true)?)
    }
}

impl ModelError {
    /// Whether a hook tool said what it was asked about does not exist (a resource, a storage
    /// instance).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            ModelError::HookTool(crate::HookToolError::NotFound { .. })
        )
    }
}
