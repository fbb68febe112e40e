//! The table against juju-local: real dispatch processes, real hook tools, Juju's commit step.
//! `rules-probe` runs each case's steps straight through the hook tools (the framework's own
//! checks bypassed), so every answer is juju-local's.
//!
//! The scene is built once per test process and copied for each case (every case starts from
//! the same model; its writes must not leak into the next).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use interface_tests_common::{binary, juju_local as juju_local_bin, temp_dir, workspace_root};
use juju_local::state::{HookSpec, ModelState};
use juju_local::timeline::HookRecord;
use juju_local::{DeployOptions, Model, ModelOptions};
use juju_rules::op::{Case, Env, Hook, Outcome, Secret};
use juju_rules::probe::{CASE_FILE, Request, STEP_EVENT, Setup};

mod common;

/// A well-formed secret id no secret has.
const MISSING: &str = "secret:cafe0000000000000050";

struct Scene {
    /// The template model directory.
    dir: PathBuf,
    db: u32,
    peers: u32,
    secrets: BTreeMap<Secret, String>,
}

fn probe_charm(into: &Path) -> PathBuf {
    let dir = into.join("rules-probe");
    std::fs::create_dir_all(&dir).unwrap();
    let src = workspace_root().join("interface-tests/juju-rules/probe");
    for f in ["metadata.yaml", "actions.yaml"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    std::os::unix::fs::symlink(binary("rules-probe"), dir.join("dispatch")).unwrap();
    dir
}

fn charm_dir(model: &Model, unit: &str) -> PathBuf {
    model.state().unwrap().unit(unit).unwrap().charm_dir.clone()
}

/// Runs `request` in `unit`'s next dispatch (`update-status` unless given).
fn dispatch(model: &Model, unit: &str, request: &Request, spec: HookSpec) -> HookRecord {
    std::fs::write(
        charm_dir(model, unit).join(CASE_FILE),
        serde_json::to_string(request).unwrap(),
    )
    .unwrap();
    if spec.name == "probe" {
        model.run_action(unit, "probe", &[]).unwrap();
        return model.timeline().unwrap().pop().unwrap();
    }
    model.run_hook(unit, spec).unwrap()
}

fn setup(model: &Model, unit: &str, steps: Vec<Setup>) {
    let rec = dispatch(
        model,
        unit,
        &Request::Setup(steps),
        HookSpec::simple("update-status"),
    );
    assert!(rec.committed, "setup on {unit} failed: {rec:#?}");
}

fn secret_labelled(st: &ModelState, label: &str) -> String {
    st.secrets
        .values()
        .find(|s| s.label.as_deref() == Some(label))
        .map(|s| s.uri())
        .unwrap_or_else(|| panic!("no secret labelled {label}"))
}

fn build_scene() -> Scene {
    let base = temp_dir("rules-scene");
    let model = Model::init(base.join("model"), ModelOptions::new(juju_local_bin())).unwrap();
    let charm = probe_charm(&base);
    for app in ["app", "remote"] {
        let opts = DeployOptions {
            app: Some(app.into()),
            units: Some(2),
            ..Default::default()
        };
        model.deploy(&charm, opts).unwrap();
    }
    let db = model.relate("app:db", "remote:served").unwrap();
    model.settle(500).unwrap();
    let st = model.state().unwrap();
    let peers = st.relation_between("app:peers", None).unwrap();
    let (db, peers) = (u32::try_from(db).unwrap(), u32::try_from(peers).unwrap());
    let bag = |endpoint: &str, relation: u32, app: bool, who: &str| Setup::WriteBag {
        endpoint: endpoint.into(),
        relation,
        app,
        who: who.into(),
    };
    let add = |app_owned: bool, label: &str, value: &str| Setup::SecretAdd {
        app_owned,
        label: label.into(),
        value: value.into(),
    };
    setup(
        &model,
        "app/0",
        vec![
            bag("db", db, false, "app/0"),
            bag("db", db, true, "app"),
            bag("peers", peers, false, "app/0"),
            bag("peers", peers, true, "app"),
            Setup::StateSet {
                who: "app/0".into(),
            },
            add(true, "app-secret", "one"),
            add(false, "unit-secret", "mine"),
        ],
    );
    setup(
        &model,
        "app/1",
        vec![
            bag("db", db, false, "app/1"),
            bag("peers", peers, false, "app/1"),
            Setup::StateSet {
                who: "app/1".into(),
            },
        ],
    );
    setup(
        &model,
        "remote/0",
        vec![
            bag("served", db, false, "remote/0"),
            bag("served", db, true, "remote"),
            add(true, "granted", "r1"),
            add(true, "ungranted", "x"),
        ],
    );
    setup(
        &model,
        "remote/1",
        vec![bag("served", db, false, "remote/1")],
    );
    let st = model.state().unwrap();
    let secrets = BTreeMap::from([
        (Secret::AppOwned, secret_labelled(&st, "app-secret")),
        (Secret::UnitOwned, secret_labelled(&st, "unit-secret")),
        (Secret::Granted, secret_labelled(&st, "granted")),
        (Secret::Ungranted, secret_labelled(&st, "ungranted")),
        (Secret::Missing, MISSING.to_string()),
    ]);
    let granted = secrets[&Secret::Granted].clone();
    setup(
        &model,
        "remote/0",
        vec![Setup::SecretGrant {
            id: granted.clone(),
            endpoint: "served".into(),
            relation: db,
        }],
    );
    setup(
        &model,
        "app/0",
        vec![Setup::SecretGet {
            id: granted.clone(),
        }],
    );
    setup(
        &model,
        "remote/0",
        vec![Setup::SecretSet {
            id: granted,
            value: "r2".into(),
        }],
    );
    setup(
        &model,
        "app/0",
        vec![Setup::SecretSet {
            id: secrets[&Secret::AppOwned].clone(),
            value: "two".into(),
        }],
    );
    let report = model.settle(500).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    Scene {
        dir: model.dir().to_path_buf(),
        db,
        peers,
        secrets,
    }
}

fn scene() -> &'static Scene {
    static SCENE: OnceLock<Scene> = OnceLock::new();
    SCENE.get_or_init(build_scene)
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let (from, to) = (entry.path(), dst.join(entry.file_name()));
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from).unwrap(), &to).unwrap();
        } else if kind.is_dir() {
            copy_dir(&from, &to);
        } else {
            std::fs::copy(&from, &to).unwrap();
        }
    }
}

/// A copy of the scene's model: the state file names the units' charm directories by absolute
/// path, so those are moved to the copy.
fn fresh_model(scene: &Scene, name: &str) -> Model {
    let dir = temp_dir(name).join("model");
    copy_dir(&scene.dir, &dir);
    let state = dir.join("state.json");
    let text = std::fs::read_to_string(&state).unwrap();
    let old = scene.dir.to_string_lossy();
    let new = dir.canonicalize().unwrap();
    std::fs::write(&state, text.replace(old.as_ref(), &new.to_string_lossy())).unwrap();
    Model::open(&dir, ModelOptions::new(juju_local_bin())).unwrap()
}

fn spec(hook: Hook, db: u32) -> HookSpec {
    match hook {
        Hook::UpdateStatus => HookSpec::simple("update-status"),
        Hook::Departed => HookSpec {
            relation: Some(u64::from(db)),
            remote_unit: Some("remote/1".into()),
            ..HookSpec::simple("db-relation-departed")
        },
        Hook::Broken => HookSpec {
            relation: Some(u64::from(db)),
            ..HookSpec::simple("db-relation-broken")
        },
        Hook::Action => HookSpec::simple("probe"),
    }
}

fn run_case(index: usize, case: &Case) -> Vec<Outcome> {
    let scene = scene();
    let model = fresh_model(scene, &format!("rules-case-{index}"));
    let env = Env {
        unit: case.who.unit().to_string(),
        db: scene.db,
        peers: scene.peers,
        secrets: scene.secrets.clone(),
    };
    let request = Request::Case { case: index, env };
    let rec = dispatch(&model, case.who.unit(), &request, spec(case.hook, scene.db));
    let outcomes: Vec<Outcome> = rec
        .events
        .iter()
        .filter(|e| e.event == STEP_EVENT)
        .map(|e| serde_json::from_value(e.fields.clone()).unwrap())
        .collect();
    assert_eq!(
        outcomes.len(),
        case.steps.len(),
        "{}: the probe reported {outcomes:?}: {rec:#?}",
        case.name
    );
    common::after_commit(outcomes, rec.committed)
}

#[test]
fn juju_local_answers_every_case_as_juju_does() {
    let failures = common::check_all("juju-local", |i, case| Some(run_case(i, case)));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_copied_scene_is_the_scene() {
    // Guards the copy: a case must see the scene's data, not an empty model.
    let scene = scene();
    let model = fresh_model(scene, "rules-copy");
    let st = model.state().unwrap();
    assert_eq!(
        st.bag(u64::from(scene.db), "remote").unwrap()["who"],
        "remote"
    );
    assert_eq!(
        st.unit("app/0")
            .unwrap()
            .charm_dir
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .parent(),
        Some(model.dir())
    );
}
