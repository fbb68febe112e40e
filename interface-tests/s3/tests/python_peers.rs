//! The s3 contract against the real published Python library: small `ops` charms on
//! `object-storage-charmlib` 1.0.0 (`interface-tests/s3/python/`, s3 v1, `version` key) talking
//! through juju-local to each other and to our Rust charms (s3 v1 with v0 fallback), and both
//! sides of each against v0 behaviour (shell-script fakes speaking the v0 wire).
//!
//! Each pairing runs the contract's scenarios: request, credentials, rotation, leader change,
//! relation removed. What both sides see is asserted: the bags, the secrets, the Python charms'
//! own events (`py.*`, credentials as 16-hex SHA-256 prefixes) and the Rust library events.
//!
//! Needs the debug binaries (`cargo build --workspace --bins`) and `make python-peers`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use interface_tests_common::python::python_charm_dir;
use interface_tests_common::{charm_dir, charm_events, failure_details, model, timeline_len};
use juju_local::{DeployOptions, Model};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const PY_PROVIDER: &str = "interface-tests/s3/python/provider";
const PY_REQUIRER: &str = "interface-tests/s3/python/requirer";

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The digest the Python charms record instead of a credential.
fn digest(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A copy of a shell-script fake charm (metadata, config if any, executable `dispatch`).
fn fake_dir(source: &str, dir: &Path) -> PathBuf {
    let src = interface_tests_common::workspace_root().join(source);
    std::fs::create_dir_all(dir).unwrap();
    for file in ["metadata.yaml", "config.yaml", "dispatch"] {
        if src.join(file).exists() {
            std::fs::copy(src.join(file), dir.join(file)).unwrap();
        }
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("dispatch"), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir.to_path_buf()
}

const FAKE_V0_PROVIDER: &str = "interface-tests/s3/fake-provider";
const FAKE_V0_REQUIRER: &str = "interface-tests/s3/fake-requirer";
const CHANGED: &str = "s3.credentials_changed";

struct Peers {
    m: Model,
    charms: PathBuf,
}

impl Peers {
    fn new(name: &str) -> Peers {
        let m = model(name);
        let charms = m.dir().parent().unwrap().join("charms");
        Peers { m, charms }
    }

    /// Deploys a Python charm (`source` under the repository), a shell-script fake
    /// (`interface-tests/s3/fake-*`) or a Rust charm of `charms/`.
    fn deploy(&self, source: &str, app: &str, units: u32, config: &[(&str, &str)]) {
        let dir = if source.contains("/fake-") {
            fake_dir(source, &self.charms.join(app))
        } else if source.contains('/') {
            python_charm_dir(Path::new(source), &self.charms, app)
        } else {
            charm_dir(source, &self.charms)
        };
        let config = config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.m
            .deploy(
                &dir,
                DeployOptions {
                    app: Some(app.into()),
                    units: Some(units),
                    config,
                    ..Default::default()
                },
            )
            .unwrap();
    }

    fn settle(&self) {
        let report = self.m.settle(400).unwrap();
        assert!(
            report.errors.is_empty(),
            "hooks failed: {:?}\n{}",
            report.errors,
            failure_details(&self.m)
        );
    }

    fn config(&self, app: &str, set: &[(&str, &str)]) {
        let set: Vec<(String, String)> = set
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.m.config(app, &set, &[]).unwrap();
        self.settle();
    }

    fn bag(&self, relation: u64, owner: &str) -> BTreeMap<String, String> {
        self.m
            .state()
            .unwrap()
            .bag(relation, owner)
            .unwrap_or_default()
    }

    fn mark(&self) -> usize {
        timeline_len(&self.m)
    }

    /// The fields of the events `name` emitted by `unit` after `mark`.
    fn events(&self, mark: usize, name: &str, unit: &str) -> Vec<Value> {
        charm_events(&self.m, mark, name)
            .into_iter()
            .filter(|(u, _)| u == unit)
            .map(|(_, f)| f)
            .collect()
    }

    /// The connection info of the last `py.changed` of `unit` after `mark`.
    fn last_info(&self, mark: usize, unit: &str) -> Value {
        let events = self.events(mark, "py.changed", unit);
        let Some(last) = events.last() else {
            panic!("{unit} emitted no py.changed after {mark}");
        };
        last["info"].clone()
    }

    fn status(&self, unit: &str) -> (String, String) {
        let st = self.m.state().unwrap();
        let u = st.unit(unit).unwrap();
        (u.status.status.clone(), u.status.message.clone())
    }

    /// The units of `app` among the emitters of `name` after `mark`, sorted.
    fn emitters(&self, mark: usize, name: &str) -> Vec<String> {
        let mut units: Vec<String> = charm_events(&self.m, mark, name)
            .into_iter()
            .map(|(u, _)| u)
            .collect();
        units.sort();
        units
    }

    /// The operator's credentials for the s3-integrator: a user secret, granted, in its option.
    fn user_credentials(&self, app: &str, access: &str, secret: &str) {
        let uri = self
            .m
            .add_secret(
                "s3-creds",
                &kv(&[("access-key", access), ("secret-key", secret)]),
            )
            .unwrap();
        self.m.grant_secret("s3-creds", app).unwrap();
        self.config(app, &[("credentials", uri.as_str())]);
    }

    /// A new revision of the operator's credentials.
    fn rotate_user_credentials(&self, access: &str, secret: &str) {
        self.m
            .update_secret(
                "s3-creds",
                &kv(&[("access-key", access), ("secret-key", secret)]),
            )
            .unwrap();
        self.settle();
    }

    /// The secret labelled `label` by its owner, with its consumers.
    fn secret_labelled(&self, label: &str) -> Option<juju_local::state::Secret> {
        self.m
            .state()
            .unwrap()
            .secrets
            .into_values()
            .find(|s| s.label.as_deref() == Some(label))
    }

    /// Secret ids owned by `app`, with their latest revision.
    fn secrets_of(&self, app: &str) -> Vec<(String, u32)> {
        self.m
            .state()
            .unwrap()
            .secrets
            .into_values()
            .filter(|s| s.owner.name == app)
            .map(|s| (s.id, s.latest))
            .collect()
    }
}

#[test]
fn python_v1_requirer_and_python_v1_provider_baseline() {
    let p = Peers::new("py-s3-baseline");
    p.deploy(
        PY_PROVIDER,
        "prov",
        2,
        &[("access-key", "AK-1"), ("secret-key", "SK-1")],
    );
    p.deploy(
        PY_REQUIRER,
        "req",
        1,
        &[("bucket", "wanted"), ("path", "backups/")],
    );
    let rel = p.m.relate("req", "prov").unwrap();
    p.settle();

    // Request: the requirer's leader writes requested-secrets (app and own unit bag), version and
    // its request; the provider's leader writes version at once.
    assert_eq!(
        p.bag(rel, "req"),
        BTreeMap::from([
            ("bucket".into(), "wanted".into()),
            ("path".into(), "backups/".into()),
            (
                "requested-secrets".into(),
                r#"["access-key", "secret-key"]"#.into()
            ),
            ("version".into(), "1".into()),
        ])
    );
    assert_eq!(
        p.bag(rel, "req/0")["requested-secrets"],
        r#"["access-key", "secret-key"]"#
    );
    // Credentials delivered in the library's secret, the request honoured, nothing plain.
    let provider = p.bag(rel, "prov");
    assert_eq!(provider["bucket"], "wanted");
    assert_eq!(provider["path"], "backups/");
    assert_eq!(provider["version"], "1");
    assert!(provider["secret-extra"].starts_with("secret:"));
    assert!(!provider.contains_key("access-key") && !provider.contains_key("secret-key"));
    let st = p.m.state().unwrap();
    let secret = st
        .secrets
        .values()
        .find(|s| s.label.as_deref() == Some(&format!("s3-credentials.{rel}.extra.secret")))
        .expect("the owner-side label is <endpoint>.<id>.extra.secret");
    assert_eq!(secret.owner.name, "prov");
    assert_eq!(
        secret.consumers["req/0"].label.as_deref(),
        Some(format!("s3-credentials.{rel}.extra.secret").as_str()),
        "the requirer registered its own label"
    );
    let requested = p.events(0, "py.requested", "prov/0");
    assert!(
        requested
            .iter()
            .all(|e| e["requirer_v0"] == json!(false) && e["requested"]["bucket"] == "wanted"),
        "{requested:?}"
    );
    assert!(
        p.events(0, "py.requested", "prov/1").is_empty(),
        "leader only"
    );
    let info = p.last_info(0, "req/0");
    assert_eq!(
        info,
        json!({"access-key": digest("AK-1"), "secret-key": digest("SK-1"), "bucket": "wanted",
               "path": "backups/", "endpoint": "http://s3.local:9000"}),
        "no version, secret-extra or data in the info"
    );

    // A new request (update_requests from config-changed) is honoured; the credentials stay.
    let mark = p.mark();
    p.config("req", &[("bucket", "other")]);
    assert_eq!(p.bag(rel, "req")["bucket"], "other");
    assert_eq!(p.bag(rel, "prov")["bucket"], "other");
    let info = p.last_info(mark, "req/0");
    assert_eq!(
        (&info["bucket"], &info["secret-key"]),
        (&json!("other"), &json!(digest("SK-1")))
    );

    // Rotation: a new secret revision; the requirer hears it through secret-changed.
    let mark = p.mark();
    p.config("prov", &[("access-key", "AK-2"), ("secret-key", "SK-2")]);
    assert_eq!(p.secrets_of("prov"), vec![(secret.id.clone(), 2)]);
    let changed = p.events(mark, "py.changed", "req/0");
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["hook"], "secret-changed");
    assert_eq!(changed[0]["info"]["access-key"], digest("AK-2"));
    assert_eq!(changed[0]["info"]["secret-key"], digest("SK-2"));

    // Leader change: the new leader finds the secret by its label and updates it.
    let mark = p.mark();
    p.m.set_leader("prov/1").unwrap();
    p.settle();
    p.config("prov", &[("access-key", "AK-3"), ("secret-key", "SK-3")]);
    assert_eq!(p.secrets_of("prov"), vec![(secret.id.clone(), 3)]);
    assert_eq!(p.events(mark, "py.published", "prov/1").len(), 1);
    assert!(p.events(mark, "py.published", "prov/0").is_empty());
    assert_eq!(p.last_info(mark, "req/0")["secret-key"], digest("SK-3"));

    // Relation removed: gone on the requirer.
    let mark = p.mark();
    p.m.remove_relation("req", Some("prov")).unwrap();
    p.settle();
    assert_eq!(
        p.events(mark, "py.gone", "req/0"),
        vec![json!({"relation": rel})]
    );
}

#[test]
fn python_v1_requirer_and_rust_v1_provider() {
    let p = Peers::new("py-s3-rust-provider");
    p.deploy(
        "s3-integrator",
        "s3-integrator",
        2,
        &[("endpoint", "http://minio:9000")],
    );
    p.deploy(PY_REQUIRER, "req", 2, &[]);
    p.deploy(
        PY_REQUIRER,
        "named",
        1,
        &[("bucket", "named-bucket"), ("path", "p/")],
    );
    p.settle();
    p.user_credentials("s3-integrator", "AK-R1", "SK-R1");
    let unnamed = p.m.relate("req", "s3-integrator").unwrap();
    let named = p.m.relate("named", "s3-integrator").unwrap();
    p.settle();

    // Request: the Python requirer finds `version` in our provider's bag (written at
    // relation-created), so it takes the v1 path: no relation-<id>, no bucket asked.
    let req = p.bag(unnamed, "req");
    assert_eq!(req["version"], "1");
    assert_eq!(req["requested-secrets"], r#"["access-key", "secret-key"]"#);
    assert!(!req.contains_key("bucket"), "{req:?}");
    let provider = p.bag(unnamed, "s3-integrator");
    assert_eq!(provider["version"], "1");
    assert_eq!(provider["lib-version"], "1.0");
    assert!(!provider.contains_key("access-key") && !provider.contains_key("bucket"));
    // Credentials: in our relation secret, which the Python requirer reads under its own label.
    let label = format!("s3-credentials.{unnamed}.extra.secret");
    let secret = p.secret_labelled(&label).expect("the relation secret");
    assert_eq!(provider["secret-extra"], format!("secret:{}", secret.id));
    assert_eq!(secret.owner.name, "s3-integrator");
    for unit in ["req/0", "req/1"] {
        assert_eq!(
            secret.consumers[unit].label.as_deref(),
            Some(label.as_str()),
            "{unit} registered its label"
        );
    }
    let info = p.last_info(0, "req/0");
    assert_eq!(
        info,
        json!({"access-key": digest("AK-R1"), "secret-key": digest("SK-R1"),
               "endpoint": "http://minio:9000", "lib-version": 1.0}),
        "the PyPI reader drops `version` but shows our `lib-version` as a float (interfaces-current 1.5)"
    );
    assert_eq!(p.last_info(0, "req/1"), info, "a follower reads the same");
    // A v1 requirer that names its bucket and path gets them.
    let sent = p.bag(named, "s3-integrator");
    assert_eq!(
        (sent["bucket"].as_str(), sent["path"].as_str()),
        ("named-bucket", "p/")
    );
    assert_eq!(p.last_info(0, "named/0")["bucket"], "named-bucket");
    let requested = charm_events(&p.m, 0, "s3.credentials_requested");
    assert!(
        requested
            .iter()
            .all(|(u, f)| u == "s3-integrator/0" && f["v1"] == true)
    );

    // Rotation: a new revision of the operator's secret, then of our relation secret; the
    // Python requirer hears it through secret-changed.
    let mark = p.mark();
    p.rotate_user_credentials("AK-R2", "SK-R2");
    for unit in ["req/0", "req/1"] {
        let changed = p.events(mark, "py.changed", unit);
        assert_eq!(changed.len(), 1, "{unit}: {changed:?}");
        assert_eq!(changed[0]["hook"], "secret-changed");
        assert_eq!(changed[0]["info"]["secret-key"], digest("SK-R2"));
    }
    assert_eq!(p.secret_labelled(&label).unwrap().latest, 2);

    // Leader changes on both sides, then a rotation handled by the provider's new leader.
    p.m.set_leader("s3-integrator/1").unwrap();
    p.m.set_leader("req/1").unwrap();
    p.settle();
    assert!(
        !p.bag(unnamed, "req").contains_key("bucket"),
        "the new leader keeps v1"
    );
    let mark = p.mark();
    p.rotate_user_credentials("AK-R3", "SK-R3");
    assert_eq!(p.last_info(mark, "named/0")["access-key"], digest("AK-R3"));
    assert_eq!(p.last_info(mark, "req/0")["access-key"], digest("AK-R3"));
    assert_eq!(p.last_info(mark, "req/1")["access-key"], digest("AK-R3"));

    // Relation removed: gone on the Python side, our relation secret removed.
    let mark = p.mark();
    p.m.remove_relation("req", Some("s3-integrator")).unwrap();
    p.settle();
    assert_eq!(
        p.events(mark, "py.gone", "req/0"),
        vec![json!({"relation": unnamed})]
    );
    assert!(p.events(mark, "py.gone", "named/0").is_empty());
    assert!(p.secret_labelled(&label).is_none());
}

#[test]
fn rust_v1_requirer_and_python_v1_provider() {
    let p = Peers::new("py-s3-rust-requirer");
    let creds = [("access-key", "AK-P1"), ("secret-key", "SK-P1")];
    p.deploy(PY_PROVIDER, "prov", 1, &creds);
    p.deploy(
        PY_PROVIDER,
        "provb",
        2,
        &[creds[0], creds[1], ("bucket", "cfg-bucket")],
    );
    p.deploy("s3-consumer", "cons", 1, &[("path", "mine/")]);
    p.deploy("s3-consumer", "consb", 2, &[]);
    let plain = p.m.relate("cons", "prov").unwrap();
    let configured = p.m.relate("consb", "provb").unwrap();
    p.settle();

    // Request: our requirer speaks v1 (both version keys), asks for its path and no bucket.
    assert_eq!(
        p.bag(plain, "cons"),
        BTreeMap::from([
            ("lib-version".into(), "1.0".into()),
            ("path".into(), "mine/".into()),
            (
                "requested-secrets".into(),
                r#"["access-key", "secret-key"]"#.into()
            ),
            ("version".into(), "1".into()),
        ])
    );
    let requested = p.events(0, "py.requested", "prov/0");
    assert!(!requested.is_empty());
    assert!(
        requested
            .iter()
            .all(|e| e["requirer_v0"] == json!(false) && e["requested"] == json!({"path": "mine/"})),
        "{requested:?}"
    );
    // Credentials: in the Python library's secret, which our requirer reads under its label;
    // no bucket anywhere, and our requirer no longer insists on one (the v0 interop gap is gone).
    let provider = p.bag(plain, "prov");
    assert!(!provider.contains_key("access-key") && !provider.contains_key("bucket"));
    let label = format!("s3-credentials.{plain}.extra.secret");
    let secret = p.secret_labelled(&label).expect("the library's secret");
    assert_eq!(provider["secret-extra"], format!("secret:{}", secret.id));
    assert_eq!(
        secret.consumers["cons/0"].label.as_deref(),
        Some(label.as_str())
    );
    let changed = p.events(0, CHANGED, "cons/0");
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["bucket"], "");
    assert_eq!(
        p.status("cons/0"),
        (
            "active".into(),
            "credentials for no bucket path mine/ at http://s3.local:9000".into()
        )
    );

    // With the bucket configured on the provider: every consumer unit gets it once.
    assert_eq!(
        p.emitters(0, CHANGED)
            .iter()
            .filter(|u| u.starts_with("consb/"))
            .count(),
        2
    );
    assert_eq!(p.events(0, CHANGED, "consb/1")[0]["bucket"], "cfg-bucket");
    assert_eq!(p.status("consb/1").0, "active");

    // Rotation: a new revision of the library's secret; our units hear it by secret-changed.
    let mark = p.mark();
    p.config("provb", &[("access-key", "AK-P2"), ("secret-key", "SK-P2")]);
    let csecret = p
        .secret_labelled(&format!("s3-credentials.{configured}.extra.secret"))
        .unwrap();
    assert_eq!(csecret.latest, 2);
    assert_eq!(p.emitters(mark, CHANGED), ["consb/0", "consb/1"]);

    // Leader changes on both sides, then a rotation by the provider's new leader.
    let mark = p.mark();
    p.m.set_leader("provb/1").unwrap();
    p.m.set_leader("consb/1").unwrap();
    p.settle();
    assert!(
        !p.bag(configured, "consb").contains_key("bucket"),
        "still v1, no relation-<id>"
    );
    p.config("provb", &[("access-key", "AK-P3"), ("secret-key", "SK-P3")]);
    assert_eq!(p.events(mark, "py.published", "provb/1").len(), 1);
    assert!(p.events(mark, "py.published", "provb/0").is_empty());
    assert_eq!(p.emitters(mark, CHANGED), ["consb/0", "consb/1"]);

    // Relation removed.
    let mark = p.mark();
    p.m.remove_relation("consb", Some("provb")).unwrap();
    p.settle();
    assert_eq!(
        p.emitters(mark, "s3.credentials_gone"),
        ["consb/0", "consb/1"]
    );
}

#[test]
fn both_requirers_fall_back_to_v0_against_a_v0_provider() {
    let p = Peers::new("py-s3-v0-provider");
    let bag =
        |ak: &str| format!("{{access-key: {ak}, secret-key: SK-{ak}, endpoint: 'http://v0:9000'}}");
    p.deploy(FAKE_V0_PROVIDER, "v0", 1, &[("bag", &bag("AK0"))]);
    p.deploy("s3-consumer", "cons", 2, &[]);
    p.deploy(PY_REQUIRER, "req", 2, &[]);
    let rust = p.m.relate("cons", "v0").unwrap();
    let python = p.m.relate("req", "v0").unwrap();
    p.settle();

    // Request: a provider bag without a version key is v0 to both libraries: each leader asks
    // for relation-<id>, next to its v1 keys (a v0 provider ignores them).
    assert_eq!(p.bag(rust, "cons")["bucket"], format!("relation-{rust}"));
    assert_eq!(p.bag(python, "req")["bucket"], format!("relation-{python}"));
    for (rel, app) in [(rust, "cons"), (python, "req")] {
        assert_eq!(p.bag(rel, app)["version"], "1", "{app}");
    }
    // Credentials: plain, read by both (the hook in which a leader falls back emits nothing,
    // interfaces-current 1.6; the next relation-changed does, so when depends on hook order).
    assert_eq!(p.last_info(0, "req/1")["access-key"], digest("AK0"));
    assert_eq!(p.last_info(0, "req/1")["endpoint"], "http://v0:9000");
    assert!(p.emitters(0, CHANGED).contains(&"cons/1".to_string()));

    // Rotation (the v0 provider writes new plain keys): every unit of both hears it once.
    let mark = p.mark();
    p.config("v0", &[("bag", &bag("AK1"))]);
    assert_eq!(p.emitters(mark, CHANGED), ["cons/0", "cons/1"]);
    for unit in ["req/0", "req/1"] {
        let changed = p.events(mark, "py.changed", unit);
        assert_eq!(changed.len(), 1, "{unit}: {changed:?}");
        assert_eq!(changed[0]["info"]["secret-key"], digest("SK-AK1"));
    }
    assert_eq!(
        p.status("cons/0").1,
        "credentials for no bucket at http://v0:9000"
    );

    // Leader change: the new leaders keep the request; another rotation reaches everyone.
    p.m.set_leader("cons/1").unwrap();
    p.m.set_leader("req/1").unwrap();
    p.settle();
    assert_eq!(p.bag(rust, "cons")["bucket"], format!("relation-{rust}"));
    assert_eq!(p.bag(python, "req")["bucket"], format!("relation-{python}"));
    let mark = p.mark();
    p.config("v0", &[("bag", &bag("AK2"))]);
    assert_eq!(p.emitters(mark, CHANGED), ["cons/0", "cons/1"]);
    assert_eq!(p.last_info(mark, "req/0")["access-key"], digest("AK2"));

    // Relation removed: gone on both.
    let mark = p.mark();
    p.m.remove_relation("cons", Some("v0")).unwrap();
    p.m.remove_relation("req", Some("v0")).unwrap();
    p.settle();
    assert_eq!(
        p.emitters(mark, "s3.credentials_gone"),
        ["cons/0", "cons/1"]
    );
    assert_eq!(
        p.events(mark, "py.gone", "req/1"),
        vec![json!({"relation": python})]
    );
}

#[test]
fn both_providers_answer_a_v0_requirer_in_plain() {
    let p = Peers::new("py-s3-v0-requirer");
    p.deploy("s3-integrator", "s3-integrator", 2, &[]);
    p.deploy(
        PY_PROVIDER,
        "prov",
        2,
        &[("access-key", "AK-P1"), ("secret-key", "SK-P1")],
    );
    p.deploy(FAKE_V0_REQUIRER, "old", 1, &[]);
    p.deploy(FAKE_V0_REQUIRER, "oldb", 1, &[]);
    p.settle();
    p.user_credentials("s3-integrator", "AK-R1", "SK-R1");
    let rust = p.m.relate("old", "s3-integrator").unwrap();
    let python = p.m.relate("oldb", "prov").unwrap();
    p.settle();

    // Request: the v0 requirer writes relation-<id> only.
    assert_eq!(
        p.bag(rust, "old"),
        BTreeMap::from([("bucket".into(), format!("relation-{rust}"))])
    );
    // Credentials, plain from both (no requested-secrets: no secret). Ours honours the bucket
    // asked for; the Python library hides a v0 request, so it sends none (README divergence).
    let ours = p.bag(rust, "s3-integrator");
    assert_eq!(ours["access-key"], "AK-R1");
    assert_eq!(ours["secret-key"], "SK-R1");
    assert_eq!(ours["bucket"], format!("relation-{rust}"));
    assert_eq!(
        ours["data"],
        format!(r#"{{"bucket": "relation-{rust}"}}"#),
        "the v0 cache"
    );
    assert!(!ours.contains_key("secret-extra"));
    let theirs = p.bag(python, "prov");
    assert_eq!(theirs["access-key"], "AK-P1");
    assert!(!theirs.contains_key("bucket") && !theirs.contains_key("secret-extra"));
    let requested = p.events(0, "py.requested", "prov/0");
    assert!(
        requested.iter().all(|e| e["requirer_v0"] == json!(true)),
        "{requested:?}"
    );
    let state = p.m.state().unwrap();
    assert!(
        state.secrets.values().all(|s| !s
            .label
            .as_deref()
            .is_some_and(|l| l.ends_with(".extra.secret"))),
        "no relation secret for a v0 requirer"
    );

    // Rotation: new plain keys from both.
    p.rotate_user_credentials("AK-R2", "SK-R2");
    assert_eq!(p.bag(rust, "s3-integrator")["access-key"], "AK-R2");
    p.config("prov", &[("access-key", "AK-P2"), ("secret-key", "SK-P2")]);
    assert_eq!(p.bag(python, "prov")["access-key"], "AK-P2");

    // Leader change on both providers: the relations stay plain, nothing is lost.
    p.m.set_leader("s3-integrator/1").unwrap();
    p.m.set_leader("prov/1").unwrap();
    p.settle();
    p.rotate_user_credentials("AK-R3", "SK-R3");
    assert_eq!(p.bag(rust, "s3-integrator")["access-key"], "AK-R3");
    assert!(!p.bag(rust, "s3-integrator").contains_key("secret-extra"));
    let mark = p.mark();
    p.config("prov", &[("access-key", "AK-P3"), ("secret-key", "SK-P3")]);
    assert_eq!(p.events(mark, "py.published", "prov/1").len(), 1);
    assert_eq!(p.bag(python, "prov")["access-key"], "AK-P3");

    // Relation removed: the providers carry on serving nothing.
    p.m.remove_relation("old", Some("s3-integrator")).unwrap();
    p.m.remove_relation("oldb", Some("prov")).unwrap();
    p.settle();
    assert_eq!(p.status("s3-integrator/1").1, "serving 0 relations");
}
