//! Helpers shared by the relation contract tests in `interface-tests/`.
//!
//! - [`check_schema`]: compares a JSON Schema generated from the Rust bag types with the copy
//!   checked into the repository (set `UPDATE_SCHEMAS=1` to rewrite the copies).
//! - [`workspace_root`] and [`target_dir`]: where the sources and the built charm binaries are.
//! - [`charm_dir`]: an unpacked charm directory for a charm of `charms/`, its `dispatch` being the
//!   debug binary `cargo build --workspace --bins` made (`make test` builds it first).
//! - [`model`]: a fresh local Juju model (`juju-local`) in a unique temporary directory.
//! - [`run_story`]: runs a `demo/` story against the debug charms, as `make demo` does in release.
//! - [`python`]: real Python `ops` charms in a model (the virtualenv of `make python-peers`).
//! - [`charm_events`]: the `CHARM_EVENT`s a model's charms recorded, from a [`timeline_len`] mark.
//! - [`failure_details`]: the failed dispatches with their tracebacks, for assertion messages.

// Test support: a missing binary or an unusable temp dir is a broken test setup, reported loudly.
#![allow(clippy::panic)]

use std::path::{Path, PathBuf};

pub mod python;

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

use std::sync::atomic::{AtomicU32, Ordering};

static UNIQUE: AtomicU32 = AtomicU32::new(0);

/// Where the contract tests keep their models: one directory under the system temp dir, from
/// which directories older than an hour (earlier runs) are removed when a test process starts.
fn temp_root() -> &'static Path {
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let root = std::env::temp_dir().join("charm-contract-tests");
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        if let Ok(entries) = std::fs::read_dir(&root) {
            for entry in entries.flatten() {
                let old = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t < hour_ago);
                if old {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        root
    })
}

/// A fresh directory for a test, unique to this process and call.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = temp_root().join(format!(
        "{name}-{}-{}",
        std::process::id(),
        UNIQUE.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// A debug binary of the workspace, or a panic that says how to build it.
pub fn binary(name: &str) -> PathBuf {
    let path = target_dir().join("debug").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace --bins` first (`make test` does)",
        path.display()
    );
    path
}

/// The `juju-local` binary (debug build).
pub fn juju_local() -> PathBuf {
    binary("juju-local")
}

/// Writes an unpacked charm directory for `charms/<name>` under `into`: the charm's YAML files and
/// a `dispatch` that is a symbolic link to its debug binary (every unit's copy of the charm keeps
/// the link, so a model costs kilobytes, not a binary per unit).
pub fn charm_dir(name: &str, into: &Path) -> PathBuf {
    let src = workspace_root().join("charms").join(name);
    let dir = into.join(name);
    let _ = std::fs::create_dir_all(&dir);
    for file in ["metadata.yaml", "config.yaml", "actions.yaml"] {
        if src.join(file).is_file() {
            let _ = std::fs::copy(src.join(file), dir.join(file));
        }
    }
    let _ = std::fs::remove_file(dir.join("dispatch"));
    let linked = std::os::unix::fs::symlink(binary(name), dir.join("dispatch"));
    assert!(linked.is_ok(), "cannot link the {name} binary: {linked:?}");
    dir
}

/// A fresh local model using the debug `juju-local`.
pub fn model(name: &str) -> juju_local::Model {
    let dir = temp_dir(name).join("model");
    match juju_local::Model::init(&dir, juju_local::ModelOptions::new(juju_local())) {
        Ok(model) => model,
        Err(e) => panic!("cannot create a local model in {}: {e}", dir.display()),
    }
}

/// Runs `demo/<story>.yaml` with the debug charms (whose paths the story gives as
/// `../build/charms/<name>`) and the debug workspace binaries first on the charms' `PATH`;
/// returns the result, and keeps the model for inspection.
pub fn run_story(story: &str) -> juju_local::scenario::ScenarioResult {
    let base = temp_dir(&format!("story-{story}"));
    let demo = base.join("demo");
    let _ = std::fs::create_dir_all(&demo);
    let text = std::fs::read_to_string(workspace_root().join("demo").join(format!("{story}.yaml")))
        .unwrap_or_default();
    let _ = std::fs::write(demo.join(format!("{story}.yaml")), &text);
    let charms = base.join("build").join("charms");
    for line in text.lines() {
        if let Some(rest) = line.split("../build/charms/").nth(1) {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if !charms.join(&name).exists() {
                charm_dir(&name, &charms);
            }
        }
    }
    // Workspace binaries (e.g. test doubles a story configures by name) are found on PATH, as
    // `make demo` finds the release ones.
    let mut opts = juju_local::ModelOptions::new(juju_local());
    let path = std::env::var("PATH").unwrap_or_default();
    opts.env.insert(
        "PATH".into(),
        format!("{}:{path}", target_dir().join("debug").display()),
    );
    match juju_local::scenario::run_file_with(
        demo.join(format!("{story}.yaml")),
        opts,
        Some(&base.join("model")),
    ) {
        Ok(result) => result,
        Err(e) => panic!("story {story} did not run: {e}"),
    }
}

/// The charm events named `name` (`CHARM_EVENT` lines: library events of the Rust charms, the
/// observations of the Python peers) recorded after the first `from` dispatches of the model's
/// timeline, as (unit, fields), in order.
pub fn charm_events(
    model: &juju_local::Model,
    from: usize,
    name: &str,
) -> Vec<(String, serde_json::Value)> {
    let timeline = match model.timeline() {
        Ok(timeline) => timeline,
        Err(e) => panic!("cannot read the timeline: {e}"),
    };
    timeline
        .into_iter()
        .skip(from)
        .flat_map(|r| {
            let unit = r.unit;
            r.events
                .into_iter()
                .filter(|e| e.event == name)
                .map(move |e| (unit.clone(), e.fields))
        })
        .collect()
}

/// The hook-tool calls `unit` made in `records`, as argv (tool name first), as the local model
/// recorded them.
pub fn tool_calls(records: &[juju_local::timeline::HookRecord], unit: &str) -> Vec<Vec<String>> {
    records
        .iter()
        .filter(|r| r.unit == unit)
        .flat_map(|r| r.tools.iter())
        .map(|t| {
            std::iter::once(t.tool.clone())
                .chain(t.args.iter().cloned())
                .collect()
        })
        .collect()
}

/// How many dispatches the model's timeline holds (a mark for [`charm_events`]).
pub fn timeline_len(model: &juju_local::Model) -> usize {
    match model.timeline() {
        Ok(timeline) => timeline.len(),
        Err(e) => panic!("cannot read the timeline: {e}"),
    }
}

/// Every failed dispatch of the model with what it said: the `juju-log` ERROR records (where
/// `ops` puts a charm's traceback) and stderr. Empty when nothing failed; for assertion messages.
pub fn failure_details(model: &juju_local::Model) -> String {
    let timeline = model.timeline().unwrap_or_default();
    let mut out = String::new();
    for r in timeline.iter().filter(|r| r.outcome == "failed") {
        out.push_str(&format!(
            "#{} {} {}: {}\n",
            r.seq,
            r.unit,
            r.hook.describe(),
            r.error.as_deref().unwrap_or("failed")
        ));
        for (level, message) in &r.juju_log {
            if level == "ERROR" {
                out.push_str(message);
                out.push('\n');
            }
        }
        for line in &r.stderr {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Fails unless every appearance of `value` in the hook-tool calls `unit` made comes after `--`
/// (where a tool takes it as data, whatever it starts with): it never became an option or a
/// flag's value. Returns how many calls carried it as data.
pub fn assert_never_an_option(
    records: &[juju_local::timeline::HookRecord],
    unit: &str,
    value: &str,
) -> usize {
    let mut as_data = 0;
    for call in tool_calls(records, unit) {
        let end = call.iter().position(|a| a == "--").unwrap_or(call.len());
        if let Some(bad) = call[1..end].iter().find(|a| a.contains(value)) {
            panic!("{unit} passed {value:?} before `--` as {bad:?}: {call:?}");
        }
        if call[end..].iter().any(|a| a.contains(value)) {
            as_data += 1;
        }
    }
    as_data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_details_show_what_a_failed_hook_said() {
        let m = model("failure-details");
        let charm = m
            .dir()
            .parent()
            .map(|p| p.join("failing"))
            .unwrap_or_default();
        let _ = std::fs::create_dir_all(&charm);
        let _ = std::fs::write(charm.join("metadata.yaml"), "name: failing\n");
        let script = "#!/bin/sh\n[ \"$JUJU_HOOK_NAME\" = install ] || exit 0\njuju-log -l ERROR -- 'Traceback: boom'\necho 'on stderr' >&2\nexit 1\n";
        let _ = std::fs::write(charm.join("dispatch"), script);
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(
            charm.join("dispatch"),
            std::fs::Permissions::from_mode(0o755),
        );
        assert!(failure_details(&m).is_empty());
        let deployed = m.deploy(&charm, juju_local::DeployOptions::default());
        assert!(deployed.is_ok(), "{deployed:?}");
        let _ = m.settle(20);
        let details = failure_details(&m);
        assert!(details.contains("failing/0 install"), "{details}");
        assert!(details.contains("Traceback: boom"), "{details}");
        assert!(details.contains("on stderr"), "{details}");
        assert_eq!(timeline_len(&m), 1, "the unit waits in error");
    }
}
