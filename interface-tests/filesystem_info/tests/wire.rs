//! Wire fixtures both ways: the Rust side writes exactly what the Python providers write, and
//! reads (and mounts) what they write; what Python rejects is rejected.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::{Event, StatusKind};
use charm_testing::{Relation, State};
use filesystem_info::{
    CephfsAuth, CephfsEndpoint, EndpointUri, Key, LustreInfo, NfsInfo, SecretId,
};
use filesystem_info_contract::*;
use std::rc::Rc;

fn ceph_endpoint(auth: CephfsAuth, auth_rev: Option<u32>) -> EndpointUri {
    EndpointUri::Cephfs(CephfsEndpoint {
        fsid: "123-abc".into(),
        name: "fs1".into(),
        path: "/vol/a b".into(),
        monitor_hosts: vec!["10.0.0.1:6789".into(), "10.0.0.2:6789".into()],
        user: USER.into(),
        auth,
        auth_rev,
    })
}

fn nfs(hostname: &str, port: Option<u16>, path: &str) -> EndpointUri {
    EndpointUri::Nfs(NfsInfo {
        hostname: hostname.into(),
        port,
        path: path.into(),
    })
}

/// Every Python provider fixture, and what it describes.
fn python_providers() -> Vec<(&'static str, EndpointUri)> {
    let secret = || CephfsAuth::Secret(SecretId::parse(SECRET_ID).unwrap());
    vec![
        (PY_NFS, nfs("192.168.1.1", Some(2049), "/srv/export")),
        (PY_NFS_IPV6, nfs("fe80::1", Some(2049), "/srv")),
        (
            PY_NFS_NO_PORT,
            nfs("nfs.example.com", None, "/srv/my export"),
        ),
        (PY_CEPHFS, ceph_endpoint(secret(), Some(1))),
        (PY_CEPHFS_ROTATED, ceph_endpoint(secret(), Some(2))),
        (
            PY_LUSTRE,
            EndpointUri::Lustre(LustreInfo {
                mgs_nids: vec!["192.168.227.11@tcp1".into(), "192.168.227.12@tcp1".into()],
                fs_name: "lustre".into(),
            }),
        ),
        (
            REACTIVE_PLAIN,
            ceph_endpoint(CephfsAuth::Plain(Key::new(KEY)), None),
        ),
    ]
}

#[test]
fn the_library_writes_and_reads_every_python_uri_byte_for_byte() {
    for (text, described) in python_providers() {
        let py = fixture(text);
        let uri = &py.app["endpoint"];
        assert_eq!(described.to_uri(), *uri);
        assert_eq!(EndpointUri::parse(uri).as_ref(), Ok(&described), "{uri}");
        if let Some(peer) = py.peer.get("endpoint") {
            assert_eq!(peer, uri, "the peer copy is the same text");
        }
    }
}

#[test]
fn everything_python_rejects_is_rejected() {
    let rejected: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(PY_REJECTED).unwrap();
    assert!(rejected.len() >= 10);
    for (uri, why) in rejected {
        assert!(
            EndpointUri::parse(&uri).is_err(),
            "{uri} ({why}) was accepted"
        );
        // The client is Blocked, mounts nothing and its hook succeeds.
        let machine = Rc::new(Machine::default());
        let rel =
            Relation::new(ENDPOINT, 3, "py-proxy").remote_app_data([("endpoint", uri.as_str())]);
        let out = client(&machine).run(
            rel.changed(None),
            State::default().config("mountpoint", "/data").relation(rel),
        );
        assert!(out.ok(), "{uri}");
        assert_eq!(
            out.state.unit_status.unwrap().kind,
            StatusKind::Blocked,
            "{uri}"
        );
        assert!(machine.log.borrow().is_empty());
    }
}

/// The real cephfs-server-proxy, configured with the fixture's share and key.
fn proxy_state(key: &str) -> State {
    State::default()
        .leader(true)
        .config("fsid", "123-abc")
        .config("sharepoint", "fs1:/vol/a b")
        .config("monitor-hosts", "10.0.0.1:6789 10.0.0.2:6789")
        .config("auth-info", format!("{USER}:{key}"))
        .relation(Relation::peer(PEERS, 0, "cephfs-server-proxy"))
}

#[test]
fn the_proxy_writes_the_python_cephfs_bags() {
    let py = fixture(PY_CEPHFS);
    let rel = Relation::new(ENDPOINT, 7, "filesystem-client").remote_unit(0, [("k", "v")]);
    // With the fixture's secret in place the proxy writes the fixture's bytes.
    let state = proxy_state(KEY)
        .secret(py.secret.clone().unwrap())
        .relation(rel.clone());
    let out = server(0).run(rel.joined(0), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.state.get_relation(7).local_app_data, py.app);
    assert_eq!(out.state.get_relation(0).local_app_data, py.peer);
    let secret = out.state.get_secret(SECRET_ID);
    assert_eq!(secret.revisions, py.secret.clone().unwrap().revisions);
    assert!(secret.grants.contains_key(&7));

    // A new key: the rotated fixture, revision 2 with only the key in it.
    let rotated = fixture(PY_CEPHFS_ROTATED);
    let mut next = out.state;
    next.config
        .insert("auth-info".into(), format!("{USER}:{NEW_KEY}").into());
    let out = server(0).run(Event::ConfigChanged, next);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.state.get_relation(7).local_app_data, rotated.app);
    assert_eq!(out.state.get_relation(0).local_app_data, rotated.peer);
    assert_eq!(
        out.state.get_secret(SECRET_ID).revisions,
        rotated.secret.unwrap().revisions
    );

    // From scratch, the secret is created as Python creates it: label, description, content.
    let rel = Relation::new(ENDPOINT, 7, "filesystem-client").remote_unit(0, [("k", "v")]);
    let out = server(0).run(rel.joined(0), proxy_state(KEY).relation(rel));
    let made = out.state.get_secret("auth");
    let want = py.secret.unwrap();
    assert_eq!(made.description, want.description);
    assert_eq!(made.revisions, want.revisions);
    assert_eq!(
        out.state.get_relation(7).local_app_data["endpoint"],
        py.app["endpoint"].replace(&SECRET_ID.replace(':', "%3A"), &made.id.replace(':', "%3A"))
    );
}

#[test]
fn the_client_mounts_every_python_provider_and_writes_nothing() {
    let expected = [
        (
            PY_NFS,
            "mount -t nfs -o dev,exec,port=2049,rw,suid -- 192.168.1.1:/srv/export /data",
        ),
        (
            PY_NFS_IPV6,
            "mount -t nfs -o dev,exec,port=2049,rw,suid -- [fe80::1]:/srv /data",
        ),
        (
            PY_NFS_NO_PORT,
            "mount -t nfs -o dev,exec,rw,suid -- nfs.example.com:/srv/my export /data",
        ),
        (
            PY_CEPHFS,
            "mount -t ceph -o dev,exec,mon_addr=10.0.0.1:6789/10.0.0.2:6789,rw,secretfile=/nonexistent-charm-dir/cephfs.key,suid -- fsuser@123-abc.fs1=/vol/a b /data",
        ),
        (
            REACTIVE_PLAIN,
            "mount -t ceph -o dev,exec,mon_addr=10.0.0.1:6789/10.0.0.2:6789,rw,secretfile=/nonexistent-charm-dir/cephfs.key,suid -- fsuser@123-abc.fs1=/vol/a b /data",
        ),
        (
            PY_LUSTRE,
            "mount -t lustre -o dev,exec,rw,suid -- 192.168.227.11@tcp1:192.168.227.12@tcp1:/lustre /data",
        ),
    ];
    let requirer = fixture(PY_REQUIRER);
    for (text, command) in expected {
        let py = fixture(text);
        let machine = Rc::new(Machine::default());
        machine.helpers.borrow_mut().insert("lustre".into());
        let rel = Relation::new(ENDPOINT, 3, "py-proxy")
            .remote_app_data(py.app.clone())
            .remote_unit(0, [("k", "v")]);
        let mut state = State::default()
            .leader(true)
            .config("mountpoint", "/data")
            .relation(rel.clone());
        if let Some(secret) = &py.secret {
            state = state.secret(granted(secret));
        }
        let out = client(&machine).run(rel.changed(None), state);
        assert!(out.ok(), "{:?}", out.error());
        assert_eq!(*machine.log.borrow(), [command]);
        if text == PY_CEPHFS || text == REACTIVE_PLAIN {
            let keys = machine.keys.borrow();
            assert_eq!(keys.values().collect::<Vec<_>>(), [KEY]);
        }
        let bags = out.state.get_relation(3);
        assert_eq!(bags.local_app_data, requirer.app);
        assert_eq!(bags.local_unit_data, requirer.unit);
    }
    // The rotated fixture gives the rotated key.
    let py = fixture(PY_CEPHFS_ROTATED);
    let machine = Rc::new(Machine::default());
    let rel = Relation::new(ENDPOINT, 3, "py-proxy").remote_app_data(py.app.clone());
    let out = client(&machine).run(
        rel.changed(None),
        State::default()
            .config("mountpoint", "/data")
            .relation(rel)
            .secret(granted(py.secret.as_ref().unwrap())),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        machine.keys.borrow().values().collect::<Vec<_>>(),
        [NEW_KEY]
    );
}
