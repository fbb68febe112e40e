//! The Rust provider against the Rust requirer in the harness: what the provider writes is
//! copied to the client (bags, and the secret as granted), for each scheme.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::{Charm, Ctx, Error, Event, EventKind};
use charm_testing::{Harness, Relation, State};
use filesystem_info::{FilesystemInfo, FilesystemProvider, LustreInfo, NfsInfo};
use filesystem_info_contract::*;
use std::rc::Rc;

/// The client side of relation 9 with what the provider's leader wrote, and its secret.
fn client_side(server: &State, machine_state: Option<State>) -> (Relation, State) {
    let served = server.get_relation(9).local_app_data.clone();
    let rel = Relation::new(ENDPOINT, 9, "server")
        .remote_app_data(served)
        .remote_unit(0, [("k", "v")]);
    let mut state = machine_state.unwrap_or_else(|| {
        State::default()
            .leader(true)
            .config("mountpoint", "/srv/shared")
    });
    state.relations.retain(|r| r.id != 9);
    state.secrets.clear();
    if let Some(secret) = server.secret_by("auth") {
        state = state.secret(granted(secret));
    }
    (rel.clone(), state.relation(rel))
}

#[test]
fn cephfs_from_the_proxy_mounts_rotates_and_unmounts() {
    let fs = Relation::new(ENDPOINT, 9, "filesystem-client").remote_unit(0, [("k", "v")]);
    let server_state = State::default()
        .leader(true)
        .config("fsid", "123-abc")
        .config("sharepoint", "fs1:/vol")
        .config("monitor-hosts", "10.0.0.1:6789")
        .config("auth-info", format!("{USER}:{KEY}"))
        .relation(Relation::peer(PEERS, 0, "cephfs-server-proxy"))
        .relation(fs.clone());
    let served = server(0).run(fs.joined(0), server_state);
    assert!(served.ok(), "{:?}", served.error());

    let machine = Rc::new(Machine::default());
    let (rel, state) = client_side(&served.state, None);
    let mounted = client(&machine).run(rel.changed(None), state);
    assert!(mounted.ok(), "{:?}", mounted.error());
    assert_eq!(
        *machine.log.borrow(),
        [
            "mount -t ceph -o dev,exec,mon_addr=10.0.0.1:6789,rw,secretfile=/nonexistent-charm-dir/cephfs.key,suid -- fsuser@123-abc.fs1=/vol /srv/shared"
        ]
    );
    assert_eq!(machine.keys.borrow().values().collect::<Vec<_>>(), [KEY]);

    // The proxy gets a new key: a new URI (auth-rev 2), the client remounts with the new key.
    let mut next = served.state;
    next.config
        .insert("auth-info".into(), format!("{USER}:{NEW_KEY}").into());
    let rotated = server(0).run(Event::ConfigChanged, next);
    assert!(rotated.ok(), "{:?}", rotated.error());
    assert!(rotated.state.get_relation(9).local_app_data["endpoint"].ends_with("&auth-rev=2"));
    let (rel, state) = client_side(&rotated.state, Some(mounted.state));
    let remounted = client(&machine).run(rel.changed(None), state);
    assert!(remounted.ok(), "{:?}", remounted.error());
    assert_eq!(machine.log.borrow().len(), 3, "{:?}", machine.log.borrow());
    assert_eq!(machine.log.borrow()[1], "umount -- /srv/shared");
    assert_eq!(
        machine.keys.borrow().values().collect::<Vec<_>>(),
        [NEW_KEY]
    );

    // The relation goes: unmounted, key file gone.
    let gone = client(&machine).run(rel.broken(), remounted.state);
    assert!(gone.ok(), "{:?}", gone.error());
    assert_eq!(
        machine.log.borrow().last().unwrap(),
        "umount -- /srv/shared"
    );
    assert!(machine.keys.borrow().is_empty());
    assert!(machine.mounted.borrow().is_empty());
}

/// A provider of the library's own: publishes `info` on config-changed.
fn library_provider(info: FilesystemInfo) -> Harness {
    let mut charm = Charm::new();
    let info = Rc::new(info);
    charm.plugin(FilesystemProvider::new(ENDPOINT, PEERS)).on(
        EventKind::ConfigChanged,
        move |ctx: &mut Ctx, _: &Event| -> Result<(), Error> {
            FilesystemProvider::new(ENDPOINT, PEERS).set_info(ctx, &info)?;
            Ok(())
        },
    );
    Harness::new(
        charm,
        "name: server\nprovides:\n  filesystem: {interface: filesystem_info}\npeers:\n  server-peers: {interface: server_peers}\n",
    )
}

#[test]
fn nfs_and_lustre_from_a_library_provider_mount() {
    let cases = [
        (
            FilesystemInfo::Nfs(NfsInfo {
                hostname: "nfs.example.com".into(),
                port: Some(2049),
                path: "/exports/home".into(),
            }),
            "mount -t nfs -o dev,exec,port=2049,rw,suid -- nfs.example.com:/exports/home /srv/shared",
        ),
        (
            FilesystemInfo::Lustre(LustreInfo {
                mgs_nids: vec!["10.1.0.1@tcp".into()],
                fs_name: "scratch".into(),
            }),
            "mount -t lustre -o dev,exec,rw,suid -- 10.1.0.1@tcp:/scratch /srv/shared",
        ),
    ];
    for (info, command) in cases {
        let fs = Relation::new(ENDPOINT, 9, "filesystem-client");
        let served = library_provider(info).run(
            Event::ConfigChanged,
            State::default()
                .leader(true)
                .relation(Relation::peer(PEERS, 0, "server"))
                .relation(fs),
        );
        assert!(served.ok(), "{:?}", served.error());
        let machine = Rc::new(Machine::default());
        machine.helpers.borrow_mut().insert("lustre".into());
        let (rel, state) = client_side(&served.state, None);
        let out = client(&machine).run(rel.changed(None), state);
        assert!(out.ok(), "{:?}", out.error());
        assert_eq!(*machine.log.borrow(), [command]);
    }
}
