//! Harness tests of s3 v1 on both sides, and of the per-relation choice between v1 and v0.

// Test helpers outside #[test] functions may unwrap: a failure is a broken test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use charm::{Charm, Ctx, Event, EventKind, SecretContent, Status, StatusCollector, StatusKind};
use charm_testing::{Harness, Relation, Secret, State};
use s3::{
    ConnectionState, CredentialsChanged, CredentialsRequested, S3ConnectionInfo, S3Provider,
    S3Requirer,
};

const EP: &str = "s3-credentials";
const REQUESTED: &str = r#"["access-key", "secret-key"]"#;
const SECRET_ID: &str = "secret:cq8ftm0l5gqs73e4dppg";
const LABEL: &str = "s3-credentials.7.extra.secret";

/// A provider that answers every request with `ak`/`sk` (config `ak`, default `AK`).
fn provider() -> Harness {
    let provider = S3Provider::new(EP);
    let answer = provider.clone();
    let mut charm = Charm::new();
    charm
        .plugin(provider)
        .on_event(move |ctx: &mut Ctx, req: &CredentialsRequested| {
            let ak = ctx
                .config_map()?
                .get("ak")
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_else(|| "AK".into());
            let info = S3ConnectionInfo::new(ak, "SK", "b");
            answer.update_connection_info(ctx, &req.relation, &info)?;
            Ok(())
        });
    Harness::new(
        charm,
        "name: p\nprovides:\n  s3-credentials: {interface: s3}\n",
    )
    .config_yaml("options:\n  ak: {type: string}\n")
}

fn v1_requirer_bag() -> Vec<(&'static str, &'static str)> {
    vec![
        ("requested-secrets", REQUESTED),
        ("version", "1"),
        ("lib-version", "1.0"),
    ]
}

/// A requirer whose status tells what `connection_state` says.
fn requirer(r: S3Requirer) -> Harness {
    let query = r.clone();
    let mut charm = Charm::new();
    charm
        .plugin(r)
        .collect_status(move |ctx: &mut Ctx, s: &mut StatusCollector| {
            for rel in query.relations(ctx)? {
                match query.connection_state(ctx, &rel)? {
                    ConnectionState::Ready(info) => {
                        s.add_unit(Status::active(format!("bucket {:?}", info.bucket)))
                    }
                    ConnectionState::Incomplete { missing } => {
                        s.add_unit(Status::waiting(format!("missing {}", missing.len())))
                    }
                }
            }
            Ok(())
        });
    Harness::new(
        charm,
        "name: r\nrequires:\n  s3-credentials: {interface: s3}\n",
    )
}

fn creds(ak: &str, sk: &str) -> SecretContent {
    SecretContent::new()
        .with("access-key", ak)
        .with("secret-key", sk)
}

// ----- provider -----

#[test]
fn provider_leader_writes_both_version_keys_at_created() {
    let rel = Relation::new(EP, 7, "req");
    let out = provider().run(
        rel.created(),
        State::default().leader(true).relation(rel.clone()),
    );
    let local = &out.state.get_relation(7).local_app_data;
    assert_eq!(local["version"], "1");
    assert_eq!(local["lib-version"], "1.0");
    let out = provider().run(rel.created(), State::default().relation(rel));
    assert!(out.state.get_relation(7).local_app_data.is_empty());
}

#[test]
fn provider_puts_v1_credentials_in_one_granted_secret_revised_only_on_change() {
    let h = provider();
    let rel = Relation::new(EP, 7, "req").remote_app_data(v1_requirer_bag());
    let out = h.run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    let req = &out.emitted::<CredentialsRequested>()[0];
    assert!(req.v1);
    assert_eq!(req.bucket, "", "a v1 requirer may ask for no bucket");
    let local = out.state.get_relation(7).local_app_data.clone();
    assert!(!local.contains_key("access-key") && !local.contains_key("secret-key"));
    assert!(!local.contains_key("data"), "v1 providers write no cache");
    assert_eq!(local["bucket"], "b");
    let secret = out.state.get_secret(LABEL).clone();
    assert_eq!(local["secret-extra"], secret.id);
    assert_eq!(secret.revisions.len(), 1);
    assert_eq!(secret.revisions[&1], creds("AK", "SK"));
    assert!(secret.grants.contains_key(&7), "granted to the relation");

    // Every relation-changed is answered again (as upstream), writing nothing new.
    let rel2 = out.state.get_relation(7).clone();
    let out = h.run(rel2.changed(None), out.state.clone());
    assert_eq!(out.emitted::<CredentialsRequested>().len(), 1);
    assert_eq!(out.state.get_secret(LABEL).revisions.len(), 1);
    assert_eq!(out.calls_to("relation-set"), 0);
    assert_eq!(out.calls_to("secret-set"), 0);
    // The bag already points at the secret: its id is not asked of Juju again.
    assert_eq!(out.calls_to("secret-info-get"), 0, "{:?}", out.calls);

    // New credentials: a new revision of the same secret, found through the bag's pointer.
    let state = out.state.clone().config("ak", "AK2");
    let out = h.run(rel2.changed(None), state);
    assert_eq!(out.calls_to("secret-info-get"), 0, "{:?}", out.calls);
    assert_eq!(out.calls_to("secret-set"), 1, "{:?}", out.calls);
    let secret = out.state.get_secret(LABEL);
    assert_eq!(secret.latest(), 2);
    assert_eq!(secret.revisions[&2], creds("AK2", "SK"));
    assert_eq!(
        out.state.get_relation(7).local_app_data["secret-extra"],
        secret.id
    );

    // Relation broken: the secret goes (upstream leaks it).
    let out = h.run(rel2.broken(), out.state.clone());
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.state.secret_by(LABEL).is_none());
}

#[test]
fn provider_repairs_a_bag_whose_secret_pointer_is_not_a_secret_uri() {
    let h = provider();
    let rel = Relation::new(EP, 7, "req").remote_app_data(v1_requirer_bag());
    let out = h.run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    let id = out.state.get_secret(LABEL).id.clone();
    // Someone overwrote the pointer; the credentials themselves are unchanged.
    let mut local = out.state.get_relation(7).local_app_data.clone();
    local.insert("secret-extra".into(), "--not-a-uri".into());
    let broken = out.state.get_relation(7).clone().local_app_data(local);
    let mut state = out.state.clone();
    state.relations.retain(|r| r.id != 7);
    let out = h.run(broken.changed(None), state.relation(broken.clone()));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.calls_to("secret-info-get"), 1, "{:?}", out.calls);
    assert_eq!(out.state.get_relation(7).local_app_data["secret-extra"], id);
    assert_eq!(out.calls_to("secret-set"), 0);
}

#[test]
fn provider_answers_v0_requirers_in_plain_and_keeps_started_v0_relations_plain() {
    let h = provider();
    let v0 = Relation::new(EP, 7, "req").remote_app_data([("bucket", "relation-7")]);
    let out = h.run(v0.changed(None), State::default().leader(true).relation(v0));
    assert!(!out.emitted::<CredentialsRequested>()[0].v1);
    let local = &out.state.get_relation(7).local_app_data;
    assert_eq!(local["access-key"], "AK");
    assert!(!local.contains_key("secret-extra"));
    assert!(out.state.secrets.is_empty());

    // The requirer upgrades in place and asks for secrets: the relation stays plain.
    let upgraded = Relation::new(EP, 7, "req")
        .local_app_data(local.clone())
        .remote_app_data([("bucket", "relation-8"), ("requested-secrets", REQUESTED)]);
    let out = h.run(
        upgraded.changed(None),
        State::default()
            .leader(true)
            .relation(upgraded)
            .config("ak", "AK2"),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(
        out.state.get_relation(7).local_app_data["access-key"],
        "AK2"
    );
    assert!(out.state.secrets.is_empty());
}

#[test]
fn provider_sends_nothing_before_the_requirer_speaks() {
    let h = {
        let provider = S3Provider::new(EP);
        let p = provider.clone();
        let mut charm = Charm::new();
        charm.plugin(provider).on(
            EventKind::ConfigChanged,
            move |ctx: &mut Ctx<'_>, _: &Event| {
                for rel in p.relations(ctx)? {
                    let sent =
                        p.update_connection_info(ctx, &rel, &S3ConnectionInfo::new("a", "s", "b"))?;
                    assert!(!sent, "not ready: nothing sent");
                }
                Ok(())
            },
        );
        Harness::new(
            charm,
            "name: p\nprovides:\n  s3-credentials: {interface: s3}\n",
        )
    };
    let rel = Relation::new(EP, 7, "req").remote_app_data([("requested-secrets", REQUESTED)]);
    let out = h.run(
        Event::ConfigChanged,
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert!(out.state.get_relation(7).local_app_data.is_empty());
    assert!(out.state.secrets.is_empty());
}

#[test]
fn provider_blocks_on_a_malformed_requested_secrets() {
    let rel = Relation::new(EP, 7, "req")
        .remote_app_data([("version", "1"), ("requested-secrets", "[access-key")]);
    let out = provider().run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "bad remote data must not fail the hook");
    let status = out.state.unit_status.clone().unwrap();
    assert_eq!(status.kind, StatusKind::Blocked);
    assert!(
        status.message.contains("requested-secrets"),
        "{}",
        status.message
    );
    assert!(out.state.get_relation(7).local_app_data.is_empty());
}

// ----- requirer -----

fn v1_provider_bag() -> Vec<(&'static str, &'static str)> {
    vec![
        ("version", "1"),
        ("secret-extra", SECRET_ID),
        ("bucket", "b"),
        ("endpoint", "https://s3"),
    ]
}

#[test]
fn requirer_reads_the_secret_registers_its_label_and_follows_revisions() {
    let h = requirer(S3Requirer::new(EP));
    let rel = Relation::new(EP, 7, "prov").remote_app_data(v1_provider_bag());
    let secret = Secret::granted(SECRET_ID, creds("AK", "SK"));
    let out = h.run(
        rel.changed(None),
        State::default().relation(rel.clone()).secret(secret),
    );
    assert!(out.ok(), "{:?}", out.error());
    let changed = out.emitted::<CredentialsChanged>();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].bucket, "b");
    assert_eq!(
        out.state.get_secret(SECRET_ID).label.as_deref(),
        Some(LABEL)
    );
    assert_eq!(out.state.unit_status, Some(Status::active("bucket \"b\"")));

    // A new revision: secret-changed (by this side's label) gives one CredentialsChanged.
    let mut state = out.state.clone();
    let rotated = state.secrets[0].clone().revision(creds("AK", "SK2"));
    state.secrets[0] = rotated.clone();
    let out = h.run(rotated.changed(), state);
    assert_eq!(out.emitted::<CredentialsChanged>().len(), 1);
    assert_eq!(out.state.get_secret(SECRET_ID).tracked, Some(2));
    // The same again: nothing.
    let out = h.run(rotated.changed(), out.state.clone());
    assert!(out.emitted::<CredentialsChanged>().is_empty());
    // Someone else's secret: ignored.
    let other = Secret::granted("secret:cq8ftm0l5gqs73e4dpp0", creds("x1", "y1")).label("other");
    let out = h.run(other.changed(), out.state.clone().secret(other.clone()));
    assert!(out.ok() && out.emitted::<CredentialsChanged>().is_empty());
}

#[test]
fn requirer_blocks_on_a_bad_secret_id() {
    let h = requirer(S3Requirer::new(EP));
    for bad in [
        "-secret:cq8ftm0l5gqs73e4dppg",
        "secret:short",
        "secret://x/cq8ftm0l5gqs73e4dppg",
    ] {
        let mut bag = v1_provider_bag();
        bag[1] = ("secret-extra", bad);
        let rel = Relation::new(EP, 7, "prov").remote_app_data(bag);
        let out = h.run(rel.changed(None), State::default().relation(rel));
        assert!(out.ok(), "{bad}: bad remote data must not fail the hook");
        assert!(out.emitted::<CredentialsChanged>().is_empty());
        let status = out.state.unit_status.clone().unwrap();
        assert_eq!(status.kind, StatusKind::Blocked, "{bad}");
        assert!(
            status.message.contains("secret-extra"),
            "{}",
            status.message
        );
        assert_eq!(out.calls_to("secret-get"), 0, "never reaches a hook tool");
    }
}

#[test]
fn requirer_waits_on_a_missing_or_ungranted_secret_and_falls_back_to_plain_keys() {
    let h = requirer(S3Requirer::new(EP));
    let rel = Relation::new(EP, 7, "prov").remote_app_data(v1_provider_bag());
    for state in [
        State::default().relation(rel.clone()),
        State::default()
            .relation(rel.clone())
            .secret(Secret::ungranted(SECRET_ID)),
    ] {
        let out = h.run(rel.changed(None), state);
        assert!(out.ok(), "{:?}", out.error());
        assert!(out.emitted::<CredentialsChanged>().is_empty());
        let status = out.state.unit_status.clone().unwrap();
        assert_eq!(status.kind, StatusKind::Waiting);
        assert!(status.message.contains(SECRET_ID), "{}", status.message);
    }
    // Plain keys next to an unreadable secret: read as upstream does (a v0 provider's way).
    let mut bag = v1_provider_bag();
    bag.extend([("access-key", "AK"), ("secret-key", "SK")]);
    let rel = Relation::new(EP, 7, "prov").remote_app_data(bag);
    let out = h.run(rel.changed(None), State::default().relation(rel));
    assert_eq!(out.emitted::<CredentialsChanged>().len(), 1);
}

#[test]
fn requirer_blocks_on_a_garbage_version() {
    let h = requirer(S3Requirer::new(EP));
    for (key, value) in [
        ("version", "one"),
        ("lib-version", "1.0.0"),
        ("version", "nan"),
    ] {
        let rel = Relation::new(EP, 7, "prov").remote_app_data([(key, value)]);
        let out = h.run(
            rel.changed(None),
            State::default().leader(true).relation(rel),
        );
        assert!(
            out.ok(),
            "{key}={value}: bad remote data must not fail the hook"
        );
        let status = out.state.unit_status.clone().unwrap();
        assert_eq!(status.kind, StatusKind::Blocked, "{key}={value}");
        assert!(status.message.contains(key), "{}", status.message);
        assert!(
            !out.state
                .get_relation(7)
                .local_app_data
                .contains_key("bucket"),
            "no v0 fallback on garbage"
        );
    }
}

#[test]
fn requirer_takes_either_version_key_and_needs_no_bucket() {
    let h = requirer(S3Requirer::new(EP));
    for key in ["version", "lib-version"] {
        let rel = Relation::new(EP, 7, "prov")
            .local_app_data([("version", "1"), ("requested-secrets", REQUESTED)])
            .remote_app_data([(key, "1.0"), ("secret-extra", SECRET_ID)]);
        let state = State::default()
            .leader(true)
            .relation(rel.clone())
            .secret(Secret::granted(SECRET_ID, creds("AK", "SK")));
        let out = h.run(rel.changed(None), state);
        assert!(out.ok(), "{:?}", out.error());
        assert!(
            !out.state
                .get_relation(7)
                .local_app_data
                .contains_key("bucket"),
            "{key}: a v1 provider, no relation-<id> fallback"
        );
        let changed = out.emitted::<CredentialsChanged>();
        assert_eq!(changed.len(), 1, "{key}");
        assert_eq!(changed[0].bucket, "");
    }
    // A version below 1 is v0: the leader asks for relation-<id> and emits nothing.
    let rel = Relation::new(EP, 7, "prov").remote_app_data([("version", "0.9")]);
    let out = h.run(
        rel.changed(None),
        State::default().leader(true).relation(rel),
    );
    assert_eq!(
        out.state.get_relation(7).local_app_data["bucket"],
        "relation-7"
    );
}

#[test]
fn a_relation_that_started_v0_stays_v0_on_the_requirer() {
    let h = requirer(S3Requirer::new(EP).bucket("mine"));
    let rel = Relation::new(EP, 7, "prov").local_app_data([("bucket", "relation-7")]);
    let out = h.run(
        Event::LeaderElected,
        State::default().leader(true).relation(rel),
    );
    assert!(out.ok(), "{:?}", out.error());
    let local = &out.state.get_relation(7).local_app_data;
    assert_eq!(local["bucket"], "mine");
    assert!(!local.contains_key("version") && !local.contains_key("requested-secrets"));

    // A v1 relation gets the request, path included, and keeps it in line with the config.
    let h = requirer(S3Requirer::new(EP).bucket("mine").path("pre/"));
    let rel = Relation::new(EP, 8, "prov").local_app_data([("requested-secrets", REQUESTED)]);
    let out = h.run(
        Event::LeaderElected,
        State::default().leader(true).relation(rel),
    );
    let local = &out.state.get_relation(8).local_app_data;
    assert_eq!(
        (
            local["bucket"].as_str(),
            local["path"].as_str(),
            local["version"].as_str()
        ),
        ("mine", "pre/", "1")
    );
}

#[test]
fn provider_removes_unused_revisions_of_relation_secrets_only() {
    let h = provider();
    let owned = Secret::owned(SECRET_ID, creds("AK", "SK"))
        .label(LABEL)
        .revision(creds("AK2", "SK"));
    let other = Secret::owned("secret:cq8ftm0l5gqs73e4dpp2", creds("x11", "y11"))
        .label("something-else")
        .revision(creds("x12", "y12"));
    let state = State::default()
        .leader(true)
        .secret(owned.clone())
        .secret(other.clone());
    let out = h.run(owned.remove(1), state.clone());
    assert!(out.ok(), "{:?}", out.error());
    assert!(!out.state.get_secret(LABEL).revisions.contains_key(&1));
    assert!(out.state.get_secret(LABEL).revisions.contains_key(&2));
    let out = h.run(other.remove(1), state.clone());
    assert_eq!(out.calls_to("secret-remove"), 0, "not the library's secret");
    let out = h.run(owned.remove(1), state.leader(false));
    assert_eq!(out.calls_to("secret-remove"), 0, "the leader's job");
}
