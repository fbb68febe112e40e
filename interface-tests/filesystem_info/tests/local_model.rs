//! The filesystem_info contract through the local Juju model: the real cephfs-server-proxy and
//! filesystem-client binaries (the client a subordinate of the `hello` charm) over the real
//! hook-tool protocol, with Juju's hook ordering, commit rules and secrets. The client's commands
//! go to the `fake-mount` double (it logs the command lines, and the key file's mode and a digest,
//! never the key).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod local;

use filesystem_info_contract::{KEY, NEW_KEY, USER};
use interface_tests_common::run_story;
use local::*;
use serde_json::json;
use std::path::Path;

const UNIT: &str = "filesystem-client/0";

/// The proxy (with `servers` units) related to the client next to `principals` web units.
fn established(name: &str, servers: u32, principals: u32) -> (Local, u64) {
    let local = Local::new(name, principals).with_server(servers);
    let rel = local.relate(CLIENT, SERVER);
    (local, rel)
}

fn mounted_status() -> (String, String) {
    (
        "active".into(),
        format!("mounted the cephfs filesystem from {SERVER} at {MOUNTPOINT}"),
    )
}

#[test]
fn the_proxy_share_is_mounted_on_every_client_unit() {
    let (local, rel) = established("fs-mount", 2, 2);
    let st = local.state();
    let records = local.since(0);

    // One secret labelled `auth`, owned by the proxy app, only the key, granted on this relation.
    let auth = secret(&st, "auth").expect("the auth secret");
    assert_eq!(
        (auth.owner.kind.as_str(), auth.owner.name.as_str()),
        ("application", SERVER)
    );
    assert_eq!(auth.latest, 1);
    assert_eq!(
        content(auth, 1),
        [("key".to_string(), KEY.to_string())].into()
    );
    assert_eq!(
        auth.description.as_deref(),
        Some("Cephx key to authenticate against the CephFS share")
    );
    assert_eq!(auth.grants.len(), 1);
    assert_eq!(
        (auth.grants[0].app.as_str(), auth.grants[0].relation),
        (CLIENT, Some(rel))
    );

    // The endpoint in the app bag and its durable copy in the peer bag; the client writes nothing.
    let uri = proxy_uri(&auth.uri(), 1);
    assert_eq!(
        bag(&st, rel, SERVER),
        [("endpoint".to_string(), uri.clone())].into()
    );
    assert_eq!(peer_bag(&st, SERVER)["endpoint"], uri);
    assert!(bag(&st, rel, CLIENT).is_empty());
    for unit in [UNIT, "filesystem-client/1"] {
        // Only what Juju itself puts in a unit bag.
        assert!(
            bag(&st, rel, unit).keys().all(|k| matches!(
                k.as_str(),
                "ingress-address" | "private-address" | "egress-subnets"
            )),
            "{:?}",
            bag(&st, rel, unit)
        );
        // Each unit mounted once, with its own key file of mode 0600.
        assert_eq!(
            local.fake_log(unit),
            [ceph_mount(&local, unit), key_file_line(KEY)],
            "{unit}"
        );
        assert_eq!(local.fake_mounted(unit), [MOUNTPOINT]);
        assert_eq!(local.status(unit), mounted_status());
        assert!(local.key_file(unit).exists());
    }
    assert_eq!(
        local.app_status(CLIENT),
        ("active".into(), "Integrated with `cephfs` provider".into())
    );
    // Every relation-changed was a mount event; the command each unit ran was reported.
    assert!(!events(&records, "filesystem_info.mount_filesystem").is_empty());
    let ran = events(&records, "filesystem_client.mounted");
    assert_eq!(ran.len(), 2, "{ran:?}");
    for (unit, fields) in &ran {
        assert_eq!(fields["mountpoint"], json!(MOUNTPOINT));
        assert!(
            ceph_mount(&local, unit).contains(fields["command"].as_str().unwrap()),
            "{fields}"
        );
    }
    assert_never_shown(&records, KEY);
}

#[test]
fn a_later_client_gets_the_stored_endpoint_without_a_new_revision() {
    let (local, rel) = established("fs-later", 1, 1);
    let before = secret(&local.state(), "auth").unwrap().clone();
    let mark = local.mark();
    local.deploy_client("archive");
    let rel2 = local.relate("archive", SERVER);
    let records = local.since(mark);
    let st = local.state();
    let auth = secret(&st, "auth").unwrap();
    assert_eq!(auth.latest, before.latest, "no revision for a new client");
    assert_eq!(bag(&st, rel2, SERVER), bag(&st, rel, SERVER));
    assert!(
        auth.grants
            .iter()
            .any(|g| g.app == "archive" && g.relation == Some(rel2))
    );
    // The proxy sent the peer copy: it never read or rewrote its own secret for it.
    for r in records.iter().filter(|r| r.unit.starts_with(SERVER)) {
        for t in &r.tools {
            assert!(
                !(matches!(t.tool.as_str(), "secret-get" | "secret-set")
                    && t.args.iter().any(|a| a == "auth" || a.ends_with(&auth.id))),
                "#{} {} {:?}",
                r.seq,
                t.tool,
                t.args
            );
        }
    }
    assert_eq!(
        local.status("archive/0"),
        (
            "active".into(),
            format!("mounted the cephfs filesystem from {SERVER} at {MOUNTPOINT}")
        )
    );
}

#[test]
fn set_auth_rotates_the_key_and_every_client_remounts() {
    let (local, rel) = established("fs-rotate", 1, 1);
    let mark = local.mark();
    let out = local.set_auth(NEW_KEY);
    assert_eq!(out.status, "completed", "{out:?}");
    local.settle();
    let st = local.state();
    let auth = secret(&st, "auth").unwrap();
    assert_eq!(auth.latest, 2);
    assert_eq!(content(auth, 2)["key"], NEW_KEY);
    assert_eq!(bag(&st, rel, SERVER)["endpoint"], proxy_uri(&auth.uri(), 2));
    assert_eq!(peer_bag(&st, SERVER)["endpoint"], proxy_uri(&auth.uri(), 2));
    // The client tracks revision 2, so Juju had the owner remove revision 1.
    assert_eq!(auth.consumers[UNIT].revision, 2);
    assert_eq!(auth.revisions.keys().copied().collect::<Vec<_>>(), [2]);

    assert_eq!(
        local.fake_log(UNIT),
        [
            ceph_mount(&local, UNIT),
            key_file_line(KEY),
            format!("umount -- {MOUNTPOINT}"),
            ceph_mount(&local, UNIT),
            key_file_line(NEW_KEY),
        ]
    );
    assert_eq!(local.status(UNIT), mounted_status());
    let records = local.since(mark);
    assert_never_shown(&records, NEW_KEY);
    assert_never_shown(&records, KEY);
}

#[test]
fn a_proxy_leader_change_and_a_departing_proxy_unit_change_nothing() {
    let (local, rel) = established("fs-leader", 2, 1);
    let before = local.state();
    let mark = local.mark();
    local.model.set_leader("cephfs-server-proxy/1").unwrap();
    local.settle();
    local.model.remove_unit("cephfs-server-proxy/0").unwrap();
    local.settle();
    let records = local.since(mark);
    let after = local.state();
    assert_eq!(after.secrets, before.secrets);
    assert_eq!(bag(&after, rel, SERVER), bag(&before, rel, SERVER));
    assert!(events(&records, "filesystem_client.unmounted").is_empty());
    assert_eq!(local.fake_log(UNIT).len(), 2, "mounted once, never again");
    assert_eq!(local.status(UNIT), mounted_status());
}

#[test]
fn removing_the_relation_unmounts_and_removes_the_key_file() {
    let (local, rel) = established("fs-broken", 1, 1);
    let key_file = local.key_file(UNIT);
    assert!(key_file.exists());
    let mark = local.mark();
    local
        .model
        .remove_relation(&format!("{CLIENT}:filesystem"), Some(SERVER))
        .unwrap();
    local.settle();
    let records = local.since(mark);
    assert_eq!(
        events(&records, "filesystem_info.umount_filesystem")
            .into_iter()
            .map(|(u, _)| u)
            .collect::<Vec<_>>(),
        [UNIT]
    );
    let unmounted = events(&records, "filesystem_client.unmounted");
    assert_eq!(unmounted.len(), 1);
    assert_eq!(
        unmounted[0].1["command"],
        json!(format!("umount -- {MOUNTPOINT}"))
    );
    assert_eq!(
        local.fake_log(UNIT).last().unwrap(),
        &format!("umount -- {MOUNTPOINT}")
    );
    assert!(local.fake_mounted(UNIT).is_empty());
    assert!(!Path::new(&key_file).exists());
    assert_eq!(local.stored(UNIT, "mounted"), None);
    assert_eq!(
        local.status(UNIT),
        (
            "blocked".into(),
            "Waiting for an integration with a filesystem provider".into()
        )
    );
    let st = local.state();
    assert!(!st.relations.contains_key(&rel));
    // The proxy keeps its secret and its peer copy for clients to come.
    assert!(secret(&st, "auth").is_some());
    assert!(peer_bag(&st, SERVER).contains_key("endpoint"));
}

#[test]
fn a_mount_lost_to_a_reboot_comes_back_on_update_status() {
    let (local, _) = established("fs-reboot", 1, 1);
    local.reboot(UNIT);
    let record = local
        .model
        .run_hook(UNIT, juju_local::state::HookSpec::simple("update-status"))
        .unwrap();
    assert_eq!(record.outcome, "ok", "{record:?}");
    assert_eq!(local.fake_mounted(UNIT), [MOUNTPOINT]);
    assert_eq!(local.fake_log(UNIT).len(), 4, "{:?}", local.fake_log(UNIT));
}

#[test]
fn the_cephfs_share_endpoint_is_served_alongside() {
    // The proxy's cephfs_share endpoint works as before next to filesystem_info.
    let (local, _) = established("fs-both", 1, 1);
    let st = local.state();
    assert_eq!(local.status("cephfs-server-proxy/0").0, "active");
    // No cephfs-share relation: no per-relation secrets were made.
    assert!(
        st.secrets
            .values()
            .all(|s| !s.label.as_deref().unwrap_or("").starts_with("auth_info"))
    );
    assert!(secret(&st, "cephx-auth").is_some());
    assert_eq!(USER, "fsuser");
}

#[test]
fn the_filesystem_info_demo_story_passes_with_the_debug_binaries() {
    let result = run_story("filesystem_info");
    assert!(result.passed, "{:?}", result.failure());
    assert!(result.steps.iter().filter(|s| s.kind == "expect").count() >= 5);
    let records = juju_local::timeline::read(&result.model_dir.join("timeline.jsonl")).unwrap();
    assert!(!events(&records, "filesystem_client.mounted").is_empty());
    assert!(!events(&records, "filesystem_client.unmounted").is_empty());
    for key in [
        "AQCk3GhmAAAAABAAdemoKeyNumberOne0000000000==",
        "AQCk3GhmAAAAABAAdemoKeyNumberTwo0000000000==",
    ] {
        assert_never_shown(&records, key);
    }
}
