//! Real Python `ops` charms in the local model: the virtualenv `make python-peers` installs, and
//! charm directories whose `dispatch` runs a Python charm with it, as charmcraft's dispatch does.
//!
//! A Python charm source directory holds `metadata.yaml` (and `config.yaml`, `actions.yaml`),
//! `src/charm.py` and optionally `lib/`. [`python_charm_dir`] assembles it for a model: the YAML
//! files, `src/`, the charm's `lib/` plus the shared modules of `interface-tests/python/lib`
//! (e.g. `peer_record.py`), and an executable `dispatch`:
//!
//! ```sh
//! JUJU_DISPATCH_PATH="${JUJU_DISPATCH_PATH:-$0}" PYTHONPATH=lib:src exec '<venv>/bin/python3' ./src/charm.py
//! ```

use std::path::{Path, PathBuf};

use crate::workspace_root;

/// The environment variable naming the virtualenv (the Makefile sets it; default
/// `<repository>/build/python-venv`).
pub const VENV_ENV: &str = "PYTHON_PEERS_VENV";

/// Why the Python peers cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenvMissing(pub String);

impl std::fmt::Display for VenvMissing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The virtualenv's directory: `$PYTHON_PEERS_VENV`, else `<repository>/build/python-venv`.
pub fn venv_dir() -> PathBuf {
    match std::env::var_os(VENV_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join("build").join("python-venv"),
    }
}

/// Checks that `venv` is a virtualenv installed by `make python-peers` (its stamp file and its
/// interpreter exist); returns the interpreter.
pub fn check_venv(venv: &Path) -> Result<PathBuf, VenvMissing> {
    let python = venv.join("bin").join("python3");
    if !venv.join(".installed").is_file() || !python.exists() {
        return Err(VenvMissing(format!(
            "the Python peers' virtualenv {} is not installed: run `make python-peers` \
             (`make test` does), or set {VENV_ENV} to one",
            venv.display()
        )));
    }
    Ok(python)
}

/// The interpreter of the peers' virtualenv, or a panic that says how to install it. The Python
/// peer tests fail instead of skipping: a missing virtualenv must not pass for a green run.
pub fn python() -> PathBuf {
    match check_venv(&venv_dir()) {
        Ok(python) => python,
        Err(e) => panic!("{e}"),
    }
}

/// The `dispatch` script of a Python charm run with `python`.
pub fn dispatch_script(python: &Path) -> String {
    // Single-quoted for the shell; a quote inside the path is closed, escaped and reopened.
    let quoted = python.to_string_lossy().replace('\'', r"'\''");
    format!(
        "#!/bin/sh\n\
         # Runs the charm as charmcraft's dispatch does, with the peers' virtualenv.\n\
         JUJU_DISPATCH_PATH=\"${{JUJU_DISPATCH_PATH:-$0}}\" PYTHONPATH=lib:src exec '{quoted}' ./src/charm.py\n"
    )
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "__pycache__" {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&entry.path(), &to.join(&name))?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

/// Assembles the Python charm at `source` (relative paths are taken from the repository root)
/// as `<into>/<app>`, ready for `Model::deploy`. Panics (a broken test set-up) when the source
/// lacks `metadata.yaml` or `src/charm.py`, or the virtualenv is missing.
pub fn python_charm_dir(source: &Path, into: &Path, app: &str) -> PathBuf {
    let source = workspace_root().join(source);
    let dir = into.join(app);
    if let Err(e) = assemble(&source, &dir, &python()) {
        panic!("cannot assemble the Python charm {}: {e}", source.display());
    }
    dir
}

/// [`python_charm_dir`] without the panics, with the interpreter given.
pub fn assemble(source: &Path, dir: &Path, python: &Path) -> std::io::Result<()> {
    for required in ["metadata.yaml", "src/charm.py"] {
        if !source.join(required).is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} has no {required}", source.display()),
            ));
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    for file in ["metadata.yaml", "config.yaml", "actions.yaml"] {
        if source.join(file).is_file() {
            std::fs::copy(source.join(file), dir.join(file))?;
        }
    }
    copy_tree(&source.join("src"), &dir.join("src"))?;
    copy_tree(
        &workspace_root().join("interface-tests/python/lib"),
        &dir.join("lib"),
    )?;
    if source.join("lib").is_dir() {
        copy_tree(&source.join("lib"), &dir.join("lib"))?;
    }
    let dispatch = dir.join("dispatch");
    std::fs::write(&dispatch, dispatch_script(python))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dispatch, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_venv_names_the_make_target() {
        let dir = crate::temp_dir("no-venv");
        let err = check_venv(&dir.join("python-venv")).err().map(|e| e.0);
        let msg = err.unwrap_or_default();
        assert!(msg.contains("make python-peers"), "{msg}");
        assert!(msg.contains(VENV_ENV), "{msg}");
        // A virtualenv without the stamp (an interrupted install) is not taken either.
        let half = dir.join("half");
        std::fs::create_dir_all(half.join("bin")).unwrap_or_default();
        std::fs::write(half.join("bin/python3"), "").unwrap_or_default();
        assert!(check_venv(&half).is_err());
        std::fs::write(half.join(".installed"), "").unwrap_or_default();
        assert_eq!(check_venv(&half), Ok(half.join("bin/python3")));
    }

    #[test]
    fn dispatch_quotes_the_interpreter() {
        let script = dispatch_script(Path::new("/tmp/it's/bin/python3"));
        assert!(script.starts_with("#!/bin/sh\n"));
        assert!(
            script.contains(r"exec '/tmp/it'\''s/bin/python3' ./src/charm.py"),
            "{script}"
        );
        assert!(script.contains("PYTHONPATH=lib:src"));
        assert!(script.contains("JUJU_DISPATCH_PATH=\"${JUJU_DISPATCH_PATH:-$0}\""));
    }

    #[test]
    fn assembly_needs_a_charm() {
        let dir = crate::temp_dir("no-charm");
        let err = assemble(&dir, &dir.join("out"), Path::new("/bin/false"));
        assert!(
            err.is_err_and(|e| e.to_string().contains("metadata.yaml")),
            "a directory without metadata.yaml is not a charm"
        );
    }
}
