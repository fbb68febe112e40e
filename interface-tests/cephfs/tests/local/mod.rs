//! Helpers of the local-model tests: the real charm binaries deployed in a `juju-local` model,
//! the client a subordinate of the `hello` charm, its mount commands recording doubles.

#![allow(dead_code)] // each test binary uses its own subset

use cephfs_contract::{KEY, MONITOR_HOSTS, NAME, PATH, Sandbox, USERNAME};
use interface_tests_common::{charm_dir, model, temp_dir, workspace_root};
use juju_local::state::{ModelState, Secret};
use juju_local::timeline::Change;
use juju_local::timeline::HookRecord;
use juju_local::{DeployOptions, Model};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// The server application (deployed under its charm name).
pub const SERVER: &str = "cephfs-server-proxy";
/// The client application (a subordinate).
pub const CLIENT: &str = "cephfs-client";
/// The principal application the client runs next to (the `hello` sample charm).
pub const PRINCIPAL: &str = "web";
/// The shell provider of `interface-tests/cephfs/raw-provider`.
pub const RAW: &str = "raw";

/// A model with the client deployed next to a principal, and the sandbox of its doubles.
pub struct Local {
    /// The model.
    pub model: Model,
    /// The doubles, the mountpoint and the key directory.
    pub sb: Sandbox,
    /// Where the charm directories were written.
    pub charms: PathBuf,
}

/// The server proxy's config for the fixture share.
pub fn server_config() -> Vec<(String, String)> {
    vec![
        ("fsid".into(), cephfs_contract::FSID.into()),
        ("sharepoint".into(), format!("{NAME}:{PATH}")),
        ("monitor-hosts".into(), MONITOR_HOSTS.join(" ")),
    ]
}

impl Local {
    /// A model with `principals` units of the principal and the client related to it (one
    /// client unit per principal unit), settled.
    pub fn new(name: &str, principals: u32) -> Local {
        let model = model(name);
        let charms = temp_dir(&format!("{name}-charms"));
        let sb = Sandbox::new(&format!("local-{name}"));
        model
            .deploy(
                &charm_dir("hello", &charms),
                DeployOptions {
                    app: Some(PRINCIPAL.into()),
                    units: Some(principals),
                    ..Default::default()
                },
            )
            .unwrap();
        model
            .deploy(
                &charm_dir(CLIENT, &charms),
                DeployOptions {
                    config: sb.client_config(),
                    ..Default::default()
                },
            )
            .unwrap();
        model
            .relate(
                &format!("{PRINCIPAL}:juju-info"),
                &format!("{CLIENT}:juju-info"),
            )
            .unwrap();
        let local = Local { model, sb, charms };
        local.settle();
        local
    }

    /// Adds the server proxy with `units` units, configured, with credentials from `set-auth`.
    pub fn with_server(self, units: u32) -> Local {
        self.model
            .deploy(
                &charm_dir(SERVER, &self.charms),
                DeployOptions {
                    units: Some(units),
                    config: server_config(),
                    ..Default::default()
                },
            )
            .unwrap();
        self.settle();
        let out = self.set_auth(USERNAME, KEY);
        assert_eq!(out.status, "completed", "{out:?}");
        self
    }

    /// Adds the shell provider (one unit), deployed as `raw`.
    pub fn with_raw_provider(self) -> Local {
        let dir = self.charms.join("raw-provider");
        std::fs::create_dir_all(&dir).unwrap();
        let src = workspace_root().join("interface-tests/cephfs/raw-provider");
        for file in ["metadata.yaml", "config.yaml", "dispatch"] {
            std::fs::copy(src.join(file), dir.join(file)).unwrap();
        }
        std::fs::set_permissions(dir.join("dispatch"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        self.model
            .deploy(
                &dir,
                DeployOptions {
                    app: Some(RAW.into()),
                    ..Default::default()
                },
            )
            .unwrap();
        self.settle();
        self
    }

    /// Runs `set-auth` on the server leader.
    pub fn set_auth(&self, username: &str, key: &str) -> juju_local::ActionOutcome {
        let leader = self.leader(SERVER);
        let params = json!({"username": username, "key": key});
        self.model
            .run_action_json(&leader, "set-auth", params.as_object().cloned().unwrap())
            .unwrap()
    }

    /// Relates the client to `provider` (`cephfs-share` on both sides); returns the relation id.
    pub fn relate(&self, provider: &str) -> u64 {
        let rel = self
            .model
            .relate(
                &format!("{CLIENT}:cephfs-share"),
                &format!("{provider}:cephfs-share"),
            )
            .unwrap();
        self.settle();
        rel
    }

    /// Settles the model; no unit may be left in error.
    pub fn settle(&self) {
        let report = self.model.settle(500).unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }

    /// Changes config of `app` and settles.
    pub fn config(&self, app: &str, values: &[(&str, &str)]) {
        let values: Vec<(String, String)> = values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.model.config(app, &values, &[]).unwrap();
        self.settle();
    }

    /// The model state.
    pub fn state(&self) -> ModelState {
        self.model.state().unwrap()
    }

    /// The leader unit of `app`.
    pub fn leader(&self, app: &str) -> String {
        self.state().applications[app].leader.clone().unwrap()
    }

    /// The number of dispatches so far (a mark for [`Local::since`]).
    pub fn mark(&self) -> usize {
        self.model.timeline().unwrap().len()
    }

    /// The dispatches after `mark`.
    pub fn since(&self, mark: usize) -> Vec<HookRecord> {
        self.model.timeline().unwrap().split_off(mark)
    }

    /// A unit's workload status as `(status, message)`.
    pub fn status(&self, unit: &str) -> (String, String) {
        let st = self.state();
        let u = st.unit(unit).unwrap_or_else(|| panic!("no unit {unit}"));
        (u.status.status.clone(), u.status.message.clone())
    }

    /// The mount.log of the doubles.
    pub fn mounts(&self) -> String {
        self.sb.log("mount.log")
    }

    /// The umount.log of the doubles.
    pub fn umounts(&self) -> String {
        self.sb.log("umount.log")
    }

    /// What `unit`'s stored state holds under `key` (the framework's local state file).
    pub fn stored(&self, unit: &str, key: &str) -> Option<Value> {
        let st = self.state();
        let dir = st.unit(unit).unwrap().charm_dir.clone();
        let text = std::fs::read_to_string(dir.join(".charm-state.json")).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        doc["stored"].get(key).cloned()
    }
}

/// One bag of a relation.
pub fn bag(st: &ModelState, rel: u64, owner: &str) -> BTreeMap<String, String> {
    st.bag(rel, owner).unwrap_or_default()
}

/// The secret with owner label `label`.
pub fn secret<'a>(st: &'a ModelState, label: &str) -> Option<&'a Secret> {
    st.secrets
        .values()
        .find(|s| s.label.as_deref() == Some(label))
}

/// The decoded content of a secret revision.
pub fn content(secret: &Secret, revision: u32) -> BTreeMap<String, String> {
    secret.revisions[&revision].decoded()
}

/// The library events named `name` in `records`, as `(unit, fields)`.
pub fn events(records: &[HookRecord], name: &str) -> Vec<(String, Value)> {
    records
        .iter()
        .flat_map(|r| {
            r.events
                .iter()
                .filter(|e| e.event == name)
                .map(|e| (r.unit.clone(), e.fields.clone()))
        })
        .collect()
}

/// The units that ran hook `hook` in `records`.
pub fn ran(records: &[HookRecord], hook: &str) -> Vec<String> {
    records
        .iter()
        .filter(|r| r.hook.name == hook)
        .map(|r| r.unit.clone())
        .collect()
}

/// Fails if `secret` appears in what charms printed, logged, passed to hook tools, or changed.
pub fn assert_never_shown(records: &[HookRecord], secret: &str) {
    for r in records {
        assert_not_shown(r, secret, &r.changes);
    }
}

/// Like [`assert_never_shown`] but databags may hold it (a `plain:` provider puts the key in
/// its app bag, and the client's unit-bag `cache` mirrors that bag, as the Python library does).
pub fn assert_never_logged(records: &[HookRecord], secret: &str) {
    for r in records {
        let changes: Vec<Change> = r
            .changes
            .iter()
            .filter(|c| !matches!(c, Change::Bag { .. }))
            .cloned()
            .collect();
        assert_not_shown(r, secret, &changes);
    }
}

fn assert_not_shown(r: &HookRecord, secret: &str, changes: &[Change]) {
    let shown = serde_json::to_string(&json!({
        "log": r.juju_log, "stdout": r.stdout, "stderr": r.stderr, "events": r.events,
        "changes": changes, "tools": r.tools, "error": r.error,
    }))
    .unwrap();
    assert!(
        !shown.contains(secret),
        "#{} {} on {} shows the key",
        r.seq,
        r.hook.name,
        r.unit
    );
}

/// The line the mount double logs for a mount of `path` with `unit`'s key file.
pub fn mount_line(sb: &Sandbox, path: &str, user: &str, unit: &str) -> String {
    format!(
        "argv: -t ceph {}:{path} {} -o name={user},secretfile={},fsid={},mds_namespace={NAME}",
        MONITOR_HOSTS.join(","),
        sb.mountpoint(),
        sb.secretfile_of(unit),
        cephfs_contract::FSID,
    )
}

/// True when `path` exists.
pub fn exists(path: &str) -> bool {
    Path::new(path).exists()
}
