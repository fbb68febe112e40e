//! Harness tests of the provider side.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::secret::SecretContent;
use charm::{Charm, Ctx, Error, Event, EventKind, Outcome};
use charm_testing::{Harness, Output, Relation, Secret, State};
use filesystem_info::{CephfsInfo, FilesystemInfo, FilesystemProvider, Key, LustreInfo, NfsInfo};
use serde::Deserialize;

const META: &str = "name: server\nprovides:\n  filesystem: {interface: filesystem_info}\npeers:\n  server-peers: {interface: server_peers}\n";
const KEY: &str = "R//appdqz4NP4Bxcc5XWrg==";
const NEW_KEY: &str = "AQBzYmFyYmF6cXV4c2VjcmV0a2V5MQ==";
const SECRET_ID: &str = "secret:d0erdgfmp25c762i8np0";
const CEPH_URI: &str = "cephfs://fsuser@(10.0.0.1%3A6789%2C10.0.0.2%3A6789)/vol/a%20b?fsid=123-abc&name=fs1&auth=secret%3Ad0erdgfmp25c762i8np0&auth-rev=1";

#[derive(Deserialize)]
struct Config {
    scheme: String,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    host: Option<String>,
}

fn provider() -> FilesystemProvider {
    FilesystemProvider::new("filesystem", "server-peers")
}

/// config-changed publishes the filesystem the config describes and stores what set_info said.
fn publish(ctx: &mut Ctx, _event: &Event) -> Result<(), Error> {
    let config: Config = ctx.config()?;
    let info = match config.scheme.as_str() {
        "nfs" => FilesystemInfo::Nfs(NfsInfo {
            hostname: config.host.unwrap_or_else(|| "fe80::1".into()),
            port: Some(2049),
            path: "/srv".into(),
        }),
        "lustre" => FilesystemInfo::Lustre(LustreInfo {
            mgs_nids: vec!["192.168.227.11@tcp1".into(), "192.168.227.12@tcp1".into()],
            fs_name: "lustre".into(),
        }),
        _ => FilesystemInfo::Cephfs(CephfsInfo {
            fsid: "123-abc".into(),
            name: "fs1".into(),
            path: "/vol/a b".into(),
            monitor_hosts: vec!["10.0.0.1:6789".into(), "10.0.0.2:6789".into()],
            user: "fsuser".into(),
            key: Key::new(config.key.unwrap_or_else(|| KEY.into())),
        }),
    };
    let published = provider().set_info(ctx, &info)?;
    ctx.store("published", &published)?;
    Ok(())
}

fn harness() -> Harness {
    let mut charm = Charm::new();
    charm
        .plugin(provider())
        .on(EventKind::ConfigChanged, publish);
    Harness::new(charm, META)
}

fn peers() -> Relation {
    Relation::peer("server-peers", 0, "server")
}

fn client(id: u32) -> Relation {
    Relation::new("filesystem", id, &format!("client{id}")).remote_unit(0, [("k", "v")])
}

fn endpoint(out: &Output, relation: u32) -> Option<String> {
    out.state
        .get_relation(relation)
        .local_app_data
        .get("endpoint")
        .cloned()
}

fn auth_secret(key: &str) -> Secret {
    Secret::owned(SECRET_ID, SecretContent::new().with("key", key)).label("auth")
}

/// A leader that already published the cephfs share to relations 1 and 2 (as `set_info` does).
fn published() -> State {
    published_with(auth_secret(KEY))
}

fn published_with(mut secret: Secret) -> State {
    secret.grants.insert(1, Default::default());
    secret.grants.insert(2, Default::default());
    State::default()
        .leader(true)
        .config("scheme", "cephfs")
        .secret(secret)
        .relation(peers().local_app_data([("endpoint", CEPH_URI)]))
        .relation(client(1).local_app_data([("endpoint", CEPH_URI)]))
        .relation(client(2).local_app_data([("endpoint", CEPH_URI)]))
}

#[test]
fn cephfs_is_published_to_every_relation_with_one_secret() {
    let state = State::default()
        .leader(true)
        .config("scheme", "cephfs")
        .relation(peers())
        .relation(client(1))
        .relation(client(2));
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.error());
    let secret = out.state.get_secret("auth");
    let expected = CEPH_URI.replace(
        "secret%3Ad0erdgfmp25c762i8np0",
        &secret.id.replace(':', "%3A"),
    );
    assert_eq!(endpoint(&out, 1).as_deref(), Some(expected.as_str()));
    assert_eq!(endpoint(&out, 2).as_deref(), Some(expected.as_str()));
    assert_eq!(
        out.state.get_relation(0).local_app_data["endpoint"],
        expected,
        "the peer copy"
    );
    assert_eq!(secret.owner, Some(charm::SecretOwner::Application));
    assert_eq!(
        secret.description.as_deref(),
        Some("Cephx key to authenticate against the CephFS share")
    );
    assert_eq!(secret.revisions.len(), 1);
    assert_eq!(secret.revisions[&1].get("key"), Some(KEY));
    assert_eq!(secret.revisions[&1].len(), 1);
    assert_eq!(secret.grants.keys().copied().collect::<Vec<_>>(), [1, 2]);
    assert_eq!(out.calls_to("secret-add"), 1);
    assert_eq!(out.calls_to("secret-grant"), 2);
    assert!(!out.logs.iter().any(|(_, l)| l.contains(KEY)));
}

#[test]
fn publishing_the_same_again_costs_no_write_and_no_revision() {
    let out = harness().run(Event::ConfigChanged, published());
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.state.stored["published"], true);
    for tool in [
        "secret-add",
        "secret-set",
        "secret-grant",
        "relation-set",
        "secret-info-get",
    ] {
        assert_eq!(out.calls_to(tool), 0, "{tool}");
    }
    assert_eq!(out.state.get_secret("auth").revisions.len(), 1);
}

#[test]
fn a_new_key_is_a_new_revision_and_a_new_uri_everywhere() {
    let state = published().config("key", NEW_KEY);
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.error());
    let secret = out.state.get_secret("auth");
    assert_eq!(secret.latest(), 2);
    assert_eq!(secret.revisions[&2].get("key"), Some(NEW_KEY));
    let rotated = CEPH_URI.replace("auth-rev=1", "auth-rev=2");
    for relation in [0, 1, 2] {
        assert_eq!(
            out.state.get_relation(relation).local_app_data["endpoint"],
            rotated
        );
    }
    assert_eq!(out.calls_to("secret-set"), 1);
    assert_eq!(out.calls_to("secret-add"), 0);
    // Already granted relations are granted again only because their URI changed.
    assert_eq!(out.calls_to("secret-grant"), 2);
    assert!(!out.logs.iter().any(|(_, l)| l.contains(NEW_KEY)));
}

#[test]
fn nfs_and_lustre_need_no_secret() {
    for (scheme, uri) in [
        ("nfs", "nfs://(%5Bfe80%3A%3A1%5D%3A2049)/srv"),
        (
            "lustre",
            "lustre://(192.168.227.11%40tcp1%2C192.168.227.12%40tcp1)/?fs-name=lustre",
        ),
    ] {
        let state = State::default()
            .leader(true)
            .config("scheme", scheme)
            .relation(peers())
            .relation(client(1));
        let out = harness().run(Event::ConfigChanged, state);
        assert!(out.ok(), "{:?}", out.error());
        assert_eq!(endpoint(&out, 1).as_deref(), Some(uri));
        assert_eq!(out.state.get_relation(0).local_app_data["endpoint"], uri);
        assert!(out.state.secrets.is_empty());
        assert_eq!(out.calls_to("secret-grant"), 0);
    }
}

#[test]
fn a_follower_publishes_nothing() {
    let state = State::default()
        .config("scheme", "cephfs")
        .relation(peers())
        .relation(client(1));
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.state.stored["published"], false);
    assert!(out.state.secrets.is_empty());
    assert_eq!(out.calls_to("relation-set"), 0);
}

#[test]
fn data_clients_would_reject_is_refused_before_anything_is_touched() {
    for host in ["-oexec", "", "h\u{7}"] {
        let state = State::default()
            .leader(true)
            .config("scheme", "nfs")
            .config("host", host)
            .relation(peers())
            .relation(client(1));
        let out = harness().run(Event::ConfigChanged, state);
        assert!(out.ok(), "bad data is a status, not a failed hook");
        let status = out.state.unit_status.clone().unwrap();
        assert_eq!(status.kind, charm::StatusKind::Blocked, "{host:?}");
        assert!(
            status
                .message
                .starts_with("cannot publish the filesystem: "),
            "{status}"
        );
        assert_eq!(endpoint(&out, 1), None);
        assert_eq!(out.calls_to("relation-set"), 0);
    }
    let out = harness().run(
        Event::ConfigChanged,
        State::default()
            .leader(true)
            .config("scheme", "cephfs")
            .config("key", "")
            .relation(peers()),
    );
    assert!(out.state.secrets.is_empty(), "no secret for an empty key");
    assert_eq!(
        out.state.unit_status.unwrap().message,
        "cannot publish the filesystem: empty cephx key"
    );
}

#[test]
fn without_the_peer_relation_clients_are_still_served() {
    let state = State::default()
        .leader(true)
        .config("scheme", "nfs")
        .relation(client(1));
    let out = harness().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        endpoint(&out, 1).as_deref(),
        Some("nfs://(%5Bfe80%3A%3A1%5D%3A2049)/srv")
    );
    assert!(out.logs.iter().any(|(_, l)| l.contains("not stored")));
}

#[test]
fn a_joining_client_gets_the_stored_endpoint_without_a_secret_read() {
    let mut state = published();
    state.relations.retain(|r| r.id != 2);
    let newcomer = client(3);
    let state = state.relation(newcomer.clone());
    let out = harness().run(newcomer.joined(0), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(endpoint(&out, 3).as_deref(), Some(CEPH_URI));
    assert!(out.state.get_secret("auth").grants.contains_key(&3));
    for tool in ["secret-get", "secret-set", "secret-info-get", "secret-add"] {
        assert_eq!(out.calls_to(tool), 0, "{tool}");
    }
    // A second joining unit of the same client changes nothing.
    let again = harness().run(newcomer.joined(1), out.state);
    assert_eq!(again.calls_to("secret-grant"), 0);
    assert_eq!(again.calls_to("relation-set"), 0);
}

#[test]
fn a_joining_client_before_anything_was_published_gets_nothing() {
    let newcomer = client(3);
    let state = State::default()
        .leader(true)
        .config("scheme", "cephfs")
        .relation(peers())
        .relation(newcomer.clone());
    let out = harness().run(newcomer.joined(0), state);
    assert!(out.ok());
    assert_eq!(endpoint(&out, 3), None);
    // On a follower nothing is sent either.
    let mut state = published();
    state.leader = false;
    let state = state.relation(newcomer.clone());
    let out = harness().run(newcomer.joined(0), state);
    assert!(out.ok());
    assert_eq!(endpoint(&out, 3), None);
    assert_eq!(out.calls_to("secret-grant"), 0);
}

#[test]
fn a_corrupt_stored_endpoint_blocks_the_join() {
    let newcomer = client(3);
    let state = State::default()
        .leader(true)
        .config("scheme", "cephfs")
        .relation(peers().local_app_data([("endpoint", "cephfs://(h)/")]))
        .relation(newcomer.clone());
    let out = harness().run(newcomer.joined(0), state);
    assert!(out.ok());
    let status = out.state.unit_status.clone().unwrap();
    assert_eq!(status.kind, charm::StatusKind::Blocked);
    assert!(status.message.contains("peer relation"), "{status}");
    assert_eq!(endpoint(&out, 3), None);
}

#[test]
fn obsolete_revisions_of_the_auth_secret_are_pruned_once() {
    let secret = auth_secret(KEY).revision(SecretContent::new().with("key", NEW_KEY));
    let state = published_with(secret.clone());
    let out = harness().run(secret.remove(1), state.clone());
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.removed_secret_revisions,
        vec![(SECRET_ID.to_string(), Some(1))]
    );
    // Juju repeats itself: the second event is ignored.
    let again = harness().run(secret.remove(1), out.state);
    assert!(again.removed_secret_revisions.is_empty());
    // The latest revision is never removed, nor another secret's, nor on a follower.
    let out = harness().run(secret.remove(2), state.clone());
    assert!(out.removed_secret_revisions.is_empty());
    let other = Secret::owned(
        "secret:cq1rbd5vbd1c78vvhv30",
        SecretContent::new().with("k", "v"),
    )
    .label("mine")
    .revision(SecretContent::new().with("k", "w"));
    let out = harness().run(other.remove(1), state.clone().secret(other.clone()));
    assert!(out.removed_secret_revisions.is_empty());
    assert_eq!(
        out.calls
            .iter()
            .filter(|c| c.tool.starts_with("secret"))
            .count(),
        0
    );
    let mut follower = state;
    follower.leader = false;
    assert!(
        harness()
            .run(secret.remove(1), follower)
            .removed_secret_revisions
            .is_empty()
    );
}

#[test]
fn errors_classify() {
    use charm::Classify;
    let e =
        filesystem_info::FilesystemInfoError::InvalidInfo(filesystem_info::WireError::MissingUser);
    assert_eq!(e.outcome(), Outcome::Blocked);
}
