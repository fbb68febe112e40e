//! Helpers shared by the relation contract tests in `interface-tests/`.
//!
//! - [`check_schema`]: compares a JSON Schema generated from the Rust bag types with the copy
//!   checked into the repository (set `UPDATE_SCHEMAS=1` to rewrite the copies).
//! - [`workspace_root`] and [`target_dir`]: where the sources and the built charm binaries are.

use std::path::{Path, PathBuf};

/// The repository root (the directory holding the workspace `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    // interface-tests/common -> repository root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Cargo's target directory (`CARGO_TARGET_DIR` or `<root>/target`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Why a checked-in schema does not match the types.
#[derive(Debug)]
pub struct SchemaMismatch(pub String);

impl std::fmt::Display for SchemaMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Generates the JSON Schema of `T` and compares it with `path` (relative to the repository root).
///
/// With `UPDATE_SCHEMAS=1` in the environment the file is (re)written instead.
pub fn check_schema<T: schemars::JsonSchema>(
    path: &str,
) -> Result<serde_json::Value, SchemaMismatch> {
    let schema = serde_json::to_value(schemars::schema_for!(T))
        .map_err(|e| SchemaMismatch(format!("cannot serialise the schema: {e}")))?;
    let file = workspace_root().join(path);
    let pretty = serde_json::to_string_pretty(&schema)
        .map_err(|e| SchemaMismatch(format!("cannot serialise the schema: {e}")))?
        + "\n";
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| SchemaMismatch(e.to_string()))?;
        }
        std::fs::write(&file, &pretty).map_err(|e| SchemaMismatch(e.to_string()))?;
        return Ok(schema);
    }
    let stored = std::fs::read_to_string(&file).map_err(|e| {
        SchemaMismatch(format!(
            "{}: {e} (run the test with UPDATE_SCHEMAS=1 to create it)",
            file.display()
        ))
    })?;
    if stored != pretty {
        return Err(SchemaMismatch(format!(
            "{} differs from the schema generated from the types; review the change and run with UPDATE_SCHEMAS=1",
            file.display()
        )));
    }
    Ok(schema)
}
