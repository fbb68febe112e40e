//! Wire fixtures both ways: the Rust side reads what the Python library writes, and writes
//! exactly what the Python library reads.

use cephfs_contract::*;
use cephfs_interfaces::wire::{self, AuthRef};
use cephfs_interfaces::{
    AuthInfo, CephFsProvider, CephFsRequirer, MountShare, ShareInfo, ShareRequested,
};
use charm::{Charm, Ctx, Error, Event, EventKind};
use charm_testing::{Harness, Relation, Secret, State};

fn share() -> ShareInfo {
    ShareInfo {
        fsid: FSID.into(),
        name: NAME.into(),
        path: PATH.into(),
        monitor_hosts: MONITOR_HOSTS.iter().map(|h| h.to_string()).collect(),
    }
}

/// A bare requirer charm that records what `mount_info` returns on MountShare.
fn requirer() -> Harness {
    let mut charm = Charm::new();
    charm
        .plugin(CephFsRequirer::new(ENDPOINT))
        .on_event(|ctx: &mut Ctx, e: &MountShare| {
            let info = CephFsRequirer::new(ENDPOINT).mount_info(ctx, &e.relation)?;
            let shown = info.map(|i| {
                format!(
                    "{} {} {} {} {}",
                    i.share.to_json(),
                    i.auth.username,
                    i.auth.key == KEY,
                    i.auth.key == NEW_KEY,
                    e.changed.join(",")
                )
            });
            ctx.store("mounted", &shown)?;
            Ok(())
        });
    Harness::new(
        charm,
        "name: cephfs-client\nrequires:\n  cephfs-share: {interface: cephfs_share, limit: 1}\n",
    )
}

/// A bare provider charm that serves with the fixture values (key from stored state).
fn provider() -> Harness {
    fn serve(ctx: &mut Ctx, relation: &charm::RelationId) -> Result<(), Error> {
        let key: String = ctx.stored("key")?.unwrap_or_else(|| KEY.to_string());
        CephFsProvider::new(ENDPOINT).set_share(
            ctx,
            relation,
            &share(),
            &AuthInfo::new(USERNAME, key),
        )?;
        Ok(())
    }
    let mut charm = Charm::new();
    charm
        .plugin(CephFsProvider::new(ENDPOINT))
        .on_event(|ctx: &mut Ctx, e: &ShareRequested| serve(ctx, &e.relation))
        .on(EventKind::ConfigChanged, |ctx: &mut Ctx, _e: &Event| {
            for r in CephFsProvider::new(ENDPOINT).requests(ctx)? {
                serve(ctx, &r.relation)?;
            }
            Ok(())
        });
    Harness::new(
        charm,
        "name: cephfs-server\nprovides:\n  cephfs-share: {interface: cephfs_share}\n",
    )
}

fn granted(secret: &Secret) -> Secret {
    let mut copy = secret.clone();
    copy.owner = None;
    copy.tracked = None;
    copy.label = None;
    copy.grants.clear();
    copy
}

// ----- Python provider -> Rust requirer -----

#[test]
fn rust_requirer_reads_the_python_provider_with_a_secret() {
    let py = fixture(PY_PROVIDER_SECRET);
    let secret = py.secret.clone().map(|s| granted(&s)).into_iter();
    let rel = Relation::new(ENDPOINT, 0, "cephfs-server")
        .remote_app_data(py.app.clone())
        .remote_unit(0, py.unit.clone());
    let mut state = State::default().relation(rel.clone());
    for s in secret {
        state = state.secret(s);
    }
    let out = requirer().run(rel.changed(None), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.stored["mounted"],
        format!("{SHARE_INFO} user true false share_info,auth,auth-rev")
    );
    // The secret is read at its latest revision, as Python's get_content(refresh=True).
    assert!(
        out.calls
            .iter()
            .any(|c| c.tool == "secret-get" && c.args.contains("Refresh"))
    );
}

#[test]
fn rust_requirer_follows_the_python_providers_rotation() {
    let first = fixture(PY_PROVIDER_SECRET);
    let rotated = fixture(PY_PROVIDER_ROTATED);
    let rel = Relation::new(ENDPOINT, 0, "cephfs-server").remote_app_data(first.app.clone());
    let state = State::default().relation(rel.clone()).secret(granted(
        &first
            .secret
            .clone()
            .unwrap_or_else(|| Secret::granted("x", Default::default())),
    ));
    let out = requirer().run(rel.changed(None), state);
    let mut state = out.state;
    state.relations[0].remote_app_data = rotated.app.clone();
    if let Some(s) = &rotated.secret {
        state.secrets[0].revisions = s.revisions.clone();
    }
    let out = requirer().run(rel.changed(None), state);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.stored["mounted"],
        format!("{SHARE_INFO} user false true auth-rev")
    );
}

#[test]
fn rust_requirer_reads_a_plain_provider() {
    let py = fixture(PY_PROVIDER_PLAIN);
    let rel = Relation::new(ENDPOINT, 0, "cephfs-server").remote_app_data(py.app.clone());
    let out = requirer().run(rel.changed(None), State::default().relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.stored["mounted"],
        format!("{SHARE_INFO} user true false share_info,auth")
    );
    assert_eq!(out.calls_to("secret-get"), 0);
    assert_eq!(
        AuthRef::parse(&py.app["auth"]),
        Ok(AuthRef::Plain(AuthInfo::new(USERNAME, KEY)))
    );
}

#[test]
fn rust_requirer_understands_a_python_written_cache() {
    // A unit upgraded from the Python requirer: its cache says it has seen this bag already.
    let py_provider = fixture(PY_PROVIDER_SECRET);
    let py_requirer = fixture(PY_REQUIRER);
    let rel = Relation::new(ENDPOINT, 0, "cephfs-server")
        .remote_app_data(py_provider.app.clone())
        .local_unit_data(py_requirer.unit.clone());
    let out = requirer().run(rel.changed(None), State::default().relation(rel));
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.emitted::<MountShare>().is_empty());
    assert_eq!(
        out.calls_to("relation-set"),
        0,
        "the cache is not rewritten"
    );
}

// ----- Rust requirer -> Python provider -----

#[test]
fn rust_requirer_writes_what_the_python_provider_reads() {
    let py = fixture(PY_REQUIRER);
    let rel = Relation::new(ENDPOINT, 0, "cephfs-server").remote_unit(0, BagData::new());
    let mut charm = Charm::new();
    charm.on(
        EventKind::RelationJoined,
        |ctx: &mut Ctx, e: &charm::RelationEvent| {
            CephFsRequirer::new(ENDPOINT).request_share(ctx, &e.relation, PATH)?;
            Ok(())
        },
    );
    let harness = Harness::new(
        charm,
        "name: cephfs-client\nrequires:\n  cephfs-share: {interface: cephfs_share}\n",
    );
    let out = harness.run(rel.joined(0), State::default().leader(true).relation(rel));
    assert_eq!(
        out.state.rel(0).map(|r| r.local_app_data.clone()),
        Some(py.app)
    );
}

#[test]
fn rust_requirer_cache_is_what_python_json_loads() {
    let py_provider = fixture(PY_PROVIDER_SECRET);
    let py_requirer = fixture(PY_REQUIRER);
    let rel = Relation::new(ENDPOINT, 0, "cephfs-server").remote_app_data(py_provider.app.clone());
    let state = State::default().relation(rel.clone()).secret(granted(
        &py_provider
            .secret
            .clone()
            .unwrap_or_else(|| Secret::granted("x", Default::default())),
    ));
    let out = requirer().run(rel.changed(None), state);
    let ours = &out.state.rel(0).unwrap().local_unit_data["cache"];
    let parsed: serde_json::Value = serde_json::from_str(ours).unwrap();
    let theirs: serde_json::Value = serde_json::from_str(&py_requirer.unit["cache"]).unwrap();
    assert_eq!(parsed, theirs);
    // Python separators.
    assert!(ours.contains("\", \"") && ours.contains("\": \""), "{ours}");
}

// ----- Python requirer -> Rust provider -----

#[test]
fn rust_provider_reads_the_python_requirer() {
    let py = fixture(PY_REQUIRER);
    let rel = Relation::new(ENDPOINT, 0, "cephfs-client")
        .remote_app_data(py.app.clone())
        .remote_unit(0, py.unit.clone());
    let out = provider().run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    let requested = out.emitted::<ShareRequested>();
    assert_eq!(requested.len(), 1);
    assert_eq!(requested[0].name, PATH);
}

#[test]
fn rust_provider_takes_over_from_the_python_provider() {
    // After an upgrade from the Python library, the served request is not requested again.
    let py_provider = fixture(PY_PROVIDER_SECRET);
    let py_requirer = fixture(PY_REQUIRER);
    let rel = Relation::new(ENDPOINT, 0, "cephfs-client")
        .remote_app_data(py_requirer.app.clone())
        .local_app_data(py_provider.app.clone())
        .local_unit_data(py_provider.unit.clone());
    let out = provider().run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.emitted::<ShareRequested>().is_empty());
}

// ----- Rust provider -> Python requirer -----

#[test]
fn rust_provider_writes_what_the_python_requirer_reads() {
    let py = fixture(PY_PROVIDER_SECRET);
    let py_secret = py
        .secret
        .clone()
        .unwrap_or_else(|| Secret::granted("x", Default::default()));
    let rel = Relation::new(ENDPOINT, 0, "cephfs-client").remote_app_data([("name", PATH)]);
    let out = provider().run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    let bag = out.state.rel(0).unwrap().local_app_data.clone();

    // Byte-exact share_info: Python peers compare the string.
    assert_eq!(bag["share_info"], py.app["share_info"]);
    assert_eq!(bag["share_info"], SHARE_INFO);
    // CephFSShareInfo(**json.loads(share_info)) needs exactly these fields.
    let fields: Vec<String> =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&bag["share_info"])
            .unwrap()
            .keys()
            .cloned()
            .collect();
    assert_eq!(fields, ["fsid", "name", "path", "monitor_hosts"]);
    // What the Python requirer's _eval sees: the bag minus `cache`, the same keys as Python's.
    let seen = wire::snapshot(&bag);
    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        py.app.keys().collect::<Vec<_>>()
    );
    assert_eq!(seen["auth-rev"], py.app["auth-rev"]);
    // `auth` is a secret URI that Python's get_secret(id=...) resolves, with the same content.
    assert!(bag["auth"].starts_with("secret:"));
    let secret = out.state.secret_by(&bag["auth"]).unwrap();
    assert_eq!(secret.revisions[&1], py_secret.revisions[&1]);
    assert_eq!(secret.description, py_secret.description);
    assert!(secret.grants.contains_key(&0));
    // The provider's own snapshot is JSON the Python requirer never looks at.
    assert_eq!(bag["cache"], r#"{"name": "/data"}"#);
}

#[test]
fn rust_provider_rotates_as_python_does_for_a_single_relation() {
    let py = fixture(PY_PROVIDER_ROTATED);
    let rel = Relation::new(ENDPOINT, 0, "cephfs-client").remote_app_data([("name", PATH)]);
    let out = provider().run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    let first_auth = out.state.rel(0).unwrap().local_app_data["auth"].clone();
    let state = out.state.stored("key", serde_json::json!(NEW_KEY));
    let out = provider().run(Event::ConfigChanged, state);
    assert!(out.ok(), "{:?}", out.error());
    let bag = &out.state.rel(0).unwrap().local_app_data;
    assert_eq!(bag["auth"], first_auth, "same secret, as Python keeps it");
    assert_eq!(bag["auth-rev"], py.app["auth-rev"]);
    assert_eq!(bag["share_info"], py.app["share_info"]);
    let secret = out.state.secret_by(&bag["auth"]).unwrap();
    let py_secret = py
        .secret
        .clone()
        .unwrap_or_else(|| Secret::granted("x", Default::default()));
    assert_eq!(secret.revisions, py_secret.revisions);
}

#[test]
fn fixture_share_info_round_trips() {
    let py = fixture(PY_PROVIDER_SECRET);
    let parsed = ShareInfo::from_json(&py.app["share_info"]).unwrap();
    assert_eq!(parsed, share());
    assert_eq!(parsed.to_json(), py.app["share_info"]);
    let plain = fixture(PY_PROVIDER_PLAIN);
    let auth = AuthRef::parse(&plain.app["auth"]).unwrap();
    assert_eq!(
        auth.to_wire(),
        plain.app["auth"],
        "plain: form is byte-exact too"
    );
}

use charm::BagData;
