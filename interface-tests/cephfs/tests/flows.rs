//! The Rust server proxy against the Rust client, through two harnesses with the bags
//! and secrets shuttled by hand: request, serve, mount, config change, auth rotation, leader
//! change, a server unit leaving, and the relation going away.

use cephfs_client::MOUNTED;
use cephfs_contract::*;
use cephfs_interfaces::{MountShare, ServerConnected, ShareRequested, UmountShare};
use charm::{Event, Status, StatusKind};
use charm_testing::Output;
use serde_json::json;

const ID: u32 = 9;

fn status(out: &Output) -> Status {
    out.state
        .unit_status
        .clone()
        .unwrap_or(Status::active("<none>"))
}

fn mount_line(sb: &Sandbox, path: &str) -> String {
    format!(
        "argv: -t ceph {}:{path} {} -o name={USERNAME},secretfile={},fsid={FSID},mds_namespace={NAME}",
        MONITOR_HOSTS.join(","),
        sb.mountpoint(),
        sb.secretfile()
    )
}

/// Request, serve and mount: the whole first conversation. Returns the link afterwards.
fn established(sb: &Sandbox) -> Link {
    let (server, client) = (server(0), client(0));
    let mut link = Link::new(ID, configured_server(), sb.client_state().leader(true));

    // The proxy gets its credentials before anyone relates.
    let out = link.action_server(
        &server,
        "set-auth",
        json!({"username": USERNAME, "key": KEY}),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.action.failed, None);

    // The client leader sees the server join and requests its mountpoint.
    let out = link.run_client(&client, link.client_rel().joined(0));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<ServerConnected>().len(), 1);
    assert_eq!(link.server_rel().remote_app_data["name"], sb.mountpoint());

    // The server leader sees the request and serves it.
    let out = link.run_server(&server, link.server_rel().changed(None));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<ShareRequested>().len(), 1);
    assert_eq!(link.client_rel().remote_app_data["share_info"], SHARE_INFO);
    assert_eq!(link.client_rel().remote_app_data["auth-rev"], "1");

    // The client mounts.
    let out = link.run_client(&client, link.client_rel().changed(None));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<MountShare>().len(), 1);
    assert_eq!(
        sb.log("mount.log"),
        format!(
            "{}\nsecretfile: 600 {}\n",
            mount_line(sb, PATH),
            sb.cksum(KEY)
        )
    );
    assert_eq!(
        status(&out),
        Status::active(format!("mounted {NAME}:{PATH} at {}", sb.mountpoint()))
    );

    // The client's cache write reaches the server as a unit-bag change: nothing new for it.
    let out = link.run_server(&server, link.server_rel().changed(Some(0)));
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.emitted::<ShareRequested>().is_empty());
    assert_eq!(out.calls_to("relation-set"), 0);
    link
}

#[test]
fn request_serve_mount() {
    let sb = Sandbox::new("flow-mount");
    let link = established(&sb);
    assert!(link.client.stored.contains_key(MOUNTED));
    for log in [sb.log("mount.log"), sb.log("umount.log")] {
        assert!(!log.contains(KEY));
    }
}

#[test]
fn a_config_change_on_the_server_remounts_the_client() {
    let sb = Sandbox::new("flow-config");
    let mut link = established(&sb);
    link.server
        .config
        .insert("sharepoint".into(), json!(format!("{NAME}:/scratch")));
    let out = link.run_server(&server(0), Event::ConfigChanged);
    assert!(out.ok(), "{:?}", out.error());
    assert!(link.client_rel().remote_app_data["share_info"].contains(r#""path": "/scratch""#));
    assert_eq!(link.client_rel().remote_app_data["auth-rev"], "1");

    let out = link.run_client(&client(0), link.client_rel().changed(None));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<MountShare>()[0].changed, vec!["share_info"]);
    assert_eq!(sb.log("umount.log"), format!("argv: {}\n", sb.mountpoint()));
    assert!(sb.log("mount.log").contains(&mount_line(&sb, "/scratch")));
    assert_eq!(
        status(&out),
        Status::active(format!("mounted {NAME}:/scratch at {}", sb.mountpoint()))
    );
}

#[test]
fn set_auth_again_rotates_the_clients_key() {
    let sb = Sandbox::new("flow-rotate");
    let mut link = established(&sb);
    let out = link.action_server(
        &server(0),
        "set-auth",
        json!({"username": USERNAME, "key": NEW_KEY}),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.action.results["served-relations"], "1");
    assert_eq!(link.client_rel().remote_app_data["auth-rev"], "2");

    let out = link.run_client(&client(0), link.client_rel().changed(None));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<MountShare>()[0].changed, vec!["auth-rev"]);
    let log = sb.log("mount.log");
    assert!(
        log.ends_with(&format!("secretfile: 600 {}\n", sb.cksum(NEW_KEY))),
        "{log}"
    );
    assert!(!log.contains(NEW_KEY));
    assert_eq!(sb.log("umount.log").matches("argv:").count(), 1);

    // Juju also tells the client the secret changed: the share is already mounted with that key.
    let secret = link.client.secrets[0].clone();
    let out = link.run_client(&client(0), secret.changed());
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(sb.log("mount.log").matches("argv:").count(), 2);
}

#[test]
fn a_new_server_leader_re_requests_nothing() {
    let sb = Sandbox::new("flow-leader");
    let mut link = established(&sb);
    let before = link.clone();
    // Unit 1 of the server becomes leader; it never saw unit 0's bag.
    link.server.leader = true;
    if let Some(r) = link.server.relations.iter_mut().find(|r| r.id == ID) {
        r.local_unit_data.clear();
    }
    let new_leader = server(1);
    let out = link.run_server(&new_leader, Event::LeaderElected);
    assert!(out.ok(), "{:?}", out.error());
    let out = link.run_server(&new_leader, link.server_rel().changed(Some(0)));
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.emitted::<ShareRequested>().is_empty());
    assert_eq!(out.calls_to("secret-set") + out.calls_to("secret-add"), 0);
    assert_eq!(
        link.client_rel().remote_app_data,
        before.client_rel().remote_app_data
    );
    // So the client has nothing to do.
    let out = link.run_client(&client(0), link.client_rel().changed(None));
    assert!(out.emitted::<MountShare>().is_empty());
    assert_eq!(sb.log("mount.log").matches("argv:").count(), 1);
}

#[test]
fn a_server_unit_leaving_does_not_unmount() {
    let sb = Sandbox::new("flow-departed");
    let mut link = established(&sb);
    if let Some(r) = link.client.relations.iter_mut().find(|r| r.id == ID) {
        r.remote_units.insert(1, Default::default());
    }
    let out = link.run_client(&client(0), link.client_rel().departed(1));
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.emitted::<UmountShare>().is_empty());
    assert_eq!(sb.log("umount.log"), "");
    assert_eq!(status(&out).kind, StatusKind::Active);
}

#[test]
fn removing_the_relation_unmounts_and_drops_the_secret() {
    let sb = Sandbox::new("flow-broken");
    let mut link = established(&sb);
    let out = link.run_client(&client(0), link.client_rel().broken());
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<UmountShare>().len(), 1);
    assert_eq!(sb.log("umount.log"), format!("argv: {}\n", sb.mountpoint()));
    assert!(!std::path::Path::new(&sb.secretfile()).exists());
    assert!(!link.client.stored.contains_key(MOUNTED));

    let out = link.run_server(&server(0), link.server_rel().broken());
    assert!(out.ok(), "{:?}", out.error());
    assert!(link.server.secret_by(&format!("auth_info.{ID}")).is_none());
    assert!(link.server.secret_by("cephx-auth").is_some());
}

#[test]
fn a_client_that_relates_before_the_server_is_configured() {
    let sb = Sandbox::new("flow-late-config");
    let (server, client) = (server(0), client(0));
    let mut link = Link::new(
        ID,
        charm_testing::State::default().leader(true),
        sb.client_state().leader(true),
    );
    link.run_client(&client, link.client_rel().joined(0));
    let out = link.run_server(&server, link.server_rel().changed(None));
    assert!(out.ok());
    assert_eq!(status(&out).kind, StatusKind::Blocked);
    // Only the server's snapshot of the request crosses; nothing to mount yet.
    let seen = link.client_rel().remote_app_data;
    assert_eq!(seen.keys().collect::<Vec<_>>(), ["cache"]);

    let out = link.action_server(
        &server,
        "set-auth",
        json!({"username": USERNAME, "key": KEY}),
    );
    assert_eq!(out.action.results["served-relations"], "0");
    link.server.config = configured_server().config;
    let out = link.run_server(&server, Event::ConfigChanged);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(link.client_rel().remote_app_data["share_info"], SHARE_INFO);
    let out = link.run_client(&client, link.client_rel().changed(None));
    assert_eq!(out.emitted::<MountShare>().len(), 1);
    assert_eq!(status(&out).kind, StatusKind::Active);
}
