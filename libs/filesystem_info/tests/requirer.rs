//! Harness tests of the requirer side.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::secret::SecretContent;
use charm::{Charm, Ctx, Error, Event, EventKind, StatusKind};
use charm_testing::{Harness, Output, Relation, Secret, State};
use filesystem_info::{
    FilesystemInfo, FilesystemInfoError, FilesystemRequirer, MountFilesystem, UmountFilesystem,
    WireError,
};

const META: &str =
    "name: client\nrequires:\n  filesystem: {interface: filesystem_info, limit: 1}\n";
const KEY: &str = "R//appdqz4NP4Bxcc5XWrg==";
const SECRET_ID: &str = "secret:d0erdgfmp25c762i8np0";
const CEPH_URI: &str = "cephfs://fsuser@(10.0.0.1%3A6789%2C10.0.0.2%3A6789)/vol/a%20b?fsid=123-abc&name=fs1&auth=secret%3Ad0erdgfmp25c762i8np0&auth-rev=1";

fn requirer() -> FilesystemRequirer {
    FilesystemRequirer::new("filesystem")
}

/// A short name for each error kind.
fn kind(e: &FilesystemInfoError) -> String {
    match e {
        FilesystemInfoError::BadEndpoint { error, .. } => format!("bad-endpoint: {error:?}"),
        FilesystemInfoError::SecretNotFound { .. } => "secret-not-found".into(),
        FilesystemInfoError::SecretNotGranted { .. } => "secret-not-granted".into(),
        FilesystemInfoError::BadSecret { .. } => "bad-secret".into(),
        other => format!("other: {other}"),
    }
}

/// On a mount event the test charm reads the filesystem and stores what it got.
fn probe(ctx: &mut Ctx, event: &MountFilesystem) -> Result<(), Error> {
    let described = match requirer().info(ctx, &event.relation) {
        Ok(None) => "nothing yet".to_string(),
        Ok(Some(FilesystemInfo::Nfs(n))) => format!("nfs {} {:?} {}", n.hostname, n.port, n.path),
        Ok(Some(FilesystemInfo::Lustre(l))) => {
            format!("lustre {} {}", l.mgs_nids.join(","), l.fs_name)
        }
        Ok(Some(FilesystemInfo::Cephfs(c))) => format!(
            "cephfs {}@{} {} {} {} key-ok={}",
            c.user,
            c.monitor_hosts.join(","),
            c.path,
            c.fsid,
            c.name,
            c.key.expose() == KEY
        ),
        Err(e) => {
            ctx.store("probe", &kind(&e))?;
            return Err(e.into());
        }
    };
    ctx.store("probe", &described)?;
    Ok(())
}

fn harness() -> Harness {
    let mut charm = Charm::new();
    charm.plugin(requirer()).on_event(probe);
    charm.on(EventKind::UpdateStatus, |ctx: &mut Ctx, _: &Event| {
        let all = requirer().endpoints(ctx)?;
        ctx.store("endpoints", &all.len())?;
        Ok(())
    });
    Harness::new(charm, META)
}

fn server(endpoint: Option<&str>) -> Relation {
    let rel = Relation::new("filesystem", 4, "cephfs-server-proxy").remote_unit(0, [("k", "v")]);
    match endpoint {
        Some(uri) => rel.remote_app_data([("endpoint", uri)]),
        None => rel,
    }
}

fn key_secret() -> Secret {
    Secret::granted(SECRET_ID, SecretContent::new().with("key", KEY))
}

fn probe_of(out: &Output) -> String {
    out.state.stored["probe"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn every_relation_changed_is_a_mount_event_on_every_unit() {
    let rel = server(None);
    let out = harness().run(rel.changed(Some(0)), State::default().relation(rel.clone()));
    assert!(out.ok());
    let events = out.emitted::<MountFilesystem>();
    assert_eq!(events.len(), 1, "even without an endpoint (as Python)");
    assert_eq!(events[0].relation, rel.rid());
    assert_eq!(events[0].remote_app.as_deref(), Some("cephfs-server-proxy"));
    assert_eq!(
        events[0].remote_unit.as_deref(),
        Some("cephfs-server-proxy/0")
    );
    assert_eq!(probe_of(&out), "nothing yet");
    // The same unchanged endpoint again is another event (mounting must be idempotent).
    let rel = server(Some(CEPH_URI));
    let state = State::default().relation(rel.clone()).secret(key_secret());
    for _ in 0..2 {
        let out = harness().run(rel.changed(None), state.clone());
        assert_eq!(out.emitted::<MountFilesystem>().len(), 1);
        assert_eq!(out.calls_to("relation-set"), 0, "the requirer never writes");
    }
}

#[test]
fn relation_broken_is_an_umount_event() {
    let rel = server(Some(CEPH_URI));
    let out = harness().run(rel.broken(), State::default().relation(rel.clone()));
    assert!(out.ok());
    let events = out.emitted::<UmountFilesystem>();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].relation, rel.rid());
    assert!(out.emitted::<MountFilesystem>().is_empty());
}

#[test]
fn the_cephfs_key_is_read_from_the_secret_and_tracked() {
    let rel = server(Some(CEPH_URI));
    let secret = key_secret().revision(SecretContent::new().with("key", KEY));
    let out = harness().run(
        rel.changed(None),
        State::default().relation(rel).secret(secret),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        probe_of(&out),
        "cephfs fsuser@10.0.0.1:6789,10.0.0.2:6789 /vol/a b 123-abc fs1 key-ok=true"
    );
    assert_eq!(
        out.state.get_secret(SECRET_ID).tracked,
        Some(2),
        "read with refresh"
    );
    assert!(!out.logs.iter().any(|(_, l)| l.contains(KEY)));
}

#[test]
fn plain_nfs_and_lustre_endpoints_need_no_secret() {
    for (uri, expected) in [
        (
            "cephfs://fsuser@(10.0.0.1%3A6789)/vol?fsid=123-abc&name=fs1&auth=plain%3AR%2F%2Fappdqz4NP4Bxcc5XWrg%3D%3D".to_string(),
            "cephfs fsuser@10.0.0.1:6789 /vol 123-abc fs1 key-ok=true",
        ),
        (
            "nfs://(%5Bfe80%3A%3A1%5D%3A2049)/srv".to_string(),
            "nfs fe80::1 Some(2049) /srv",
        ),
        (
            "lustre://(192.168.227.11%40tcp1%2C192.168.227.12%40tcp1)/?fs-name=lustre".to_string(),
            "lustre 192.168.227.11@tcp1,192.168.227.12@tcp1 lustre",
        ),
    ] {
        let rel = server(Some(&uri));
        let out = harness().run(rel.changed(None), State::default().relation(rel));
        assert!(out.ok(), "{:?}", out.error());
        assert_eq!(probe_of(&out), expected);
        assert_eq!(out.calls_to("secret-get"), 0);
    }
}

/// Runs a mount event with `uri`; the unit must be Blocked naming the relation and the app.
fn blocked(uri: &str, secrets: Vec<Secret>) -> (Output, String) {
    let rel = server(Some(uri));
    let mut state = State::default().relation(rel.clone());
    for s in secrets {
        state = state.secret(s);
    }
    let out = harness().run(rel.changed(None), state);
    assert!(out.ok(), "bad remote data is a status, not a failed hook");
    let status = out.state.unit_status.clone().unwrap();
    assert_eq!(status.kind, StatusKind::Blocked, "{uri}");
    assert!(
        status
            .message
            .starts_with("relation filesystem:4 (cephfs-server-proxy): "),
        "{status}"
    );
    assert!(!status.message.contains(KEY));
    let probe = probe_of(&out);
    (out, probe)
}

#[test]
fn bad_endpoints_block_with_a_typed_error() {
    let (_, probe) = blocked("nfs://(192.168.1.1:65535)/export", vec![]);
    assert_eq!(
        probe,
        format!("bad-endpoint: {:?}", WireError::InvalidHosts)
    );
    let (out, probe) = blocked("CEPHFS://u@(h)/?fsid=f&name=n&auth=plain:k", vec![]);
    assert!(probe.contains("UnsupportedScheme"), "{probe}");
    assert!(
        out.state
            .unit_status
            .unwrap()
            .message
            .ends_with("unsupported filesystem type `CEPHFS`")
    );
    // A field without `=` spoils the options; the message must not repeat the plain key.
    let (_, probe) = blocked(
        &format!("cephfs://fsuser@(h)/?fsid=f&name=n&auth=plain%3A{KEY}&oops"),
        vec![],
    );
    assert_eq!(
        probe,
        format!("bad-endpoint: {:?}", WireError::InvalidOptions)
    );
}

#[test]
fn hostile_secret_ids_never_reach_a_hook_tool() {
    for id in ["secret:--reveal", "secret:abc%20--format%3Djson", "secret:"] {
        let uri = format!("cephfs://u@(h)/?fsid=f&name=n&auth={id}");
        let (out, probe) = blocked(&uri, vec![]);
        assert_eq!(
            probe,
            format!("bad-endpoint: {:?}", WireError::BadSecretId),
            "{id}"
        );
        assert_eq!(out.calls_to("secret-get"), 0);
    }
}

#[test]
fn missing_and_bad_secrets_block() {
    let (_, probe) = blocked(CEPH_URI, vec![]);
    assert_eq!(probe, "secret-not-found");
    let no_key = Secret::granted(SECRET_ID, SecretContent::new().with("username", "u"));
    let (out, probe) = blocked(CEPH_URI, vec![no_key]);
    assert_eq!(probe, "bad-secret");
    assert!(
        out.state
            .unit_status
            .unwrap()
            .message
            .ends_with("has no \"key\"")
    );
}

#[test]
fn endpoints_lists_every_published_filesystem() {
    let rel = server(Some(CEPH_URI));
    let out = harness().run(
        Event::UpdateStatus,
        State::default().relation(rel).secret(key_secret()),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.state.stored["endpoints"], 1);
    let out = harness().run(Event::UpdateStatus, State::default().relation(server(None)));
    assert_eq!(out.state.stored["endpoints"], 0);
}
