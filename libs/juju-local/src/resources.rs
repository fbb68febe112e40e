//! File resources: a file given at deploy (`--resource name=path`) or later (`attach-resource`)
//! is copied into the model (`resources/<app>/<name>/<file name>`), and `resource-get` prints
//! that copy's path, as Juju prints the unit's downloaded copy.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::meta::CharmMeta;

/// Copies `source` in as resource `name` of `app`; returns the copy's path.
pub fn attach(
    model_dir: &Path,
    meta: &CharmMeta,
    app: &str,
    name: &str,
    source: &Path,
) -> Result<PathBuf> {
    let invalid = |m: String| Error::Invalid(m);
    match meta.resources.get(name).map(String::as_str) {
        None => return Err(invalid(format!("charm resource {name:?} not found"))),
        Some("file") => {}
        Some(kind) => {
            return Err(invalid(format!(
                "resource {name:?} is of type {kind:?}: only file resources can be attached here"
            )));
        }
    }
    let file_name = source.file_name().ok_or_else(|| {
        invalid(format!(
            "resource {name:?}: {} is not a file",
            source.display()
        ))
    })?;
    let dir = model_dir.join("resources").join(app).join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io("cannot clean", &dir, e))?;
    }
    crate::files::create_private_dir(&dir)?;
    let copy = dir.join(file_name);
    std::fs::copy(source, &copy).map_err(|e| Error::io("cannot copy resource", source, e))?;
    Ok(copy)
}
