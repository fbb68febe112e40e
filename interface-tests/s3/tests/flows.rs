//! The Rust requirer (s3-consumer) against the Rust provider (s3-integrator), bags shuttled by hand,
//! on relations that started as s3 v0 (they stay v0: plain credentials, the provider's `data`
//! cache). The v1 flows are in `flows_v1.rs`.

// Test helpers outside #[test] functions may unwrap: a failure is a broken test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use charm::secret::SecretContent;
use charm::{Event, Status, StatusKind};
use charm_testing::{Relation, State};
use s3::{CredentialsChanged, CredentialsGone, CredentialsRequested};
use s3_contract::*;

const ACCESS: &str = "flow-access-key";
const SECRET: &str = "flow-secret-key";

fn sync(model: &mut Model, access: &str, secret: &str) -> charm_testing::Output {
    let out = model.provider_action(
        &provider(0),
        "sync-s3-credentials",
        serde_json::json!({"access-key": access, "secret-key": secret}),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.action.failed, None);
    out
}

fn consumer_status(model: &Model, id: u32) -> Status {
    model.requirer(id).unit_status.clone().expect("status set")
}

/// One consumer related on relation 3 and its bucket request delivered; no credentials yet.
fn requested() -> Model {
    let mut model = Model::new(State::default().config("endpoint", "https://s3.example.com"));
    model.relate_v0("s3-consumer", 3, State::default().leader(true));
    let out = model.requirer_joins(&consumer(), 3);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(model.requirer_bag(3)["bucket"], "relation-3");
    model
}

#[test]
fn request_then_sync_then_consume() {
    let mut model = requested();
    let out = model.to_provider(&provider(0), 3);
    assert_eq!(
        out.emitted::<CredentialsRequested>()[0].bucket,
        "relation-3"
    );
    assert_eq!(
        model.provider.unit_status,
        Some(Status::blocked(s3_integrator::MISSING_CREDENTIALS))
    );
    // Only the diff cache so far: the requirer sees nothing usable.
    assert_eq!(model.provider_bag(3).keys().collect::<Vec<_>>(), ["data"]);
    let out = model.to_requirer(&consumer(), 3);
    assert!(out.emitted::<CredentialsChanged>().is_empty());
    assert_eq!(consumer_status(&model, 3).kind, StatusKind::Waiting);

    sync(&mut model, ACCESS, SECRET);
    assert_eq!(
        model.provider.unit_status,
        Some(Status::active("serving 1 relation"))
    );
    let out = model.to_requirer(&consumer(), 3);
    let changed = out.emitted::<CredentialsChanged>();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].bucket, "relation-3");
    assert_eq!(
        consumer_status(&model, 3),
        Status::active("credentials for bucket relation-3 at https://s3.example.com")
    );
}

#[test]
fn credentials_first_then_relation() {
    let mut model = Model::new(State::default());
    sync(&mut model, ACCESS, SECRET);
    model.relate_v0("s3-consumer", 4, State::default().leader(true));
    model.requirer_joins(&consumer(), 4);
    let out = model.to_provider(&provider(0), 4);
    assert_eq!(
        out.calls_to("relation-set"),
        1,
        "cache and answer in one relation-set"
    );
    assert_eq!(model.provider_bag(4)["secret-key"], SECRET);
    let out = model.to_requirer(&consumer(), 4);
    assert_eq!(out.emitted::<CredentialsChanged>().len(), 1);
    // The provider's next relation-changed (caused by its own write) changes nothing.
    let out = model.to_provider(&provider(0), 4);
    assert!(out.emitted::<CredentialsRequested>().is_empty());
    assert_eq!(out.calls_to("relation-set"), 0);
}

#[test]
fn config_change_reaches_the_consumer_once() {
    let mut model = requested();
    model.to_provider(&provider(0), 3);
    sync(&mut model, ACCESS, SECRET);
    model.to_requirer(&consumer(), 3);

    model
        .provider
        .config
        .insert("endpoint".into(), "https://minio.internal:9000".into());
    model
        .provider
        .config
        .insert("region".into(), "local".into());
    let out = model.run_provider(&provider(0), Event::ConfigChanged);
    assert!(out.ok(), "{:?}", out.error());
    let out = model.to_requirer(&consumer(), 3);
    let changed = out.emitted::<CredentialsChanged>();
    assert_eq!(changed.len(), 1);
    assert_eq!(
        changed[0].endpoint.as_deref(),
        Some("https://minio.internal:9000")
    );
    assert_eq!(
        consumer_status(&model, 3),
        Status::active("credentials for bucket relation-3 at https://minio.internal:9000")
    );
    // Nothing changed since: no event.
    let out = model.to_requirer(&consumer(), 3);
    assert!(out.emitted::<CredentialsChanged>().is_empty());
}

#[test]
fn credential_rotation() {
    let mut model = requested();
    model.to_provider(&provider(0), 3);
    sync(&mut model, ACCESS, SECRET);
    model.to_requirer(&consumer(), 3);
    sync(&mut model, ACCESS, "rotated-secret-key");
    let secret = model
        .provider
        .secret_by(s3_integrator::CREDENTIALS_LABEL)
        .unwrap()
        .clone();
    assert_eq!(secret.latest(), 2);
    let out = model.to_requirer(&consumer(), 3);
    assert_eq!(out.emitted::<CredentialsChanged>().len(), 1);
    assert_eq!(model.provider_bag(3)["secret-key"], "rotated-secret-key");
    // The provider leader is told revision 1 is unused: it removes it, once.
    let out = model.run_provider(&provider(0), secret.remove(1));
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.removed_secret_revisions.len(), 1);
}

#[test]
fn two_consumer_apps_get_their_own_buckets() {
    let mut model = Model::new(State::default());
    sync(&mut model, ACCESS, SECRET);
    model.relate_v0(
        "alpha",
        5,
        State::default().leader(true).config("bucket", "alpha-data"),
    );
    model.relate_v0("beta", 6, State::default().leader(true));
    for id in [5, 6] {
        model.requirer_joins(&consumer(), id);
        model.to_provider(&provider(0), id);
        model.to_requirer(&consumer(), id);
    }
    assert_eq!(model.provider_bag(5)["bucket"], "alpha-data");
    assert_eq!(model.provider_bag(6)["bucket"], "relation-6");
    assert!(
        consumer_status(&model, 5)
            .message
            .contains("bucket alpha-data")
    );
    assert!(
        consumer_status(&model, 6)
            .message
            .contains("bucket relation-6")
    );
    assert_eq!(
        model.provider.unit_status,
        Some(Status::active("serving 2 relations"))
    );

    // A bucket option on the integrator overrides every request.
    model
        .provider
        .config
        .insert("bucket".into(), "shared".into());
    model.run_provider(&provider(0), Event::ConfigChanged);
    for id in [5, 6] {
        model.to_requirer(&consumer(), id);
        assert_eq!(model.provider_bag(id)["bucket"], "shared");
    }
    assert!(
        consumer_status(&model, 5)
            .message
            .ends_with("(asked for alpha-data)")
    );

    // A consumer changes its mind: the provider is asked again (the Python provider ignored it).
    model.provider.config.remove("bucket");
    model.run_provider(&provider(0), Event::ConfigChanged);
    let alpha = &mut model.requirers[0].2;
    alpha.config.insert("bucket".into(), "alpha-v2".into());
    model.run_requirer(&consumer(), 5, Event::ConfigChanged);
    let out = model.to_provider(&provider(0), 5);
    assert_eq!(out.emitted::<CredentialsRequested>()[0].bucket, "alpha-v2");
    assert_eq!(model.provider_bag(5)["bucket"], "alpha-v2");
}

#[test]
fn provider_leader_change() {
    let mut model = requested();
    sync(&mut model, ACCESS, SECRET);
    model.to_provider(&provider(0), 3);
    // Unit 1 takes over with the same model (app bags and secret are the application's).
    let mut new_leader = model.provider.clone();
    new_leader.unit_status = None;
    model.provider = new_leader;
    let out = model.run_provider(&provider(1), Event::LeaderElected);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.calls_to("relation-set"), 0, "nothing to re-send");
    assert!(
        out.emitted::<CredentialsRequested>().is_empty(),
        "the cache survived"
    );
    // The new leader serves config changes.
    model.provider.config.insert("region".into(), "r2".into());
    model.run_provider(&provider(1), Event::ConfigChanged);
    assert_eq!(model.provider_bag(3)["region"], "r2");
    // The old leader, now a follower, writes nothing.
    let follower = model.provider.clone().leader(false);
    let out = provider(0).run(Event::ConfigChanged, follower);
    assert!(out.ok());
    assert_eq!(out.calls_to("relation-set"), 0);
}

#[test]
fn a_request_missed_during_a_leader_change_is_picked_up() {
    let mut model = requested();
    sync(&mut model, ACCESS, SECRET);
    // The request reached the provider while it had no leader: only followers saw it.
    let bag = model.requirer_bag(3);
    model.provider.relations[0].remote_app_data = bag;
    let out = model.run_provider(&provider(1), Event::LeaderElected);
    assert_eq!(out.emitted::<CredentialsRequested>().len(), 1);
    assert_eq!(model.provider_bag(3)["bucket"], "relation-3");
}

#[test]
fn relation_removed() {
    let mut model = requested();
    sync(&mut model, ACCESS, SECRET);
    model.to_provider(&provider(0), 3);
    model.to_requirer(&consumer(), 3);
    let out = model.run_requirer(
        &consumer(),
        3,
        Relation::new(ENDPOINT, 3, PROVIDER_APP).broken(),
    );
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.emitted::<CredentialsGone>().len(), 1);
    assert_eq!(
        consumer_status(&model, 3),
        Status::blocked("missing relation: s3-credentials")
    );
    let broken = model.provider.rel(3).unwrap().broken();
    let out = model.run_provider(&provider(0), broken);
    assert!(out.ok(), "{:?}", out.error());
    assert_eq!(out.calls_to("relation-set"), 0);
    assert_eq!(
        model.provider.unit_status,
        Some(Status::active("serving 0 relations"))
    );
}

#[test]
fn a_secret_synced_from_the_python_charm_peer_data_flows_on() {
    // Refreshed from the Python charm: credentials sit in the peer app bag, in clear.
    let peer = Relation::peer(s3_integrator::PEER, 9, PROVIDER_APP)
        .local_app_data([("access-key", ACCESS), ("secret-key", SECRET)]);
    let mut model = Model::new(State::default().relation(peer));
    model.relate_v0("s3-consumer", 3, State::default().leader(true));
    model.requirer_joins(&consumer(), 3);
    model.to_provider(&provider(0), 3);
    let out = model.run_provider(&provider(0), Event::UpgradeCharm);
    assert!(out.ok(), "{:?}", out.error());
    // The credentials left the peer bag; only the counter telling the other units remains.
    let peer_bag = &model.provider.rel(9).unwrap().local_app_data;
    assert_eq!(
        peer_bag.iter().collect::<Vec<_>>(),
        [(&s3_integrator::GENERATION_KEY.to_string(), &"1".to_string())]
    );
    let secret = model
        .provider
        .secret_by(s3_integrator::CREDENTIALS_LABEL)
        .unwrap();
    assert_eq!(
        secret.revisions[&1],
        SecretContent::new()
            .with("access-key", ACCESS)
            .with("secret-key", SECRET)
    );
    model.to_requirer(&consumer(), 3);
    assert_eq!(consumer_status(&model, 3).kind, StatusKind::Active);
}
