//! Bad input across the contract: every malformed `auth` and `share_info` form a provider could
//! send, a granted secret that was removed, and caches holding garbage. None of them fails a
//! hook; each becomes a Blocked status that names the problem (and never shows a key).

use cephfs_contract::*;
use cephfs_interfaces::{CephFsProvider, MountShare, ShareRequested};
use charm::secret::SecretContent;
use charm::{Charm, StatusKind};
use charm_testing::{Harness, Output, Relation, Secret, State};

const SECRET_ID: &str = "secret:cq1rbd5vbd1c78vvhv30";

fn secret() -> Secret {
    Secret::granted(
        SECRET_ID,
        SecretContent::new()
            .with("username", USERNAME)
            .with("key", KEY),
    )
}

/// The client charm receiving this provider app bag.
fn client_gets(sb: &Sandbox, bag: &[(&str, &str)], secrets: Vec<Secret>) -> Output {
    let rel = Relation::new(ENDPOINT, 2, SERVER_APP)
        .remote_app_data(bag.iter().copied())
        .remote_unit(0, [("k", "v")]);
    let mut state = sb.client_state().relation(rel.clone());
    for s in secrets {
        state = state.secret(s);
    }
    client(0).run(rel.changed(None), state)
}

fn assert_blocked(sb: &Sandbox, out: &Output, expected: &str) {
    assert!(
        out.ok(),
        "bad remote data must not fail the hook: {:?}",
        out.error()
    );
    let status = out
        .state
        .unit_status
        .clone()
        .unwrap_or(charm::Status::active(""));
    assert_eq!(status.kind, StatusKind::Blocked, "{status}");
    assert!(
        status.message.contains(expected),
        "{status} should say {expected:?}"
    );
    assert!(
        status.message.contains(&format!("relation {ENDPOINT}:2")),
        "{status}"
    );
    assert!(!status.message.contains(KEY), "{status}");
    assert!(!out.logs.iter().any(|(_, l)| l.contains(KEY)));
    assert_eq!(sb.log("mount.log"), "", "nothing is mounted");
}

#[test]
fn every_malformed_auth_form() {
    let plain_string = format!("plain:\"{KEY}\"");
    let cases: Vec<(String, &str)> = vec![
        (
            KEY.to_string(),
            "auth has no kind (expected secret:<id> or plain:<json>)",
        ),
        ("scheme:/path".into(), "auth has unknown kind \"scheme\""),
        (format!("{KEY}:x"), "auth has unknown kind \"<not shown>\""),
        (
            "secret:".into(),
            "auth names a secret but gives no secret id",
        ),
        (
            "plain:{\"username\": \"user\",".into(),
            "plain auth is not valid JSON",
        ),
        (plain_string, "plain auth is not a JSON object"),
        (
            "plain:{\"username\": \"user\"}".into(),
            "auth info has no \"key\" field",
        ),
        (
            "plain:{\"key\": \"k\"}".into(),
            "auth info has no \"username\" field",
        ),
        (
            "plain:{\"username\": [\"user\"], \"key\": \"k\"}".into(),
            "auth info field \"username\" is not a string",
        ),
    ];
    for (auth, expected) in cases {
        let sb = Sandbox::new("bad-auth");
        let out = client_gets(&sb, &[("share_info", SHARE_INFO), ("auth", &auth)], vec![]);
        assert_blocked(&sb, &out, expected);
    }
}

#[test]
fn every_malformed_share_info_form() {
    let cases = [
        ("{\"fsid\": ", "share_info is not valid JSON"),
        ("[\"a\"]", "share_info is not a JSON object"),
        (
            r#"{"name": "n", "path": "/", "monitor_hosts": []}"#,
            "share_info has no \"fsid\" field",
        ),
        (
            r#"{"fsid": "f", "path": "/", "monitor_hosts": []}"#,
            "share_info has no \"name\" field",
        ),
        (
            r#"{"fsid": "f", "name": "n", "monitor_hosts": []}"#,
            "share_info has no \"path\" field",
        ),
        (
            r#"{"fsid": "f", "name": "n", "path": "/"}"#,
            "share_info has no \"monitor_hosts\" field",
        ),
        (
            r#"{"fsid": 7, "name": "n", "path": "/", "monitor_hosts": []}"#,
            "share_info field \"fsid\" is not a string",
        ),
        (
            r#"{"fsid": "f", "name": "n", "path": "/", "monitor_hosts": "h:1"}"#,
            "share_info field \"monitor_hosts\" is not a list of strings",
        ),
    ];
    for (share_info, expected) in cases {
        let sb = Sandbox::new("bad-share");
        let out = client_gets(
            &sb,
            &[("share_info", share_info), ("auth", SECRET_ID)],
            vec![secret()],
        );
        assert_blocked(&sb, &out, expected);
    }
}

#[test]
fn a_granted_secret_that_was_removed() {
    let sb = Sandbox::new("removed-secret");
    let out = client_gets(
        &sb,
        &[
            ("share_info", SHARE_INFO),
            ("auth", SECRET_ID),
            ("auth-rev", "1"),
        ],
        vec![],
    );
    assert_blocked(
        &sb,
        &out,
        &format!("auth secret {SECRET_ID} does not exist"),
    );
    // When the server sends a new secret, the client recovers.
    let sb2 = Sandbox::new("removed-secret-recovers");
    let out = client_gets(
        &sb2,
        &[
            ("share_info", SHARE_INFO),
            ("auth", SECRET_ID),
            ("auth-rev", "1"),
        ],
        vec![secret()],
    );
    assert_eq!(
        out.state.unit_status.map(|s| s.kind),
        Some(StatusKind::Active)
    );
}

#[test]
fn a_secret_with_the_wrong_content() {
    let sb = Sandbox::new("secret-content");
    let bad = Secret::granted(SECRET_ID, SecretContent::new().with("user", USERNAME));
    let out = client_gets(
        &sb,
        &[("share_info", SHARE_INFO), ("auth", SECRET_ID)],
        vec![bad],
    );
    assert_blocked(&sb, &out, "auth info has no \"username\" field");
}

#[test]
fn a_requirer_cache_holding_garbage() {
    let sb = Sandbox::new("garbage-client-cache");
    let rel = Relation::new(ENDPOINT, 2, SERVER_APP)
        .remote_app_data([
            ("share_info", SHARE_INFO),
            ("auth", SECRET_ID),
            ("auth-rev", "1"),
        ])
        .local_unit_data([("cache", "{\"share_info\": oops")]);
    let out = client(0).run(
        rel.changed(None),
        sb.client_state().relation(rel.clone()).secret(secret()),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.logged("ignoring the change-detection cache"));
    assert_eq!(out.emitted::<MountShare>().len(), 1);
    assert_eq!(
        out.state.unit_status.map(|s| s.kind),
        Some(StatusKind::Active)
    );
}

#[test]
fn a_provider_cache_holding_garbage() {
    for garbage in ["[]", "nope", "{\"name\": 5}"] {
        let rel = Relation::new(ENDPOINT, 2, CLIENT_APP)
            .remote_app_data([("name", "/data")])
            .local_app_data([("cache", garbage)]);
        let out = server(0).run(rel.changed(None), configured_server().relation(rel));
        assert!(out.ok(), "{garbage}: {:?}", out.error());
        assert_eq!(out.emitted::<ShareRequested>().len(), 1, "{garbage}");
    }
    // The library alone, too.
    let mut charm = Charm::new();
    charm.plugin(CephFsProvider::new(ENDPOINT));
    let harness = Harness::new(charm, cephfs_server_proxy::METADATA);
    let rel = Relation::new(ENDPOINT, 2, CLIENT_APP)
        .remote_app_data([("name", "/data")])
        .local_app_data([("cache", "\u{0}")]);
    let out = harness.run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
}
