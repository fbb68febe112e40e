//! The container's filesystem: absolute container paths mapped under a host directory, never
//! escaping it (`..` is refused, and so is any symlink that resolves outside the root).

use std::io;
use std::path::{Component, Path, PathBuf};

use crate::files::FileError;

/// A container root directory.
#[derive(Debug, Clone)]
pub(crate) struct Root {
    dir: PathBuf,
}

impl Root {
    /// Creates the directory if needed; the stored path is canonical.
    pub fn new(dir: &Path) -> io::Result<Root> {
        std::fs::create_dir_all(dir)?;
        Ok(Root {
            dir: dir.canonicalize()?,
        })
    }

    /// The host directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The host path of a container path. With `follow_last`, a symlink as the last component is
    /// resolved (and must stay inside the root); without it the last component is kept as is
    /// (remove, write-by-rename). Missing components are fine: they are created or reported by
    /// the operation itself.
    pub fn host_path(&self, path: &str, follow_last: bool) -> Result<PathBuf, FileError> {
        if !path.starts_with('/') {
            return Err(FileError::generic(format!(
                "paths must be absolute, got {path:?}"
            )));
        }
        let mut names: Vec<&str> = Vec::new();
        for c in Path::new(path).components() {
            match c {
                Component::Normal(n) => names.push(n.to_str().unwrap_or_default()),
                Component::ParentDir => {
                    return Err(FileError::permission(format!(
                        "cannot access {path:?}: \"..\" is not allowed in container paths"
                    )));
                }
                Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            }
        }
        let last = if follow_last { None } else { names.pop() };
        // Walk down to the deepest existing prefix; resolve it and check it stays inside.
        let mut existing = self.dir.clone();
        let mut depth = 0;
        for n in &names {
            let next = existing.join(n);
            if std::fs::symlink_metadata(&next).is_err() {
                break;
            }
            existing = next;
            depth += 1;
        }
        let resolved = match existing.canonicalize() {
            Ok(p) => p,
            Err(e) => return Err(FileError::from_io("stat", path, &e)),
        };
        if !resolved.starts_with(&self.dir) {
            return Err(FileError::permission(format!(
                "cannot access {path:?}: it resolves outside the container root"
            )));
        }
        let mut out = resolved;
        for n in &names[depth..] {
            out.push(n);
        }
        if let Some(n) = last {
            out.push(n);
        }
        Ok(out)
    }

    /// The container path of a host path under the root (`/` for the root itself).
    pub fn container_path(&self, host: &Path) -> Option<String> {
        let rel = host.strip_prefix(&self.dir).ok()?;
        let s = rel.to_str()?;
        Some(format!("/{s}"))
    }
}

#[cfg(test)]
#[path = "root_test.rs"]
mod tests;
