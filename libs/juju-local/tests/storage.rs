//! Storage: instances are directories per unit, attached before install (`--storage` at deploy
//! or metadata's minimum), added by `storage-add` when its hook commits, detached after stop;
//! `storage-get` and `storage-list` answer as Juju does.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use juju_local::DeployOptions;
use juju_local::state::HookSpec;

const META: &str = "name: store\nstorage:\n  data:\n    type: filesystem\n    location: /srv/data\n    multiple: {range: 1-3}\n  cache:\n    type: filesystem\n    multiple: {range: 0-}\n";

fn deploy_store(m: &juju_local::Model, charm: &std::path::Path, storage: Vec<(String, u32)>) {
    m.deploy(
        charm,
        DeployOptions {
            app: Some("store".into()),
            units: Some(2),
            storage,
            ..Default::default()
        },
    )
    .unwrap();
}

#[test]
fn storage_is_attached_before_install_as_directories_per_instance() {
    let (m, base) = model("storage-attach");
    let ch = charm(
        &base,
        "store",
        META,
        None,
        None,
        &[(
            "data-storage-attached",
            "echo \"$JUJU_STORAGE_ID $JUJU_STORAGE_KIND\" > \"$JUJU_STORAGE_LOCATION/who\"\n",
        )],
    );
    deploy_store(&m, &ch, vec![("data".into(), 2)]);
    m.settle(100).unwrap();
    // Indexes are model-wide: store/0 has data/0 and data/1, store/1 data/2 and data/3.
    let hooks = hooks_of(&m, "store/1");
    assert_eq!(hooks[0], "data-storage-attached");
    assert_eq!(hooks[1], "data-storage-attached");
    assert_eq!(hooks[2], "install");
    let st = m.state().unwrap();
    let unit = st.unit("store/1").unwrap();
    let ids: Vec<&String> = unit.storage.keys().collect();
    assert_eq!(ids, ["data/2", "data/3"]);
    let loc = &unit.storage["data/3"].location;
    assert!(loc.starts_with(m.dir().join("units/store-1/storage")));
    assert_eq!(
        std::fs::read_to_string(loc.join("who")).unwrap(),
        "data/3 filesystem\n"
    );
    // cache has a minimum of 0: none unless asked for.
    assert!(!unit.storage.keys().any(|k| k.starts_with("cache/")));

    let p = probe(&m, "store/1", "storage-list --format=json data");
    assert_eq!(p.stdout.trim(), r#"["data/2","data/3"]"#);
    let p = probe(&m, "store/1", "storage-get --format=json -s data/2");
    let v: serde_json::Value = serde_json::from_str(&p.stdout).unwrap();
    assert_eq!(v["kind"], "filesystem");
    assert_eq!(
        v["location"],
        unit.storage["data/2"].location.display().to_string()
    );
    let p = probe(&m, "store/1", "storage-get -s data/2 location");
    assert_eq!(
        p.stdout.trim(),
        unit.storage["data/2"].location.display().to_string()
    );
    // Another unit's instance is not this unit's.
    let p = probe(&m, "store/1", "storage-get --format=json -s data/0");
    assert_eq!(p.code, 2);
    assert!(p.stderr.contains("not found"), "{}", p.stderr);
    // Inside a storage hook, storage-get defaults to the hook's instance.
    let spec = HookSpec {
        env: [("JUJU_STORAGE_ID".to_string(), "data/3".to_string())].into(),
        ..HookSpec::simple("data-storage-attached")
    };
    let p = probe_in(&m, "store/1", spec, "storage-get kind", 0);
    assert_eq!(p.stdout.trim(), "filesystem");
}

#[test]
fn deploy_storage_is_checked_against_metadata() {
    let (m, base) = model("storage-deploy");
    let ch = charm(&base, "store", META, None, None, &[]);
    for (storage, why) in [
        (vec![("data".to_string(), 4)], "allows 1-3"),
        (vec![("data".to_string(), 0)], "allows 1-3"),
        (vec![("logs".to_string(), 1)], "\"logs\" not found"),
    ] {
        let err = m
            .deploy(
                &ch,
                DeployOptions {
                    storage,
                    ..Default::default()
                },
            )
            .unwrap_err();
        assert!(err.to_string().contains(why), "{err}");
    }
}

#[test]
fn storage_add_attaches_when_the_hook_commits() {
    let (m, base) = model("storage-add");
    let ch = charm(&base, "store", META, None, None, &[]);
    deploy_store(&m, &ch, vec![]);
    m.settle(100).unwrap();
    let before = last_seq(&m);
    // A failed hook commits nothing: no instance.
    let p = probe_in(
        &m,
        "store/0",
        HookSpec::simple("update-status"),
        "storage-add cache=2",
        1,
    );
    assert_eq!(p.code, 0, "{}", p.stderr);
    assert_eq!(p.record.outcome, "failed");
    m.settle(100).unwrap();
    assert!(
        m.state()
            .unwrap()
            .unit("store/0")
            .unwrap()
            .storage
            .keys()
            .all(|k| k.starts_with("data/"))
    );
    // A successful one attaches them, then the agent runs storage-attached for each.
    let p = probe(&m, "store/0", "storage-add cache=2");
    assert_eq!(p.code, 0, "{}", p.stderr);
    m.settle(100).unwrap();
    let story = story(&m, before);
    assert_eq!(
        story
            .iter()
            .filter(|s| s.as_str() == "store/0: cache-storage-attached")
            .count(),
        2,
        "{story:?}"
    );
    let st = m.state().unwrap();
    let unit = st.unit("store/0").unwrap();
    assert!(unit.storage.contains_key("cache/0") && unit.storage.contains_key("cache/1"));
    assert!(unit.storage["cache/1"].location.is_dir());
    // Over the range's top: the tool accepts, the commit refuses and the hook fails.
    let p = probe(&m, "store/0", "storage-add data=3");
    assert_eq!(p.code, 0);
    assert_eq!(p.record.outcome, "failed", "{:?}", p.record);
    assert!(
        p.record
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("exceeds"),
        "{:?}",
        p.record.error
    );
    // Unknown storage and bad counts are refused by the tool.
    let p = probe(&m, "store/0", "storage-add logs=1");
    assert_eq!(p.code, 1);
    assert!(p.stderr.contains("storage \"logs\" not found"));
    let p = probe(&m, "store/0", "storage-add data=0");
    assert_eq!(p.code, 2);
}

#[test]
fn storage_detaches_after_stop_before_remove() {
    let (m, base) = model("storage-detach");
    let ch = charm(&base, "store", META, None, None, &[]);
    deploy_store(&m, &ch, vec![]);
    m.settle(100).unwrap();
    let before = last_seq(&m);
    m.remove_unit("store/1").unwrap();
    m.settle(100).unwrap();
    let story = story(&m, before);
    let stop = story.iter().position(|s| s == "store/1: stop").unwrap();
    let detach = story
        .iter()
        .position(|s| s == "store/1: data-storage-detaching")
        .unwrap();
    let remove = story.iter().position(|s| s == "store/1: remove").unwrap();
    assert!(stop < detach && detach < remove, "{story:?}");
}

const RES_META: &str = "name: res\nresources:\n  blob:\n    type: file\n    filename: blob.txt\n  image:\n    type: oci-image\n";

#[test]
fn file_resources_are_attached_at_deploy_or_later() {
    let (m, base) = model("resources");
    let ch = charm(&base, "res", RES_META, None, None, &[]);
    let file = base.join("blob.txt");
    std::fs::write(&file, "v1").unwrap();
    m.deploy(
        &ch,
        DeployOptions {
            resources: vec![("blob".into(), file.clone())],
            ..Default::default()
        },
    )
    .unwrap();
    m.settle(100).unwrap();
    let p = probe(&m, "res/0", "cat \"$(resource-get blob)\"");
    assert_eq!(p.stdout, "v1");
    // A later revision: a new copy, and upgrade-charm on the unit.
    std::fs::write(&file, "v2").unwrap();
    let before = last_seq(&m);
    m.attach_resource("res", "blob", &file).unwrap();
    m.settle(100).unwrap();
    assert_eq!(story(&m, before), ["res/0: upgrade-charm"]);
    let p = probe(&m, "res/0", "cat \"$(resource-get -- blob)\"");
    assert_eq!(p.stdout, "v2");
    // Undeclared, or of another type, cannot be attached; unattached cannot be fetched.
    assert!(
        m.attach_resource("res", "nope", &file)
            .unwrap_err()
            .to_string()
            .contains("not found")
    );
    assert!(
        m.attach_resource("res", "image", &file)
            .unwrap_err()
            .to_string()
            .contains("oci-image")
    );
    let p = probe(&m, "res/0", "resource-get image");
    assert_eq!(p.code, 1);
    assert!(
        p.stderr.contains("could not download resource"),
        "{}",
        p.stderr
    );
    let p = probe(&m, "res/0", "resource-get");
    assert_eq!(p.code, 2);
}

#[test]
fn juju_reboot_is_accepted_in_hooks_and_refused_in_actions() {
    let (m, base) = model("reboot");
    let ch = charm(
        &base,
        "res",
        RES_META,
        None,
        Some("go: {}\n"),
        &[(
            "go",
            "juju-reboot --now || action-fail \"$(juju-reboot 2>&1)\"\n",
        )],
    );
    m.deploy(&ch, DeployOptions::default()).unwrap();
    m.settle(100).unwrap();
    let p = probe(&m, "res/0", "juju-reboot && juju-reboot --now");
    assert_eq!(p.code, 0, "{}", p.stderr);
    assert!(p.record.tools.iter().any(|t| t.tool == "juju-reboot"));
    let p = probe(&m, "res/0", "juju-reboot --later");
    assert_eq!(p.code, 2);
    let out = m.run_action("res/0", "go", &[]).unwrap();
    assert_eq!(out.status, "failed", "{out:?}");
    assert!(out.message.contains("not supported"), "{out:?}");
}

#[test]
fn credential_get_answers_trusted_applications_only() {
    let (m, base) = model("trust");
    let ch = charm(&base, "res", RES_META, None, None, &[]);
    m.deploy(&ch, DeployOptions::default()).unwrap();
    m.settle(100).unwrap();
    let p = probe(&m, "res/0", "credential-get --format=json");
    assert_eq!(p.code, 1);
    assert!(
        p.stderr
            .contains("cannot access cloud credentials: permission denied")
    );
    m.trust("res", true).unwrap();
    let p = probe(&m, "res/0", "credential-get --format=json");
    assert_eq!(p.code, 0, "{}", p.stderr);
    let spec: serde_json::Value = serde_json::from_str(&p.stdout).unwrap();
    assert_eq!(spec["type"], "juju-local");
    assert_eq!(spec["credential"]["auth-type"], "empty");
    m.trust("res", false).unwrap();
    assert_eq!(probe(&m, "res/0", "credential-get").code, 1);
}

/// What the tools print reads into the framework's types: the two sides cannot drift apart.
#[test]
fn the_framework_reads_what_the_tools_print() {
    use charm::app_status::AppStatusReport;
    use charm::cloud::CloudSpec;
    use charm::goal_state::GoalState;
    use charm::network::Network;
    use charm::storage::{StorageId, StorageInfo};
    let (m, base) = model("typed");
    let meta = "name: store\nprovides:\n  web: {interface: http}\nextra-bindings:\n  admin:\nstorage:\n  data: {type: filesystem}\n";
    let ch = charm(&base, "store", meta, None, None, &[]);
    m.deploy(
        &ch,
        DeployOptions {
            units: Some(2),
            trust: true,
            ..Default::default()
        },
    )
    .unwrap();
    m.settle(100).unwrap();
    let out = |cmd: &str| {
        let p = probe(&m, "store/0", cmd);
        assert_eq!(p.code, 0, "{cmd}: {}", p.stderr);
        p.stdout
    };
    let report = AppStatusReport::from_json(&out(
        "status-get --include-data --format=json --application=True",
    ))
    .unwrap();
    assert_eq!(report.units.len(), 2);
    let goal = GoalState::from_json(&out("goal-state --format=json")).unwrap();
    assert_eq!(goal.planned_units(), 2);
    for binding in ["web", "admin", "juju-info"] {
        let net =
            Network::from_json(&out(&format!("network-get --format=json -- {binding}"))).unwrap();
        assert!(net.bind_address().is_some(), "{binding}");
    }
    let spec = CloudSpec::from_json(&out("credential-get --format=json")).unwrap();
    assert_eq!(spec.name, "juju-local");
    let id = StorageId::parse("data/0").unwrap();
    let info = StorageInfo::from_json(&id, &out("storage-get --format=json -s data/0")).unwrap();
    assert!(info.location.is_dir());
}
