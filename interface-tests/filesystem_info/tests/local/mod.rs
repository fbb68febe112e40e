//! Helpers of the local-model tests: the real charm binaries in a `juju-local` model, the client
//! a subordinate of the `hello` charm, its commands handed to the `fake-mount` double.

#![allow(dead_code)] // each test binary uses its own subset

use filesystem_info_contract::{FAKE_DIR_ENV, KEY, USER, key_line};
use interface_tests_common::{binary, charm_dir, model, temp_dir, workspace_root};
use juju_local::state::{ModelState, Secret};
use juju_local::timeline::Change;
use juju_local::timeline::HookRecord;
use juju_local::{DeployOptions, Model};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;

/// The proxy application (deployed under its charm name).
pub const SERVER: &str = "cephfs-server-proxy";
/// The client application (a subordinate).
pub const CLIENT: &str = "filesystem-client";
/// The principal application the client runs next to (the `hello` sample charm).
pub const PRINCIPAL: &str = "web";
/// The shell provider of `interface-tests/filesystem_info/raw-provider`.
pub const RAW: &str = "raw";
/// The client's mountpoint (the double mounts nothing, so any path will do).
pub const MOUNTPOINT: &str = "/srv/shared";
/// The proxy's share.
pub const FSID: &str = "5f4d3c2b-1a09-4e8f-9a7b-6c5d4e3f2a10";

/// A model with the client next to a principal, and the double's state directory.
pub struct Local {
    /// The model.
    pub model: Model,
    /// The `fake-mount` state directory (`<unit>.log`, `<unit>.mounted`).
    pub fake: PathBuf,
    /// Where the charm directories were written.
    pub charms: PathBuf,
}

/// The proxy's config for the share.
pub fn server_config() -> Vec<(String, String)> {
    vec![
        ("fsid".into(), FSID.into()),
        ("sharepoint".into(), "cephfs:/volumes/web".into()),
        (
            "monitor-hosts".into(),
            "10.20.0.11:6789 10.20.0.12:6789".into(),
        ),
    ]
}

/// The URI the proxy publishes for the share, naming `secret` at revision `rev`.
pub fn proxy_uri(secret: &str, rev: u32) -> String {
    format!(
        "cephfs://{USER}@(10.20.0.11%3A6789%2C10.20.0.12%3A6789)/volumes/web?fsid={FSID}&name=cephfs&auth={}&auth-rev={rev}",
        secret.replace(':', "%3A")
    )
}

/// The mount command the client runs for the proxy's share, on `unit`.
pub fn ceph_mount(local: &Local, unit: &str) -> String {
    format!(
        "mount -t ceph -o dev,exec,mon_addr=10.20.0.11:6789/10.20.0.12:6789,rw,secretfile={},suid -- {USER}@{FSID}.cephfs=/volumes/web {MOUNTPOINT}",
        local.key_file(unit).display()
    )
}

impl Local {
    /// A model with `principals` units of the principal and the client next to each, settled.
    pub fn new(name: &str, principals: u32) -> Local {
        let model = model(name);
        let charms = temp_dir(&format!("{name}-charms"));
        let fake = temp_dir(&format!("{name}-fake-mount"));
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
        let local = Local {
            model,
            fake,
            charms,
        };
        local.deploy_client(CLIENT);
        local
    }

    /// Deploys another filesystem-client application as `app` next to the principal.
    pub fn deploy_client(&self, app: &str) {
        self.model
            .deploy(
                &charm_dir(CLIENT, &self.charms),
                DeployOptions {
                    app: Some(app.into()),
                    config: vec![("mountpoint".into(), MOUNTPOINT.into())],
                    env: vec![
                        (
                            "FILESYSTEM_CLIENT_WRAPPER".into(),
                            binary("fake-mount").display().to_string(),
                        ),
                        (FAKE_DIR_ENV.into(), self.fake.display().to_string()),
                    ],
                    ..Default::default()
                },
            )
            .unwrap();
        self.model
            .relate(
                &format!("{PRINCIPAL}:juju-info"),
                &format!("{app}:juju-info"),
            )
            .unwrap();
        self.settle();
    }

    /// Adds the proxy with `units` units, configured, with the key given by `set-auth`.
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
        let out = self.set_auth(KEY);
        assert_eq!(out.status, "completed", "{out:?}");
        self
    }

    /// Adds the shell provider (one unit), deployed as `raw`.
    pub fn with_raw_provider(self) -> Local {
        let dir = self.charms.join("raw-provider");
        std::fs::create_dir_all(&dir).unwrap();
        let src = workspace_root().join("interface-tests/filesystem_info/raw-provider");
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

    /// Runs `set-auth` on the proxy leader with the fixture user.
    pub fn set_auth(&self, key: &str) -> juju_local::ActionOutcome {
        let leader = self.leader(SERVER);
        let params = json!({"username": USER, "key": key});
        self.model
            .run_action_json(&leader, "set-auth", params.as_object().cloned().unwrap())
            .unwrap()
    }

    /// Relates client application `client` to `provider` on `filesystem`; returns the id.
    pub fn relate(&self, client: &str, provider: &str) -> u64 {
        let rel = self
            .model
            .relate(
                &format!("{client}:filesystem"),
                &format!("{provider}:filesystem"),
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

    /// An application's status as `(status, message)`.
    pub fn app_status(&self, app: &str) -> (String, String) {
        let st = self.state();
        let a = &st.applications[app];
        (a.status.status.clone(), a.status.message.clone())
    }

    /// What `fake-mount` logged for `unit` (mount and umount lines, key file digests).
    pub fn fake_log(&self, unit: &str) -> Vec<String> {
        std::fs::read_to_string(self.fake.join(format!("{}.log", unit.replace('/', "-"))))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// What `fake-mount` has mounted for `unit`.
    pub fn fake_mounted(&self, unit: &str) -> Vec<String> {
        std::fs::read_to_string(
            self.fake
                .join(format!("{}.mounted", unit.replace('/', "-"))),
        )
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
    }

    /// Forgets every mount of `unit`, as a reboot would.
    pub fn reboot(&self, unit: &str) {
        let _ = std::fs::remove_file(
            self.fake
                .join(format!("{}.mounted", unit.replace('/', "-"))),
        );
    }

    /// The key file of client unit `unit` (in its charm directory).
    pub fn key_file(&self, unit: &str) -> PathBuf {
        self.state()
            .unit(unit)
            .unwrap()
            .charm_dir
            .join("cephfs.key")
    }

    /// What `unit`'s stored state holds under `key`.
    pub fn stored(&self, unit: &str, key: &str) -> Option<Value> {
        let st = self.state();
        let dir = st.unit(unit).unwrap().charm_dir.clone();
        let text = std::fs::read_to_string(dir.join(".charm-state.json")).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        doc["stored"].get(key).cloned()
    }
}

/// The line the double logs for a key file of mode 0600 holding `key`.
pub fn key_file_line(key: &str) -> String {
    key_line(0o600, key)
}

/// One bag of a relation.
pub fn bag(st: &ModelState, rel: u64, owner: &str) -> BTreeMap<String, String> {
    st.bag(rel, owner).unwrap_or_default()
}

/// The peer application bag of `app` (its `server-peers` relation).
pub fn peer_bag(st: &ModelState, app: &str) -> BTreeMap<String, String> {
    let rel = st
        .relations
        .iter()
        .find(|(_, r)| {
            r.endpoints
                .iter()
                .all(|e| e.app == app && e.endpoint == "server-peers")
        })
        .map(|(id, _)| *id)
        .expect("the peer relation");
    bag(st, rel, app)
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

/// Fails if `secret` appears in what charms printed, logged, passed to hook tools, or changed.
pub fn assert_never_shown(records: &[HookRecord], secret: &str) {
    for r in records {
        assert_not_shown(r, secret, &r.changes);
    }
}

/// Like [`assert_never_shown`] but databags may hold it (a `plain:` provider's endpoint).
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
