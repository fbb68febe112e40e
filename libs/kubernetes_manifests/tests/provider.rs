//! The provider side through the harness: what it reads, what it emits, and how it fails.

use charm::error::Outcome;
use charm::secret::SecretContent;
use charm::{Charm, Ctx, Error, EventKind};
use charm_testing::{Harness, Relation, Secret, State};
use kubernetes_manifests::{
    KubernetesManifestsProvider, ManifestsUpdated, ProviderErrorKind, UpdateCause,
};
use serde_json::{Value, json};

const META: &str = "name: dispatcher
provides:
  secrets: {interface: kubernetes_manifest}
  service-accounts: {interface: kubernetes_manifest}
  roles: {interface: kubernetes_manifest}
";

const SA1: &str = r#"{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "dummy-sa-1"}, "secrets": [{"name": "dummy"}]}"#;
const SA2: &str = r#"{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "other-dummy-sa-1"}, "secrets": [{"name": "other-dummy"}]}"#;
const SA3: &str = r#"{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "dummy-sa-2"}, "secrets": [{"name": "dummy"}]}"#;

fn list(items: &[&str]) -> String {
    format!("[{}]", items.join(", "))
}

fn content(json: &str) -> SecretContent {
    SecretContent::new().with("manifests", json)
}

/// Records, per Updated event, what `manifests()` returned for the endpoint concerned.
fn on_updated(ctx: &mut Ctx, event: &ManifestsUpdated) -> Result<(), Error> {
    let provider = KubernetesManifestsProvider::new(event.relation.endpoint.clone());
    let received = provider.manifests(ctx)?;
    let names: Vec<String> = received.manifests().map(|m| m.name().to_string()).collect();
    let errors: Vec<Value> = received
        .errors()
        .map(|e| json!({"message": e.to_string(), "outcome": format!("{:?}", charm::Classify::outcome(e))}))
        .collect();
    let mut seen: Vec<Value> = ctx.stored("seen")?.unwrap_or_default();
    seen.push(json!({
        "relation": event.relation.to_string(),
        "app": event.app,
        "cause": event.cause,
        "names": names,
        "errors": errors,
    }));
    ctx.store("seen", &seen)?;
    Ok(())
}

fn harness() -> Harness {
    let mut charm = Charm::new();
    for endpoint in ["secrets", "service-accounts", "roles"] {
        charm
            .plugin(KubernetesManifestsProvider::new(endpoint).refresh_on(EventKind::UpgradeCharm));
    }
    charm.on_event(on_updated);
    Harness::new(charm, META)
}

fn seen(out: &charm_testing::Output) -> Vec<Value> {
    out.state
        .stored
        .get("seen")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn secret_rel(id: u32, app: &str, secret: &str) -> Relation {
    Relation::new("service-accounts", id, app)
        .remote_app_data([("kubernetes_manifests", secret), ("is_secret", "true")])
}

#[test]
fn reads_the_secret_labels_it_and_emits_updated() {
    let rel = secret_rel(1, "tester", "secret:cs100000000000000000");
    let state = State::default()
        .relation(rel.clone())
        .secret(Secret::granted(
            "secret:cs100000000000000000",
            content(&list(&[SA1, SA2])),
        ));
    let out = harness().run(rel.changed(None), state);
    assert!(out.ok(), "{:?}", out.result);
    let events = out.emitted::<ManifestsUpdated>();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].cause, UpdateCause::RelationChanged);
    assert_eq!(events[0].app.as_deref(), Some("tester"));
    assert_eq!(
        seen(&out)[0]["names"],
        json!(["dummy-sa-1", "other-dummy-sa-1"])
    );
    let secret = out.state.secret_by("secret:cs100000000000000000").unwrap();
    assert_eq!(secret.label.as_deref(), Some("manifest.service-accounts.1"));
    assert_eq!(secret.tracked, Some(1));
    // One secret-get (refresh + label), reused by the handler's read; one bag read.
    assert_eq!(out.calls_to("secret-get"), 1, "{:?}", out.calls);
    assert_eq!(out.calls_to("relation-get"), 1, "{:?}", out.calls);
}

#[test]
fn reads_the_plain_libpatch_1_form() {
    let rel = Relation::new("service-accounts", 4, "old-tester")
        .remote_app_data([("kubernetes_manifests", list(&[SA1, SA3]))]);
    let out = harness().run(rel.changed(None), State::default().relation(rel));
    assert!(out.ok());
    assert_eq!(seen(&out)[0]["names"], json!(["dummy-sa-1", "dummy-sa-2"]));
    assert_eq!(out.calls_to("secret-get"), 0);
}

#[test]
fn union_is_in_relation_order_then_item_order() {
    let a = secret_rel(1, "a", "secret:cs100000000000000000");
    let b = Relation::new("service-accounts", 2, "b")
        .remote_app_data([("kubernetes_manifests", list(&[SA3]))]);
    let state = State::default()
        .relation(a.clone())
        .relation(b)
        .secret(Secret::granted(
            "secret:cs100000000000000000",
            content(&list(&[SA2, SA1])),
        ));
    let out = harness().run(a.changed(None), state);
    assert_eq!(
        seen(&out)[0]["names"],
        json!(["other-dummy-sa-1", "dummy-sa-1", "dummy-sa-2"])
    );
}

#[test]
fn empty_relation_reads_as_no_manifests() {
    let rel = Relation::new("service-accounts", 1, "tester");
    let out = harness().run(rel.changed(None), State::default().relation(rel));
    assert!(out.ok());
    assert_eq!(seen(&out)[0]["names"], json!([]));
    assert_eq!(seen(&out)[0]["errors"], json!([]));
}

/// One broken relation among good ones: the good ones still come through; the bad one is named.
fn one_bad_relation(bad: Relation, secrets: Vec<Secret>) -> Value {
    let good = Relation::new("service-accounts", 2, "good")
        .remote_app_data([("kubernetes_manifests", list(&[SA3]))]);
    let mut state = State::default().relation(bad.clone()).relation(good);
    for s in secrets {
        state = state.secret(s);
    }
    let out = harness().run(bad.changed(None), state);
    assert!(
        out.ok(),
        "bad remote data must not fail the hook: {:?}",
        out.result
    );
    let record = seen(&out)[0].clone();
    assert_eq!(record["names"], json!(["dummy-sa-2"]), "{record}");
    assert_eq!(
        record["errors"].as_array().map(Vec::len),
        Some(1),
        "{record}"
    );
    record["errors"][0].clone()
}

#[test]
fn malformed_json_in_the_bag_is_a_typed_blocked_error() {
    let bad = Relation::new("service-accounts", 1, "bad")
        .remote_app_data([("kubernetes_manifests", "[{\"apiVersion\": ")]);
    let err = one_bad_relation(bad, vec![]);
    assert_eq!(err["outcome"], "Blocked");
    let msg = err["message"].as_str().unwrap();
    assert!(
        msg.starts_with("relation service-accounts:1 (app bad): relation data kubernetes_manifests: invalid JSON at line 1"),
        "{msg}"
    );
}

#[test]
fn malformed_json_in_the_secret_is_a_typed_blocked_error() {
    let bad = secret_rel(1, "bad", "secret:cs900000000000000000");
    let err = one_bad_relation(
        bad,
        vec![Secret::granted(
            "secret:cs900000000000000000",
            content("not json"),
        )],
    );
    assert_eq!(err["outcome"], "Blocked");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("secret secret:cs900000000000000000 key manifests: invalid JSON"),
        "{err}"
    );
}

#[test]
fn is_secret_not_exactly_true_is_a_typed_error_not_a_json_crash() {
    let bad = Relation::new("service-accounts", 1, "bad").remote_app_data([
        ("kubernetes_manifests", "secret:cs100000000000000000"),
        ("is_secret", "True"),
    ]);
    let err = one_bad_relation(bad, vec![]);
    assert_eq!(err["outcome"], "Blocked");
    assert_eq!(
        err["message"],
        "relation service-accounts:1 (app bad): kubernetes_manifests holds a secret URI but is_secret is \"True\", not \"true\""
    );
    // Without is_secret at all: a LIBPATCH 2 requirer talking to a reader that expects plain.
    let bad = Relation::new("service-accounts", 1, "bad")
        .remote_app_data([("kubernetes_manifests", "secret:cs100000000000000000")]);
    let err = one_bad_relation(bad, vec![]);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .ends_with("is_secret is absent, not \"true\"")
    );
}

#[test]
fn missing_secret_is_a_typed_waiting_error() {
    let bad = secret_rel(1, "bad", "secret:gone0000000000000000");
    let err = one_bad_relation(bad, vec![]);
    assert_eq!(err["outcome"], "Waiting");
    assert_eq!(
        err["message"],
        "relation service-accounts:1 (app bad): secret secret:gone0000000000000000 does not exist or is not granted to this application"
    );
}

#[test]
fn secret_mode_without_an_id_is_a_typed_waiting_error() {
    let bad = Relation::new("service-accounts", 1, "bad").remote_app_data([("is_secret", "true")]);
    let err = one_bad_relation(bad, vec![]);
    assert_eq!(err["outcome"], "Waiting");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("holds no secret id")
    );
}

#[test]
fn json_that_is_not_a_list_of_objects_is_rejected_not_mangled() {
    for (text, expected) in [
        (
            r#"{"apiVersion": "v1"}"#,
            "expected a JSON list of manifests, found a mapping",
        ),
        (
            r#""abc""#,
            "expected a JSON list of manifests, found a string",
        ),
        ("[1, 2]", "item 0 is a number, not a manifest object"),
        ("[[]]", "item 0 is a list, not a manifest object"),
        (
            r#"[{"kind": "A"}]"#,
            "item 0: the manifest has no apiVersion",
        ),
    ] {
        let bad = Relation::new("service-accounts", 1, "bad")
            .remote_app_data([("kubernetes_manifests", text)]);
        let err = one_bad_relation(bad, vec![]);
        assert_eq!(err["outcome"], "Blocked", "{text}");
        assert!(
            err["message"].as_str().unwrap().ends_with(expected),
            "{text}: {err}"
        );
    }
}

#[test]
fn a_secret_tool_failure_fails_the_hook_through_the_handler() {
    let rel = secret_rel(1, "tester", "secret:cs100000000000000000");
    let state = State::default()
        .relation(rel.clone())
        .secret(Secret::granted(
            "secret:cs100000000000000000",
            content(&list(&[SA1])),
        ));
    let harness = harness().fail("secret-get", "ERROR connection reset", None);
    let out = harness.run(rel.changed(None), state);
    // The library reports it per relation; this test charm does not act on outcomes, so the hook
    // succeeds and records a Fail-classified error (a retry can help).
    assert!(out.ok());
    let record = &seen(&out)[0];
    assert_eq!(record["errors"][0]["outcome"], "Fail");
    assert!(
        record["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot read secret secret:cs100000000000000000"),
        "{record}"
    );
}

#[test]
fn a_refused_label_falls_back_to_reading_by_id() {
    // Another secret already holds our label (the requirer replaced its secret).
    let rel = secret_rel(1, "tester", "secret:ne000000000000000000");
    let state = State::default()
        .relation(rel.clone())
        .secret(
            Secret::granted("secret:old00000000000000000", content("[]"))
                .label("manifest.service-accounts.1"),
        )
        .secret(Secret::granted(
            "secret:ne000000000000000000",
            content(&list(&[SA1])),
        ));
    let out = harness().run(rel.changed(None), state);
    assert!(out.ok());
    assert_eq!(seen(&out)[0]["names"], json!(["dummy-sa-1"]));
    assert_eq!(seen(&out)[0]["errors"], json!([]));
}

#[test]
fn secret_changed_emits_for_the_exact_label_only() {
    let rel = secret_rel(3, "tester", "secret:cs100000000000000000");
    let secret = Secret::granted("secret:cs100000000000000000", content(&list(&[SA1])))
        .label("manifest.service-accounts.3")
        .tracking(1)
        .revision(content(&list(&[SA1, SA2])));
    let state = State::default()
        .relation(rel.clone())
        .secret(secret.clone());
    let out = harness().run(secret.changed(), state.clone());
    assert!(out.ok());
    // Three providers in the charm; only service-accounts reacts (the original made all react).
    let events = out.emitted::<ManifestsUpdated>();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].cause, UpdateCause::SecretChanged);
    assert_eq!(events[0].relation.to_string(), "service-accounts:3");
    assert_eq!(
        seen(&out)[0]["names"],
        json!(["dummy-sa-1", "other-dummy-sa-1"])
    );
    assert_eq!(
        out.state
            .secret_by("secret:cs100000000000000000")
            .unwrap()
            .tracked,
        Some(2)
    );

    // A label of another endpoint with the same id, or of an unknown relation: nothing.
    for label in [
        "manifest.roles.3",
        "manifest.service-accounts.9",
        "other.label",
    ] {
        let s = secret.clone().label(label);
        let out = harness().run(
            s.changed(),
            State::default().relation(rel.clone()).secret(s),
        );
        assert!(out.ok());
        assert!(out.emitted::<ManifestsUpdated>().is_empty(), "{label}");
    }
}

#[test]
fn secret_changed_without_our_label_is_matched_by_uri() {
    let rel = secret_rel(3, "tester", "secret:cs100000000000000000");
    let mut secret =
        Secret::granted("secret:cs100000000000000000", content(&list(&[SA1]))).tracking(1);
    secret.label = None;
    let out = harness().run(
        secret.changed(),
        State::default().relation(rel).secret(secret.clone()),
    );
    let events = out.emitted::<ManifestsUpdated>();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].relation.id, 3);
    assert_eq!(
        out.state
            .secret_by("secret:cs100000000000000000")
            .unwrap()
            .label
            .as_deref(),
        Some("manifest.service-accounts.3")
    );
}

#[test]
fn relation_broken_emits_and_leaves_the_departing_app_out() {
    let leaving = secret_rel(1, "leaving", "secret:cs100000000000000000");
    let staying = Relation::new("service-accounts", 2, "staying")
        .remote_app_data([("kubernetes_manifests", list(&[SA3]))]);
    let state = State::default()
        .relation(leaving.clone())
        .relation(staying)
        .secret(Secret::granted(
            "secret:cs100000000000000000",
            content(&list(&[SA1])),
        ));
    let out = harness().run(leaving.broken(), state);
    assert!(out.ok());
    let events = out.emitted::<ManifestsUpdated>();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].cause, UpdateCause::RelationBroken);
    assert_eq!(events[0].app.as_deref(), Some("leaving"));
    assert_eq!(seen(&out)[0]["names"], json!(["dummy-sa-2"]));
    // The departing app's secret is not even read.
    assert_eq!(out.calls_to("secret-get"), 0);
}

#[test]
fn refresh_events_emit_for_every_relation() {
    let a = secret_rel(1, "a", "secret:cs100000000000000000");
    let b = Relation::new("secrets", 2, "b");
    let state = State::default()
        .relation(a)
        .relation(b)
        .secret(Secret::granted(
            "secret:cs100000000000000000",
            content(&list(&[SA1])),
        ));
    let out = harness().run(charm::Event::UpgradeCharm, state);
    assert!(out.ok());
    let mut rels: Vec<String> = out
        .emitted::<ManifestsUpdated>()
        .iter()
        .map(|e| e.relation.to_string())
        .collect();
    rels.sort();
    assert_eq!(rels, ["secrets:2", "service-accounts:1"]);
    assert!(
        out.emitted::<ManifestsUpdated>()
            .iter()
            .all(|e| e.cause == UpdateCause::Refresh)
    );
    assert_eq!(
        out.state
            .secret_by("secret:cs100000000000000000")
            .unwrap()
            .label
            .as_deref(),
        Some("manifest.service-accounts.1")
    );
}

#[test]
fn errors_are_typed_and_classified() {
    // The same checks without the event machinery, through a reconcile function.
    let mut charm = Charm::new();
    charm.reconcile(|ctx: &mut Ctx| {
        let received = KubernetesManifestsProvider::new("secrets").manifests(ctx)?;
        let kinds: Vec<String> = received
            .errors()
            .map(|e| match &*e.kind {
                ProviderErrorKind::MissingSecretId => "missing-id".to_string(),
                ProviderErrorKind::InvalidSecretId { key, .. } => format!("invalid-id {key}"),
                ProviderErrorKind::SecretNotFound { secret_id } => format!("not-found {secret_id}"),
                ProviderErrorKind::NotMarkedAsSecret { is_secret } => {
                    format!("not-marked {is_secret:?}")
                }
                ProviderErrorKind::InvalidList { .. } => "invalid-list".into(),
                ProviderErrorKind::SecretUnreadable { .. } => "unreadable".into(),
                ProviderErrorKind::Model(_) => "model".into(),
            })
            .collect();
        ctx.store("kinds", &kinds)?;
        assert_eq!(
            received
                .errors()
                .map(charm::Classify::outcome)
                .collect::<Vec<_>>(),
            [
                Outcome::Waiting,
                Outcome::Waiting,
                Outcome::Blocked,
                Outcome::Blocked,
                Outcome::Blocked
            ]
        );
        // All-or-nothing view: the first error.
        let all = KubernetesManifestsProvider::new("secrets").get_manifests(ctx);
        assert!(all.is_err());
        Ok(())
    });
    let harness = Harness::new(charm, META);
    let state = State::default()
        .relation(Relation::new("secrets", 1, "a").remote_app_data([("is_secret", "true")]))
        .relation(Relation::new("secrets", 2, "b").remote_app_data([
            ("is_secret", "true"),
            ("kubernetes_manifests", "secret:nope0000000000000000"),
        ]))
        .relation(Relation::new("secrets", 3, "c").remote_app_data([
            ("is_secret", "yes"),
            ("kubernetes_manifests", "secret:00000000000000000000"),
        ]))
        .relation(
            Relation::new("secrets", 4, "d").remote_app_data([("kubernetes_manifests", "{}")]),
        )
        .relation(
            Relation::new("secrets", 5, "e").remote_app_data([("kubernetes_manifests", "[]")]),
        )
        .relation(Relation::new("secrets", 6, "f").remote_app_data([
            ("is_secret", "true"),
            ("kubernetes_manifests", "--output=/tmp/x"),
        ]));
    let out = harness.run(charm::Event::UpdateStatus, state);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(
        out.state.stored["kinds"],
        json!([
            "missing-id",
            "not-found secret:nope0000000000000000",
            "not-marked Some(\"yes\")",
            "invalid-list",
            "invalid-id kubernetes_manifests"
        ])
    );
}

#[test]
fn a_five_megabyte_plain_list_is_read() {
    let big = format!(
        r#"[{{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "big"}}, "data": {{"blob": "{}"}}}}]"#,
        "x".repeat(5_000_000)
    );
    let rel = Relation::new("service-accounts", 1, "big")
        .remote_app_data([("kubernetes_manifests", big)]);
    let out = harness().run(rel.changed(None), State::default().relation(rel));
    assert!(out.ok());
    assert_eq!(seen(&out)[0]["names"], json!(["big"]));
}
