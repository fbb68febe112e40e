//! Shared helpers: temp dirs, shell-script charms, and probes that run a script inside a hook.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use juju_local::state::HookSpec;
use juju_local::timeline::HookRecord;
use juju_local::{DeployOptions, Model, ModelOptions};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The juju-local binary built for this crate.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_juju-local"))
}

/// A fresh, unique directory under the system temp dir.
pub fn tmp(name: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir =
        std::env::temp_dir().join(format!("jl-test-{name}-{}-{n}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The generic dispatch: logs the hook, then sources `on/<hook-or-action>` if present.
pub const DISPATCH: &str = r#"#!/bin/sh
name="${JUJU_DISPATCH_PATH#*/}"
echo "$JUJU_UNIT_NAME $name remote=$JUJU_REMOTE_UNIT departing=$JUJU_DEPARTING_UNIT" >> "$JUJU_CHARM_DIR/hooks.log"
if [ -f "$JUJU_CHARM_DIR/on/$name" ]; then
  . "$JUJU_CHARM_DIR/on/$name"
fi
"#;

/// Writes a charm directory with the generic dispatch and `on/<hook>` scripts.
pub fn charm(
    base: &Path,
    name: &str,
    metadata: &str,
    config: Option<&str>,
    actions: Option<&str>,
    on: &[(&str, &str)],
) -> PathBuf {
    let dir = base.join(format!("charm-{name}"));
    std::fs::create_dir_all(dir.join("on")).unwrap();
    std::fs::write(dir.join("metadata.yaml"), metadata).unwrap();
    if let Some(c) = config {
        std::fs::write(dir.join("config.yaml"), c).unwrap();
    }
    if let Some(a) = actions {
        std::fs::write(dir.join("actions.yaml"), a).unwrap();
    }
    let dispatch = dir.join("dispatch");
    std::fs::write(&dispatch, DISPATCH).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dispatch, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (hook, script) in on {
        std::fs::write(dir.join("on").join(hook), script).unwrap();
    }
    dir
}

/// A new model in a fresh temp dir; returns it and the base dir for charms.
pub fn model(name: &str) -> (Model, PathBuf) {
    let base = tmp(name);
    let m = Model::init(base.join("model"), ModelOptions::new(bin())).unwrap();
    (m, base)
}

pub fn deploy(m: &Model, charm: &Path, app: &str, units: u32) {
    m.deploy(
        charm,
        DeployOptions {
            app: Some(app.into()),
            units: Some(units),
            config: vec![],
            env: vec![],
            ..Default::default()
        },
    )
    .unwrap();
}

/// The unit's own charm directory.
pub fn unit_dir(m: &Model, unit: &str) -> PathBuf {
    m.dir()
        .join("units")
        .join(unit.replace('/', "-"))
        .join("charm")
}

/// Sets (or clears with None) a unit's script for one hook.
pub fn on(m: &Model, unit: &str, hook: &str, script: Option<&str>) {
    let p = unit_dir(m, unit).join("on").join(hook);
    match script {
        Some(s) => std::fs::write(p, s).unwrap(),
        None => {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// What a probe command printed.
#[derive(Debug)]
pub struct Probe {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
    pub record: HookRecord,
}

/// Runs `cmd` (a shell command line) inside hook `spec` on `unit`; captures its stdout/stderr/exit code.
/// The hook itself exits with `hook_exit`.
pub fn probe_in(m: &Model, unit: &str, spec: HookSpec, cmd: &str, hook_exit: i32) -> Probe {
    let dir = unit_dir(m, unit);
    let script = format!(
        "{cmd} > \"$JUJU_CHARM_DIR/probe.out\" 2> \"$JUJU_CHARM_DIR/probe.err\"\necho $? > \"$JUJU_CHARM_DIR/probe.rc\"\nexit {hook_exit}\n"
    );
    let name = spec.name.clone();
    std::fs::write(dir.join("on").join(&name), script).unwrap();
    let record = m.run_hook(unit, spec).unwrap();
    let _ = std::fs::remove_file(dir.join("on").join(&name));
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    Probe {
        stdout: read("probe.out"),
        stderr: read("probe.err"),
        code: read("probe.rc").trim().parse().unwrap_or(-1),
        record,
    }
}

/// Runs `cmd` in an update-status hook.
pub fn probe(m: &Model, unit: &str, cmd: &str) -> Probe {
    probe_in(m, unit, HookSpec::simple("update-status"), cmd, 0)
}

/// Runs `cmd` in a relation hook (`<endpoint>-relation-<kind>`) of relation `rel`.
pub fn probe_rel(
    m: &Model,
    unit: &str,
    hook: &str,
    rel: u64,
    remote: Option<&str>,
    cmd: &str,
) -> Probe {
    let spec = HookSpec {
        relation: Some(rel),
        remote_unit: remote.map(str::to_string),
        ..HookSpec::simple(hook)
    };
    probe_in(m, unit, spec, cmd, 0)
}

/// Hook names run on `unit` (agent and manual runs), in order.
pub fn hooks_of(m: &Model, unit: &str) -> Vec<String> {
    m.timeline()
        .unwrap()
        .into_iter()
        .filter(|r| r.unit == unit)
        .map(|r| r.hook.describe())
        .collect()
}

/// All hook descriptions as `unit: hook`, from timeline sequence `from` on.
pub fn story(m: &Model, from: u64) -> Vec<String> {
    m.timeline()
        .unwrap()
        .into_iter()
        .filter(|r| r.seq > from)
        .map(|r| format!("{}: {}", r.unit, r.hook.describe()))
        .collect()
}

pub fn last_seq(m: &Model) -> u64 {
    m.timeline().unwrap().last().map_or(0, |r| r.seq)
}

pub const DB_META: &str =
    "name: db\nprovides:\n  db: {interface: pgsql}\npeers:\n  cluster: {interface: db-peers}\n";
pub const APP_META: &str = "name: app\nrequires:\n  db: {interface: pgsql, limit: 1}\n";
