//! For a charm's `build.rs`: its metadata files as JSON in `OUT_DIR`, to embed in the binary.
//!
//! A charm process starts for every hook. Reading `metadata.yaml` with a YAML parser at every
//! start cost about a quarter of a hook's user-space instructions, and the parser made up about
//! 0.7 MiB of every charm binary. JSON is YAML, so the charm reads the same document, with
//! `serde_json`, which it links anyway.
//!
//! `build.rs`:
//!
//! ```no_run
//! fn main() -> Result<(), String> {
//!     charm_build::embed_metadata()
//! }
//! ```
//!
//! and the charm passes `include_str!(concat!(env!("OUT_DIR"), "/metadata.json"))` to
//! `Charm::metadata`.

use std::path::Path;

/// The files converted, next to the charm's `Cargo.toml`: `(source, target, required)`.
const FILES: [(&str, &str, bool); 3] = [
    ("metadata.yaml", "metadata.json", true),
    ("config.yaml", "config.json", false),
    ("actions.yaml", "actions.json", false),
];

/// Converts `metadata.yaml` (next to the charm's `Cargo.toml`) to `$OUT_DIR/metadata.json`, and
/// `config.yaml` and `actions.yaml` likewise when they exist; tells Cargo to run again when one
/// changes. Call it from `build.rs`; an error (a missing or invalid file) fails the build.
pub fn embed_metadata() -> Result<(), String> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?;
    let out = std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?;
    embed(Path::new(&dir), Path::new(&out))
}

/// [`embed_metadata`] from `charm_dir` into `out_dir`.
pub fn embed(charm_dir: &Path, out_dir: &Path) -> Result<(), String> {
    for (source, target, required) in FILES {
        let from = charm_dir.join(source);
        // Also when it is missing: creating it later must rebuild the charm.
        println!("cargo:rerun-if-changed={}", from.display());
        if !required && !from.exists() {
            continue;
        }
        let json = to_json(&from)?;
        let to = out_dir.join(target);
        std::fs::write(&to, json).map_err(|e| format!("{}: {e}", to.display()))?;
    }
    Ok(())
}

/// A YAML file as a JSON document; it must be a mapping (as every charm metadata file is).
pub fn to_json(path: &Path) -> Result<String, String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| fail(&e))?;
    let value: serde_json::Value = charm_yaml::from_str(&text).map_err(|e| fail(&e))?;
    if !value.is_object() {
        return Err(fail(&"expected a mapping at the top level"));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("charm-build-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn read_json(path: &Path) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn metadata_becomes_the_same_document_as_json() {
        let dir = temp_dir("same");
        std::fs::write(
            dir.join("metadata.yaml"),
            "name: x\nrequires:\n  db: {interface: pg, limit: 1}\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("config.yaml"),
            "options:\n  a: {type: int, default: 1}\n",
        )
        .unwrap();
        embed(&dir, &dir).unwrap();
        assert_eq!(
            read_json(&dir.join("metadata.json")),
            json!({"name": "x", "requires": {"db": {"interface": "pg", "limit": 1}}})
        );
        assert_eq!(
            read_json(&dir.join("config.json")),
            json!({"options": {"a": {"type": "int", "default": 1}}})
        );
        // No actions.yaml: nothing written for it.
        assert!(!dir.join("actions.json").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_or_bad_metadata_file_fails_the_build_naming_it() {
        let dir = temp_dir("bad");
        let err = embed(&dir, &dir).unwrap_err();
        assert!(err.contains("metadata.yaml"), "{err}");
        std::fs::write(dir.join("metadata.yaml"), "name: [").unwrap();
        let err = embed(&dir, &dir).unwrap_err();
        assert!(
            err.contains("metadata.yaml") && err.contains("invalid YAML"),
            "{err}"
        );
        std::fs::write(dir.join("metadata.yaml"), "- just\n- a list\n").unwrap();
        let err = embed(&dir, &dir).unwrap_err();
        assert!(err.contains("expected a mapping"), "{err}");
        std::fs::write(dir.join("metadata.yaml"), "name: x\n").unwrap();
        std::fs::write(dir.join("actions.yaml"), "a: {params: [").unwrap();
        let err = embed(&dir, &dir).unwrap_err();
        assert!(err.contains("actions.yaml"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
