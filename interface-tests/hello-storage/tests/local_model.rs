//! The `hello-storage` binary through the local model: storage attached before install as
//! directories, `storage-add` when the config asks for more, `network-get` for the website and
//! admin bindings. Needs `cargo build -p hello-storage -p juju-local --bins` first.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use interface_tests_common::{charm_dir, failure_details, model, run_story, temp_dir};
use juju_local::DeployOptions;

const GREETING_FILE: &str = "greeting.txt";

#[test]
fn storage_and_bindings_through_the_real_hook_tools() {
    let m = model("hello-storage");
    let charm = charm_dir("hello-storage", &temp_dir("hello-storage-charm"));
    m.deploy(
        &charm,
        DeployOptions {
            units: Some(2),
            config: vec![("greeting".into(), "salut".into())],
            storage: vec![("data".into(), 1)],
            ..Default::default()
        },
    )
    .unwrap();
    m.settle(200).unwrap();
    let st = m.state().unwrap();
    for unit in ["hello-storage/0", "hello-storage/1"] {
        let u = st.unit(unit).unwrap();
        assert!(u.agent.error.is_none(), "{}", failure_details(&m));
        assert_eq!(u.storage.len(), 1, "{unit}");
        let location = &u.storage.values().next().unwrap().location;
        assert_eq!(
            std::fs::read_to_string(location.join(GREETING_FILE)).unwrap(),
            "salut"
        );
        // juju-local's fixed address for the admin binding: 10.1.<app index>.<unit + 10>.
        assert!(
            u.status
                .message
                .starts_with("1 data instances; admin on 10.1.1."),
            "{unit}: {:?}",
            u.status
        );
    }
    let first: Vec<String> = m
        .timeline()
        .unwrap()
        .into_iter()
        .filter(|r| r.unit == "hello-storage/0")
        .take(2)
        .map(|r| r.hook.name)
        .collect();
    assert_eq!(first, ["data-storage-attached", "install"]);

    // More instances: the charm's storage-add attaches them when its hook commits; each gets
    // the greeting in its own storage-attached.
    m.config("hello-storage", &[("instances".into(), "3".into())], &[])
        .unwrap();
    m.settle(200).unwrap();
    let st = m.state().unwrap();
    let u = st.unit("hello-storage/1").unwrap();
    assert_eq!(u.storage.len(), 3, "{}", failure_details(&m));
    for instance in u.storage.values() {
        assert_eq!(
            std::fs::read_to_string(instance.location.join(GREETING_FILE)).unwrap(),
            "salut"
        );
    }
    assert!(
        u.status.message.starts_with("3 data instances"),
        "{:?}",
        u.status
    );

    // A new greeting reaches every instance.
    m.config("hello-storage", &[("greeting".into(), "hej".into())], &[])
        .unwrap();
    m.settle(200).unwrap();
    let st = m.state().unwrap();
    for instance in st.unit("hello-storage/0").unwrap().storage.values() {
        assert_eq!(
            std::fs::read_to_string(instance.location.join(GREETING_FILE)).unwrap(),
            "hej"
        );
    }
}

#[test]
fn the_leader_publishes_its_website_address_to_a_related_app() {
    let m = model("hello-storage-web");
    let base = temp_dir("hello-storage-web-charms");
    let charm = charm_dir("hello-storage", &base);
    m.deploy(&charm, DeployOptions::default()).unwrap();
    // A requirer of `http`: a second hello-storage cannot be one, so write a tiny charm.
    let client = base.join("client");
    std::fs::create_dir_all(&client).unwrap();
    std::fs::write(
        client.join("metadata.yaml"),
        "name: client\nrequires:\n  web: {interface: http}\n",
    )
    .unwrap();
    let dispatch = client.join("dispatch");
    std::fs::write(&dispatch, "#!/bin/sh\nexit 0\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dispatch, std::fs::Permissions::from_mode(0o755)).unwrap();
    m.deploy(&client, DeployOptions::default()).unwrap();
    let rel = m.relate("client:web", "hello-storage:website").unwrap();
    m.settle(200).unwrap();
    let st = m.state().unwrap();
    let url = st.applications["hello-storage"].units[&0]
        .status
        .message
        .clone();
    let bag = st.relations[&rel].app_data["hello-storage"].data.clone();
    assert!(
        bag.get("url")
            .is_some_and(|u| u.starts_with("http://10.1.1.10:8080")),
        "{bag:?} ({url}) {}",
        failure_details(&m)
    );
}

#[test]
fn the_hello_storage_demo_story_passes_with_the_debug_binaries() {
    let result = run_story("hello_storage");
    assert!(result.passed, "{:?}", result.failure());
    assert!(result.hooks_run > 30, "{}", result.hooks_run);
}
