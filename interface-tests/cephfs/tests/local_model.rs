//! The cephfs_share contract through the local Juju model: the real cephfs-server-proxy and
//! cephfs-client binaries (the client a subordinate of the `hello` charm) over the real hook-tool
//! protocol, with Juju's hook ordering, commit rules and secrets. The client's mount and umount
//! commands are recording doubles (argv, and the key file's mode and checksum, never the key).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod local;

use cephfs_contract::{KEY, NAME, NEW_KEY, PATH, SHARE_INFO, USERNAME};
use interface_tests_common::run_story;
use juju_local::state::HookSpec;
use local::*;
use serde_json::json;

/// The server (with `servers` units) related to the client next to `principals` web units.
fn established(name: &str, servers: u32, principals: u32) -> (Local, u64) {
    let local = Local::new(name, principals).with_server(servers);
    let rel = local.relate(SERVER);
    (local, rel)
}

fn mounted_status(local: &Local, path: &str) -> (String, String) {
    (
        "active".into(),
        format!("mounted {NAME}:{path} at {}", local.sb.mountpoint()),
    )
}

#[test]
fn request_serve_and_mount_on_every_client_unit() {
    let (local, rel) = established("lm-mount", 2, 2);
    let st = local.state();
    let records = local.since(0);
    let clients = ["cephfs-client/0", "cephfs-client/1"];

    // One client unit per principal unit, on its machine.
    for (n, unit) in clients.iter().enumerate() {
        assert_eq!(
            st.unit(unit).unwrap().principal.as_deref(),
            Some(format!("{PRINCIPAL}/{n}").as_str())
        );
    }

    // The client leader requested its mountpoint; the server leader served it.
    assert_eq!(
        bag(&st, rel, CLIENT),
        [("name".to_string(), local.sb.mountpoint())].into()
    );
    let served = bag(&st, rel, SERVER);
    let auth = secret(&st, &format!("auth_info.{rel}")).expect("the relation's auth secret");
    assert_eq!(served["share_info"], SHARE_INFO);
    assert_eq!(served["auth"], auth.uri());
    assert_eq!(served["auth-rev"], "1");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&served["cache"]).unwrap(),
        json!({"name": local.sb.mountpoint()})
    );

    // The auth secret: owned by the server app, granted to the client app on this relation only.
    assert_eq!(auth.owner.kind, "application");
    assert_eq!(auth.owner.name, SERVER);
    assert_eq!(auth.latest, 1);
    assert_eq!(auth.grants.len(), 1);
    assert_eq!(
        (auth.grants[0].app.as_str(), auth.grants[0].relation),
        (CLIENT, Some(rel))
    );
    assert_eq!(
        content(auth, 1),
        [
            ("key".to_string(), KEY.to_string()),
            ("username".to_string(), USERNAME.to_string())
        ]
        .into()
    );
    let own = secret(&st, "cephx-auth").expect("the set-auth secret");
    assert!(own.grants.is_empty());

    // Every client unit mounted once, with its own key file of mode 0600.
    let mounts = local.mounts();
    for unit in clients {
        let line = mount_line(&local.sb, PATH, USERNAME, unit);
        assert_eq!(mounts.matches(&line).count(), 1, "{mounts}");
        assert_eq!(local.status(unit), mounted_status(&local, PATH));
        assert!(exists(&local.sb.secretfile_of(unit)));
    }
    assert_eq!(
        mounts
            .matches(&format!("secretfile: 600 {}", local.sb.cksum(KEY)))
            .count(),
        2,
        "{mounts}"
    );
    assert!(!mounts.contains(KEY));
    assert_eq!(local.umounts(), "");

    // The library events, on the units that should see them.
    let connected = events(&records, "cephfs_share.server_connected");
    assert!(!connected.is_empty());
    assert!(connected.iter().all(|(u, _)| u == "cephfs-client/0"));
    let requested = events(&records, "cephfs_share.share_requested");
    assert_eq!(requested.len(), 1, "{requested:?}");
    assert_eq!(requested[0].0, "cephfs-server-proxy/0");
    assert_eq!(requested[0].1["name"], json!(local.sb.mountpoint()));
    let mount_events = events(&records, "cephfs_share.mount_share");
    for unit in clients {
        assert!(
            mount_events.iter().any(|(u, _)| u == unit),
            "{mount_events:?}"
        );
    }
    let ran_mount = events(&records, "cephfs_client.mounted");
    assert_eq!(ran_mount.len(), 2, "{ran_mount:?}");
    for (unit, fields) in &ran_mount {
        assert_eq!(fields["mountpoint"], json!(local.sb.mountpoint()));
        let command = fields["command"].as_str().unwrap();
        let args = mount_line(&local.sb, PATH, USERNAME, unit);
        assert!(
            command.ends_with(args.trim_start_matches("argv: ")),
            "{command}"
        );
    }
    assert!(events(&records, "cephfs_client.unmounted").is_empty());
    assert_never_shown(&records, KEY);
}

#[test]
fn a_config_change_on_the_server_remounts_with_the_new_path() {
    let (local, rel) = established("lm-config", 1, 1);
    let mark = local.mark();
    local.config(SERVER, &[("sharepoint", &format!("{NAME}:/scratch"))]);
    let st = local.state();
    let served = bag(&st, rel, SERVER);
    assert!(served["share_info"].contains(r#""path": "/scratch""#));
    assert_eq!(served["auth-rev"], "1");
    assert_eq!(secret(&st, &format!("auth_info.{rel}")).unwrap().latest, 1);

    let records = local.since(mark);
    let mount_events = events(&records, "cephfs_share.mount_share");
    assert_eq!(mount_events.len(), 1);
    assert_eq!(mount_events[0].1["changed"], json!(["share_info"]));
    assert_eq!(events(&records, "cephfs_client.unmounted").len(), 1);
    assert_eq!(events(&records, "cephfs_client.mounted").len(), 1);
    assert_eq!(
        local.umounts(),
        format!("argv: {}\n", local.sb.mountpoint())
    );
    let mounts = local.mounts();
    assert_eq!(mounts.matches("argv:").count(), 2);
    assert!(
        mounts.contains(&mount_line(
            &local.sb,
            "/scratch",
            USERNAME,
            "cephfs-client/0"
        )),
        "{mounts}"
    );
    assert_eq!(
        local.status("cephfs-client/0"),
        mounted_status(&local, "/scratch")
    );
    assert!(events(&records, "cephfs_share.share_requested").is_empty());
}

#[test]
fn set_auth_rotates_the_key_and_the_old_revision_is_pruned() {
    let (local, rel) = established("lm-rotate", 1, 1);
    let mark = local.mark();
    let out = local.set_auth(USERNAME, NEW_KEY);
    assert_eq!(out.status, "completed", "{out:?}");
    assert_eq!(out.results["served-relations"], json!("1"));
    assert!(
        !serde_json::to_string(&out.results)
            .unwrap()
            .contains(NEW_KEY)
    );
    local.settle();

    let st = local.state();
    let served = bag(&st, rel, SERVER);
    assert_eq!(served["auth-rev"], "2");
    let auth = secret(&st, &format!("auth_info.{rel}")).unwrap();
    assert_eq!(served["auth"], auth.uri());
    assert_eq!(auth.latest, 2);
    assert_eq!(content(auth, 2)["key"], NEW_KEY);
    // The client tracks the new revision, so Juju asked the owner to remove the old one.
    assert_eq!(auth.consumers["cephfs-client/0"].revision, 2);
    assert_eq!(auth.revisions.keys().copied().collect::<Vec<_>>(), [2]);
    let own = secret(&st, "cephx-auth").unwrap();
    assert_eq!(own.revisions.keys().copied().collect::<Vec<_>>(), [2]);

    let records = local.since(mark);
    let removals: Vec<(String, Option<String>, Option<u32>)> = records
        .iter()
        .filter(|r| r.hook.name == "secret-remove")
        .map(|r| {
            (
                r.unit.clone(),
                r.hook.secret.clone(),
                r.hook.secret_revision,
            )
        })
        .collect();
    assert!(removals.contains(&(
        "cephfs-server-proxy/0".into(),
        Some(auth.id.clone()),
        Some(1)
    )));
    assert!(removals.contains(&(
        "cephfs-server-proxy/0".into(),
        Some(own.id.clone()),
        Some(1)
    )));

    // The client remounted once with the new key (the key file changed, its mode did not).
    let mount_events = events(&records, "cephfs_share.mount_share");
    assert!(
        mount_events
            .iter()
            .any(|(_, f)| f["changed"] == json!(["auth-rev"]))
    );
    assert_eq!(events(&records, "cephfs_client.mounted").len(), 1);
    assert_eq!(local.umounts().matches("argv:").count(), 1);
    let mounts = local.mounts();
    assert_eq!(mounts.matches("argv:").count(), 2);
    assert!(
        mounts.ends_with(&format!("secretfile: 600 {}\n", local.sb.cksum(NEW_KEY))),
        "{mounts}"
    );
    assert!(!mounts.contains(NEW_KEY));
    assert_never_shown(&records, NEW_KEY);
    assert_eq!(
        local.status("cephfs-client/0"),
        mounted_status(&local, PATH)
    );
}

#[test]
fn a_new_server_leader_and_a_departing_server_unit_change_nothing_for_the_client() {
    let (local, rel) = established("lm-leader", 2, 1);
    let before = local.state();
    let mark = local.mark();
    local.model.set_leader("cephfs-server-proxy/1").unwrap();
    local.settle();
    // The new leader also sees the client's next unit-bag change: still nothing to serve.
    let record = local
        .model
        .run_hook(
            "cephfs-server-proxy/1",
            HookSpec {
                relation: Some(rel),
                remote_unit: Some("cephfs-client/0".into()),
                ..HookSpec::simple("cephfs-share-relation-changed")
            },
        )
        .unwrap();
    assert_eq!(record.outcome, "ok", "{record:?}");

    let records = local.since(mark);
    assert_eq!(ran(&records, "leader-elected"), ["cephfs-server-proxy/1"]);
    assert!(events(&records, "cephfs_share.share_requested").is_empty());
    for r in &records {
        assert!(
            r.changes.is_empty(),
            "#{} {}: {:?}",
            r.seq,
            r.hook.name,
            r.changes
        );
        assert!(
            r.tools.iter().all(|t| !t.tool.starts_with("secret-")
                || t.tool == "secret-get"
                || t.tool == "secret-info-get"),
            "#{} {} touched a secret",
            r.seq,
            r.hook.name
        );
    }
    let after = local.state();
    assert_eq!(after.secrets, before.secrets);
    assert_eq!(bag(&after, rel, SERVER), bag(&before, rel, SERVER));

    // The old leader's unit goes away: the client sees it depart and keeps its mount.
    let mark = local.mark();
    local.model.remove_unit("cephfs-server-proxy/0").unwrap();
    local.settle();
    let records = local.since(mark);
    assert!(
        ran(&records, "cephfs-share-relation-departed").contains(&"cephfs-client/0".to_string())
    );
    assert!(events(&records, "cephfs_share.umount_share").is_empty());
    assert!(events(&records, "cephfs_client.unmounted").is_empty());
    assert_eq!(local.umounts(), "");
    assert_eq!(local.mounts().matches("argv:").count(), 1);
    assert!(exists(&local.sb.secretfile()));
    assert_eq!(
        local.status("cephfs-client/0"),
        mounted_status(&local, PATH)
    );
    let after = local.state();
    assert_eq!(
        after.secrets, before.secrets,
        "app secrets outlive the unit"
    );
    assert_eq!(bag(&after, rel, SERVER), bag(&before, rel, SERVER));
}

#[test]
fn removing_the_relation_unmounts_and_removes_the_key_file_and_the_secret() {
    let (local, rel) = established("lm-broken", 1, 1);
    assert!(local.stored("cephfs-client/0", "mounted").is_some());
    let mark = local.mark();
    local
        .model
        .remove_relation(&format!("{CLIENT}:cephfs-share"), Some(SERVER))
        .unwrap();
    local.settle();
    let records = local.since(mark);
    assert_eq!(
        events(&records, "cephfs_share.umount_share")
            .into_iter()
            .map(|(u, _)| u)
            .collect::<Vec<_>>(),
        ["cephfs-client/0"]
    );
    let unmounted = events(&records, "cephfs_client.unmounted");
    assert_eq!(unmounted.len(), 1);
    assert!(
        unmounted[0].1["command"]
            .as_str()
            .unwrap()
            .ends_with(&format!(" 0 {0} {0}", local.sb.mountpoint()))
    );
    assert_eq!(
        local.umounts(),
        format!("argv: {}\n", local.sb.mountpoint())
    );
    assert!(!exists(&local.sb.secretfile()));
    assert_eq!(local.stored("cephfs-client/0", "mounted"), None);
    assert_eq!(
        local.status("cephfs-client/0"),
        (
            "blocked".into(),
            "missing relation cephfs-share: integrate with a CephFS server".into()
        )
    );
    let st = local.state();
    assert!(!st.relations.contains_key(&rel));
    assert!(secret(&st, &format!("auth_info.{rel}")).is_none());
    assert!(secret(&st, "cephx-auth").is_some());
    assert_eq!(local.status("cephfs-server-proxy/0").0, "active");
}

#[test]
fn removing_the_principal_relation_unmounts_and_keeps_the_share_relation() {
    let (local, rel) = established("lm-principal", 1, 1);
    let mark = local.mark();
    local
        .model
        .remove_relation(&format!("{PRINCIPAL}:juju-info"), Some(CLIENT))
        .unwrap();
    local.settle();
    let records = local.since(mark);
    // The subordinate unit goes away: its share relation breaks for it, then it stops.
    assert!(ran(&records, "stop").contains(&"cephfs-client/0".to_string()));
    assert!(local.state().unit("cephfs-client/0").is_none());
    assert_eq!(
        local.umounts(),
        format!("argv: {}\n", local.sb.mountpoint())
    );
    assert!(!exists(&local.sb.secretfile()));
    // The application relation stays (no units left on one side), and so does its secret.
    let st = local.state();
    assert!(st.relations.contains_key(&rel));
    assert!(secret(&st, &format!("auth_info.{rel}")).is_some());
}

/// Issue 10: a key rotation whose remount failed (the unmount succeeded, the mount did not, the
/// hook failed and committed nothing). When Juju retries the hook the client mounts again, with
/// the new key, because it decides from the mount table and the digest of the key it used, not
/// only from its record of the old mount; it never says "mounted" while nothing is.
#[test]
fn a_remount_that_failed_after_a_key_rotation_is_retried_until_it_mounts() {
    let (local, _rel) = established("lm-rotate-fail", 1, 1);
    let unit = "cephfs-client/0";
    assert!(local.sb.is_mounted(&local.sb.mountpoint()));
    local.sb.break_command("mount.log");
    let out = local.set_auth(USERNAME, NEW_KEY);
    assert_eq!(out.status, "completed", "{out:?}");
    let report = local.model.settle(500).unwrap();
    assert!(
        report.errors.iter().any(|(u, _)| u == unit),
        "the remount failed: {report:?}"
    );
    assert_eq!(local.umounts().matches("argv:").count(), 1);
    assert!(!local.sb.is_mounted(&local.sb.mountpoint()));
    // Retried while the mount still fails: still in error, still not mounted, nothing unmounted.
    local.model.resolve(unit, true).unwrap();
    let report = local.model.settle(500).unwrap();
    assert!(report.errors.iter().any(|(u, _)| u == unit), "{report:?}");
    assert_eq!(local.umounts().matches("argv:").count(), 1);
    // The mount works again: the retry mounts with the new key.
    local.sb.heal("mount.log");
    local.model.resolve(unit, true).unwrap();
    local.settle();
    assert!(local.sb.is_mounted(&local.sb.mountpoint()));
    assert!(
        local
            .mounts()
            .ends_with(&format!("secretfile: 600 {}\n", local.sb.cksum(NEW_KEY))),
        "{}",
        local.mounts()
    );
    assert_eq!(local.status(unit), mounted_status(&local, PATH));
    assert_eq!(local.umounts().matches("argv:").count(), 1);
}

#[test]
fn the_cephfs_demo_story_passes_with_the_debug_binaries() {
    let result = run_story("cephfs");
    assert!(result.passed, "{:?}", result.failure());
    assert!(result.steps.iter().filter(|s| s.kind == "expect").count() >= 5);
    let records = juju_local::timeline::read(&result.model_dir.join("timeline.jsonl")).unwrap();
    assert!(!events(&records, "cephfs_client.mounted").is_empty());
    assert!(!events(&records, "cephfs_client.unmounted").is_empty());
    // The keys the story gives to set-auth show up nowhere but in the action parameters.
    for key in [
        "AQCk3GhmAAAAABAAdemoKeyNumberOne0000000000==",
        "AQCk3GhmAAAAABAAdemoKeyNumberTwo0000000000==",
    ] {
        assert_never_shown(&records, key);
    }
}
