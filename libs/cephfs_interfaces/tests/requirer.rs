//! Harness tests of the requirer side.

use cephfs_interfaces::{
    AuthInfo, CephFsError, CephFsRequirer, MountShare, ServerConnected, ShareInfo, UmountShare,
    WireError,
};
use charm::secret::SecretContent;
use charm::{Charm, Ctx, Error, Event, EventKind, Outcome, Status};
use charm_testing::{Harness, Output, Relation, Secret, State};

const EP: &str = "cephfs-share";
const META: &str =
    "name: cephfs-client\nrequires:\n  cephfs-share:\n    interface: cephfs_share\n    limit: 1\n";
const FSID: &str = "123456789-0abc-defg-hijk-lmnopqrstuvw";
const KEY: &str = "R//appdqz4NP4Bxcc5XWrg==";
const SHARE_INFO: &str = r#"{"fsid": "123456789-0abc-defg-hijk-lmnopqrstuvw", "name": "filesystem", "path": "/data", "monitor_hosts": ["192.168.1.1:6789", "192.168.1.2:6789", "192.168.1.3:6789"]}"#;
const SECRET_ID: &str = "secret:cq1rbd5vbd1c78vvhv30";

fn share() -> ShareInfo {
    ShareInfo {
        fsid: FSID.into(),
        name: "filesystem".into(),
        path: "/data".into(),
        monitor_hosts: vec![
            "192.168.1.1:6789".into(),
            "192.168.1.2:6789".into(),
            "192.168.1.3:6789".into(),
        ],
    }
}

fn auth_secret() -> Secret {
    Secret::granted(
        SECRET_ID,
        SecretContent::new()
            .with("username", "user")
            .with("key", KEY),
    )
}

/// A short name for each error, so tests can assert on the kind.
fn kind(e: &CephFsError) -> String {
    match e {
        CephFsError::BadRemoteData { error, .. } => format!("bad-data: {error:?}"),
        CephFsError::SecretNotFound { .. } => "secret-not-found".into(),
        CephFsError::SecretNotGranted { .. } => "secret-not-granted".into(),
        CephFsError::BadSecret { error, .. } => format!("bad-secret: {error:?}"),
        CephFsError::InvalidAuth { .. } => "invalid-auth".into(),
        CephFsError::Model(e) => format!("model: {e}"),
    }
}

/// On update-status the test charm reads the share through the accessors and stores the outcome.
fn probe(ctx: &mut Ctx, _event: &Event) -> Result<(), Error> {
    let requirer = CephFsRequirer::new(EP);
    let Some(relation) = requirer.relation(ctx)? else {
        ctx.store("probe", &"no relation")?;
        return Ok(());
    };
    match requirer.mount_info(ctx, &relation) {
        Ok(None) => ctx.store("probe", &"nothing yet")?,
        Ok(Some(info)) => ctx.store(
            "probe",
            &format!(
                "{} {} {} {}",
                info.share.fsid,
                info.share.path,
                info.auth.username,
                info.auth.key == KEY
            ),
        )?,
        Err(e) => {
            ctx.store("probe", &kind(&e))?;
            return Err(e.into());
        }
    }
    Ok(())
}

fn charm() -> Charm {
    let mut charm = Charm::new();
    charm
        .plugin(CephFsRequirer::new(EP))
        .on(EventKind::UpdateStatus, probe)
        .on_event(|ctx: &mut Ctx, e: &ServerConnected| {
            CephFsRequirer::new(EP).request_share(ctx, &e.relation, "/data")?;
            Ok(())
        })
        .on_event(|_ctx: &mut Ctx, _e: &MountShare| Ok(()))
        .on_event(|_ctx: &mut Ctx, _e: &UmountShare| Ok(()));
    charm
}

fn harness() -> Harness {
    Harness::new(charm(), META)
}

fn rel() -> Relation {
    Relation::new(EP, 3, "cephfs-server").remote_unit(0, [("k", "v")])
}

fn served(auth: &str) -> Relation {
    rel().remote_app_data([
        ("share_info", SHARE_INFO),
        ("auth", auth),
        ("auth-rev", "1"),
    ])
}

fn probe_result(out: &Output) -> String {
    out.state.stored["probe"].as_str().unwrap_or("").to_string()
}

#[test]
fn leader_connects_and_requests() {
    let rel = rel();
    let out = harness().run(rel.joined(0), State::default().leader(true).relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    let connected = out.emitted::<ServerConnected>();
    assert_eq!(connected.len(), 1);
    assert_eq!(connected[0].remote_unit.as_deref(), Some("cephfs-server/0"));
    assert_eq!(out.state.rel(3).unwrap().local_app_data["name"], "/data");
}

#[test]
fn follower_does_not_connect() {
    let rel = rel();
    let out = harness().run(rel.joined(0), State::default().relation(rel));
    assert!(out.ok());
    assert!(out.emitted::<ServerConnected>().is_empty());
    assert!(out.state.rel(3).unwrap().local_app_data.is_empty());
}

#[test]
fn request_share_is_a_no_op_on_a_follower() {
    let mut charm = Charm::new();
    charm.on(EventKind::UpdateStatus, |ctx: &mut Ctx, _e: &Event| {
        let requirer = CephFsRequirer::new(EP);
        let relation = requirer
            .relation(ctx)?
            .ok_or_else(|| Error::fail("no rel"))?;
        let wrote = requirer.request_share(ctx, &relation, "/srv")?;
        ctx.store("wrote", &wrote)?;
        Ok(())
    });
    let harness = Harness::new(charm, META);
    let out = harness.run(Event::UpdateStatus, State::default().relation(rel()));
    assert!(out.ok());
    assert_eq!(out.state.stored["wrote"], false);
    assert_eq!(out.calls_to("relation-set"), 0);
    let out = harness.run(
        Event::UpdateStatus,
        State::default().leader(true).relation(rel()),
    );
    assert_eq!(out.state.stored["wrote"], true);
    assert_eq!(out.state.rel(3).unwrap().local_app_data["name"], "/srv");
}

#[test]
fn share_and_secret_give_a_mount() {
    let rel = served(SECRET_ID);
    let state = State::default().relation(rel.clone()).secret(auth_secret());
    let out = harness().run(rel.changed(None), state);
    assert!(out.ok(), "{:?}", out.error());
    let mounts = out.emitted::<MountShare>();
    assert_eq!(mounts.len(), 1);
    assert_eq!(mounts[0].changed, vec!["share_info", "auth", "auth-rev"]);
    // The snapshot went into this unit's bag.
    let cache = &out.state.rel(3).unwrap().local_unit_data["cache"];
    let cache: serde_json::Value = serde_json::from_str(cache).unwrap();
    assert_eq!(
        cache,
        serde_json::json!({"share_info": SHARE_INFO, "auth": SECRET_ID, "auth-rev": "1"})
    );

    // The accessors read the typed values; the secret is read at its latest revision.
    let out = harness().run(Event::UpdateStatus, out.state);
    assert!(out.ok());
    assert_eq!(probe_result(&out), format!("{FSID} /data user true"));
    assert!(
        out.calls
            .iter()
            .any(|c| c.tool == "secret-get" && c.args.contains("Refresh"))
    );
}

#[test]
fn unchanged_data_gives_no_second_mount() {
    let rel = served(SECRET_ID);
    let state = State::default().relation(rel.clone()).secret(auth_secret());
    let first = harness().run(rel.changed(None), state);
    let out = harness().run(rel.changed(Some(0)), first.state);
    assert!(out.ok());
    assert!(out.emitted::<MountShare>().is_empty());
    assert_eq!(out.calls_to("relation-set"), 0);
}

#[test]
fn a_new_auth_revision_alone_remounts() {
    let rel = served(SECRET_ID);
    let state = State::default().relation(rel.clone()).secret(auth_secret());
    let first = harness().run(rel.changed(None), state);
    let mut state = first.state;
    state.relations[0]
        .remote_app_data
        .insert("auth-rev".into(), "2".into());
    let out = harness().run(rel.changed(None), state);
    let mounts = out.emitted::<MountShare>();
    assert_eq!(mounts.len(), 1);
    assert_eq!(mounts[0].changed, vec!["auth-rev"]);
}

#[test]
fn no_mount_until_share_and_auth_are_both_there() {
    let rel = rel().remote_app_data([("share_info", SHARE_INFO)]);
    let out = harness().run(rel.changed(None), State::default().relation(rel.clone()));
    assert!(out.ok());
    assert!(out.emitted::<MountShare>().is_empty());
    let mut state = out.state;
    state.relations[0]
        .remote_app_data
        .insert("auth".into(), SECRET_ID.into());
    let state = state.secret(auth_secret());
    let out = harness().run(rel.changed(None), state);
    let mounts = out.emitted::<MountShare>();
    assert_eq!(mounts.len(), 1);
    assert_eq!(mounts[0].changed, vec!["auth"]);
}

#[test]
fn plain_auth_needs_no_secret() {
    let plain = format!(r#"plain:{{"username": "user", "key": "{KEY}"}}"#);
    let rel = served(&plain);
    let out = harness().run(rel.changed(None), State::default().relation(rel.clone()));
    assert_eq!(out.emitted::<MountShare>().len(), 1);
    let out = harness().run(Event::UpdateStatus, out.state);
    assert_eq!(probe_result(&out), format!("{FSID} /data user true"));
    assert_eq!(out.calls_to("secret-get"), 0);
}

#[test]
fn a_departing_server_unit_does_not_unmount() {
    let rel = served(SECRET_ID).remote_unit(1, [("k", "v")]);
    let out = harness().run(
        rel.departed(1),
        State::default().relation(rel.clone()).secret(auth_secret()),
    );
    assert!(out.ok());
    assert!(out.emitted::<UmountShare>().is_empty());
}

#[test]
fn a_removed_relation_unmounts() {
    let rel = served(SECRET_ID);
    let out = harness().run(
        rel.broken(),
        State::default().relation(rel.clone()).secret(auth_secret()),
    );
    assert!(out.ok(), "{:?}", out.error());
    let umounts = out.emitted::<UmountShare>();
    assert_eq!(umounts.len(), 1);
    assert_eq!(umounts[0].relation.id, 3);
}

#[test]
fn a_rotated_secret_remounts_and_others_are_ignored() {
    let rel = served(SECRET_ID);
    let secret = auth_secret();
    let state = State::default().relation(rel).secret(secret.clone());
    let out = harness().run(secret.changed(), state.clone());
    let mounts = out.emitted::<MountShare>();
    assert_eq!(mounts.len(), 1);
    assert!(mounts[0].changed.is_empty());
    assert_eq!(mounts[0].relation.id, 3);

    let other = Secret::granted(
        "secret:cq1otherotherotherot",
        SecretContent::new().with("abc", "x"),
    );
    let out = harness().run(other.changed(), state.secret(other.clone()));
    assert!(out.ok());
    assert!(out.emitted::<MountShare>().is_empty());
}

#[test]
fn garbage_cache_is_treated_as_empty() {
    for garbage in ["not json", "[1, 2]", "\"text\"", ""] {
        let rel = served(SECRET_ID).local_unit_data([("cache", garbage)]);
        let out = harness().run(
            rel.changed(None),
            State::default().relation(rel.clone()).secret(auth_secret()),
        );
        assert!(out.ok(), "{garbage:?}: {:?}", out.error());
        assert_eq!(out.emitted::<MountShare>().len(), 1, "{garbage:?}");
        assert!(
            out.logged("ignoring the change-detection cache"),
            "{garbage:?}"
        );
        let cache = &out.state.rel(3).unwrap().local_unit_data["cache"];
        assert!(serde_json::from_str::<serde_json::Value>(cache).is_ok());
    }
}

#[test]
fn a_python_written_cache_is_understood() {
    // Python writes the snapshot in the bag's order; same content means nothing changed.
    let python_cache = format!(
        r#"{{"auth-rev": "1", "share_info": {}, "auth": "{SECRET_ID}"}}"#,
        serde_json::to_string(SHARE_INFO).unwrap()
    );
    let rel = served(SECRET_ID).local_unit_data([("cache", python_cache.as_str())]);
    let out = harness().run(
        rel.changed(None),
        State::default().relation(rel.clone()).secret(auth_secret()),
    );
    assert!(out.ok());
    assert!(out.emitted::<MountShare>().is_empty());
    assert_eq!(out.calls_to("relation-set"), 0);
}

#[test]
fn relation_changed_costs_three_hook_tools() {
    let rel = served(SECRET_ID);
    let out = harness().run(
        rel.changed(None),
        State::default().relation(rel.clone()).secret(auth_secret()),
    );
    let tools: Vec<&str> = out.calls.iter().map(|c| c.tool).collect();
    // remote app bag, own unit bag, then the single write of the cache.
    assert_eq!(tools, vec!["relation-get", "relation-get", "relation-set"]);
}

fn probe_with(remote: &[(&str, &str)], secrets: Vec<Secret>) -> Output {
    let rel = rel().remote_app_data(remote.iter().copied());
    let mut state = State::default().relation(rel);
    for s in secrets {
        state = state.secret(s);
    }
    harness().run(Event::UpdateStatus, state)
}

fn assert_blocked(out: &Output, expected_kind: &str, message_part: &str) {
    assert!(
        out.ok(),
        "bad data must not fail the hook: {:?}",
        out.error()
    );
    assert_eq!(probe_result(out), expected_kind);
    let status = out.state.unit_status.clone().unwrap_or(Status::active(""));
    assert_eq!(status.kind, charm::StatusKind::Blocked, "{status:?}");
    assert!(status.message.contains(message_part), "{status:?}");
    assert!(status.message.contains("cephfs-share:3"), "{status:?}");
    assert!(!status.message.contains(KEY), "{status:?}");
    assert!(!out.logs.iter().any(|(_, l)| l.contains(KEY)));
}

#[test]
fn auth_without_a_kind() {
    let out = probe_with(&[("share_info", SHARE_INFO), ("auth", KEY)], vec![]);
    assert_blocked(&out, "bad-data: AuthWithoutKind", "auth has no kind");
}

#[test]
fn auth_of_an_unknown_kind() {
    let out = probe_with(
        &[("share_info", SHARE_INFO), ("auth", "scheme:/path")],
        vec![],
    );
    assert_blocked(
        &out,
        "bad-data: AuthUnknownKind(\"scheme\")",
        "unknown kind \"scheme\"",
    );
}

#[test]
fn auth_secret_without_an_id() {
    let out = probe_with(&[("share_info", SHARE_INFO), ("auth", "secret:")], vec![]);
    assert_blocked(&out, "bad-data: AuthEmptySecretId", "no secret id");
}

#[test]
fn plain_auth_that_is_not_json() {
    let out = probe_with(
        &[
            ("share_info", SHARE_INFO),
            ("auth", "plain:{\"username\": "),
        ],
        vec![],
    );
    assert!(probe_result(&out).starts_with("bad-data: PlainAuthNotJson"));
    assert_blocked(&out, &probe_result(&out), "plain auth is not valid JSON");
}

#[test]
fn plain_auth_that_is_not_an_object() {
    let bad = format!("plain:\"{KEY}\"");
    let out = probe_with(&[("share_info", SHARE_INFO), ("auth", &bad)], vec![]);
    assert_blocked(&out, "bad-data: PlainAuthNotObject", "not a JSON object");
}

#[test]
fn plain_auth_with_missing_or_wrong_fields() {
    let out = probe_with(
        &[
            ("share_info", SHARE_INFO),
            ("auth", r#"plain:{"key": "k"}"#),
        ],
        vec![],
    );
    assert_blocked(
        &out,
        "bad-data: AuthMissingField(\"username\")",
        "no \"username\" field",
    );
    let out = probe_with(
        &[
            ("share_info", SHARE_INFO),
            ("auth", r#"plain:{"username": "u", "key": 5}"#),
        ],
        vec![],
    );
    assert_blocked(&out, "bad-data: AuthBadField(\"key\")", "not a string");
}

#[test]
fn share_info_that_is_not_json() {
    let out = probe_with(
        &[("share_info", "{\"fsid\": "), ("auth", SECRET_ID)],
        vec![auth_secret()],
    );
    assert!(probe_result(&out).starts_with("bad-data: ShareInfoNotJson"));
    assert_blocked(&out, &probe_result(&out), "share_info is not valid JSON");
}

#[test]
fn share_info_with_missing_or_wrong_fields() {
    let out = probe_with(
        &[
            ("share_info", r#"{"fsid": "f", "name": "n", "path": "/"}"#),
            ("auth", SECRET_ID),
        ],
        vec![auth_secret()],
    );
    assert_blocked(
        &out,
        "bad-data: ShareInfoMissingField(\"monitor_hosts\")",
        "no \"monitor_hosts\" field",
    );
    let out = probe_with(
        &[
            (
                "share_info",
                r#"{"fsid": "f", "name": "n", "path": "/", "monitor_hosts": "10.0.0.1"}"#,
            ),
            ("auth", SECRET_ID),
        ],
        vec![auth_secret()],
    );
    assert_blocked(
        &out,
        "bad-data: ShareInfoBadField { field: \"monitor_hosts\", expected: \"a list of strings\" }",
        "not a list of strings",
    );
    let out = probe_with(&[("share_info", "[]"), ("auth", SECRET_ID)], vec![]);
    assert_blocked(&out, "bad-data: ShareInfoNotObject", "not a JSON object");
}

#[test]
fn a_secret_that_does_not_exist() {
    let out = probe_with(&[("share_info", SHARE_INFO), ("auth", SECRET_ID)], vec![]);
    assert_blocked(&out, "secret-not-found", "does not exist");
}

#[test]
fn a_secret_that_was_not_granted() {
    let rel = served(SECRET_ID);
    let harness = Harness::new(charm(), META).fail("secret-get", "ERROR permission denied", None);
    let out = harness.run(Event::UpdateStatus, State::default().relation(rel));
    assert_blocked(&out, "secret-not-granted", "not granted");
}

#[test]
fn a_secret_with_the_wrong_content() {
    let secret = Secret::granted(SECRET_ID, SecretContent::new().with("username", "user"));
    let out = probe_with(
        &[("share_info", SHARE_INFO), ("auth", SECRET_ID)],
        vec![secret],
    );
    assert_blocked(
        &out,
        "bad-secret: AuthMissingField(\"key\")",
        "no \"key\" field",
    );
}

#[test]
fn a_failing_secret_get_fails_the_hook() {
    let rel = served(SECRET_ID);
    let harness = Harness::new(charm(), META).fail("secret-get", "ERROR connection refused", None);
    let out = harness.run(Event::UpdateStatus, State::default().relation(rel));
    assert!(!out.ok());
}

#[test]
fn errors_are_classified() {
    use charm::Classify;
    let e = CephFsError::BadRemoteData {
        relation: charm::RelationId::new(EP, 1),
        app: "x".into(),
        error: WireError::AuthWithoutKind,
    };
    assert_eq!(e.outcome(), Outcome::Blocked);
    let e = CephFsError::Model(charm::ModelError::NotLeader {
        unit: "a/0".into(),
        action: "x".into(),
    });
    assert_eq!(e.outcome(), Outcome::Fail);
}

#[test]
fn auth_info_debug_is_redacted() {
    let info = AuthInfo::new("user", KEY);
    assert!(!format!("{info:?}").contains(KEY));
    assert_eq!(share().to_json(), SHARE_INFO);
}
