//! Storage instances: each is a directory of the model (`units/<app>-<n>/storage/<name>-<index>`)
//! attached to one unit. Deploy gives each unit the counts of `--storage` (else metadata's
//! minimum); `storage-add` adds more when its hook commits; indexes are model-wide, as Juju's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::meta::CharmMeta;
use crate::state::{ModelState, StorageInstance, Unit};

/// The instances each unit of a new application gets: `requested` (`name=count` of
/// `deploy --storage`) over metadata's minimum, checked against metadata's ranges.
pub fn deploy_counts(
    meta: &CharmMeta,
    requested: &[(String, u32)],
) -> std::result::Result<BTreeMap<String, u32>, String> {
    let mut counts: BTreeMap<String, u32> = meta
        .storage
        .iter()
        .map(|(name, s)| (name.clone(), s.count.min))
        .collect();
    for (name, count) in requested {
        let Some(spec) = meta.storage.get(name) else {
            return Err(format!("charm storage {name:?} not found"));
        };
        if !spec.count.allows(*count) {
            return Err(format!(
                "storage {name:?}: {count} instances, metadata allows {}",
                spec.count
            ));
        }
        counts.insert(name.clone(), *count);
    }
    counts.retain(|_, n| *n > 0);
    Ok(counts)
}

/// Where instance `name/index` of `unit` lives.
fn location(model_dir: &Path, unit: &str, name: &str, index: u32) -> PathBuf {
    model_dir
        .join("units")
        .join(unit.replace('/', "-"))
        .join("storage")
        .join(format!("{name}-{index}"))
}

/// Attaches `count` more instances of storage `name` to `unit` (state only; the directories
/// are made by [`ensure_dirs`] before the unit's next hook). Returns their ids.
pub fn attach(
    st: &mut ModelState,
    model_dir: &Path,
    unit: &str,
    name: &str,
    count: u32,
) -> std::result::Result<Vec<String>, String> {
    let app = unit.split('/').next().unwrap_or_default();
    let spec = st
        .applications
        .get(app)
        .and_then(|a| a.meta.storage.get(name))
        .cloned()
        .ok_or_else(|| format!("storage {name:?} not found"))?;
    let prefix = format!("{name}/");
    let have = st.unit(unit).map_or(0, |u| {
        u.storage.keys().filter(|k| k.starts_with(&prefix)).count()
    });
    let total = u32::try_from(have)
        .unwrap_or(u32::MAX)
        .saturating_add(count);
    if spec.count.max.is_some_and(|max| total > max) {
        return Err(format!(
            "storage {name:?}: {have} attached and {count} more exceeds the {} the charm allows",
            spec.count
        ));
    }
    let mut ids = Vec::new();
    for _ in 0..count {
        let next = st.next_storage.entry(name.to_string()).or_insert(0);
        let index = *next;
        *next += 1;
        let id = format!("{name}/{index}");
        let instance = StorageInstance {
            kind: spec.kind.as_str().to_string(),
            location: location(model_dir, unit, name, index),
        };
        if let Some(u) = st.unit_mut(unit) {
            u.storage.insert(id.clone(), instance);
        }
        ids.push(id);
    }
    Ok(ids)
}

/// The storage hook's environment (`JUJU_STORAGE_ID`, `_LOCATION`, `_KIND`).
pub fn hook_env(id: &str, instance: Option<&StorageInstance>) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert("JUJU_STORAGE_ID".to_string(), id.to_string());
    if let Some(i) = instance {
        env.insert(
            "JUJU_STORAGE_LOCATION".to_string(),
            i.location.display().to_string(),
        );
        env.insert("JUJU_STORAGE_KIND".to_string(), i.kind.clone());
    }
    env
}

/// Creates the directories of `unit`'s storage instances (owner-only, like the model's files).
pub fn ensure_dirs(unit: &Unit) -> Result<()> {
    for instance in unit.storage.values() {
        crate::files::create_private_dir(&instance.location)?;
    }
    Ok(())
}
