//! The Rust requirer (manifests-tester) against the Rust provider (resource-dispatcher), through two
//! harnesses; bags and secrets are carried across by hand, as Juju would.

use charm::{Event, Status};
use charm_testing::{Output, Relation, Secret, State};
use kubernetes_manifests_contract::{dispatcher, dispatcher_state, tester};

/// Juju, for one relation: the requirer's app bag becomes the provider's remote app bag, and the
/// requirer's secrets granted on that relation become visible to the provider (new revisions
/// included; the provider's own label and tracked revision are kept).
fn carry(requirer: &State, provider: &mut State, id: u32) {
    let Some(from) = requirer.rel(id) else { return };
    if let Some(to) = provider.relations.iter_mut().find(|r| r.id == id) {
        to.remote_app_data = from.local_app_data.clone();
    }
    for secret in requirer
        .secrets
        .iter()
        .filter(|s| s.grants.contains_key(&id))
    {
        match provider.secrets.iter_mut().find(|s| s.id == secret.id) {
            Some(seen) => seen.revisions = secret.revisions.clone(),
            None => {
                let mut granted = Secret::granted(&secret.id, Default::default());
                granted.revisions = secret.revisions.clone();
                provider.secrets.push(granted);
            }
        }
    }
}

fn status(out: &Output) -> Status {
    out.state
        .unit_status
        .clone()
        .unwrap_or(Status::active("<none>"))
}

const CONFIG_MAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: 0755}\n";

#[test]
fn manifests_flow_from_tester_to_dispatcher_and_back_out() {
    // Both apps deployed; two relations: service-accounts:1 and config-maps:2.
    let mut req = State::default()
        .leader(true)
        .relation(Relation::new("service-accounts", 1, "resource-dispatcher"))
        .relation(Relation::new("config-maps", 2, "resource-dispatcher"));
    let mut prov = dispatcher_state()
        .leader(true)
        .relation(Relation::new("service-accounts", 1, "tester"))
        .relation(Relation::new("config-maps", 2, "tester"));
    let out = dispatcher().run(Event::Install, prov);
    assert_eq!(status(&out), Status::active("0 manifests from 0 apps"));
    prov = out.state;

    // 1. The tester's leader sends its built-in ServiceAccounts (and an empty config-maps list).
    let out = tester().run(Event::ConfigChanged, req);
    assert!(out.ok(), "{:?}", out.result);
    req = out.state;
    carry(&req, &mut prov, 1);
    carry(&req, &mut prov, 2);
    let rel1 = prov.rel(1).unwrap().clone();
    let out = dispatcher().run(rel1.changed(None), prov);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out), Status::active("2 manifests from 1 app"));
    prov = out.state;
    let rel2 = prov.rel(2).unwrap().clone();
    let out = dispatcher().run(rel2.changed(None), prov);
    assert_eq!(status(&out), Status::active("2 manifests from 1 app"));
    prov = out.state;

    // 2. A ConfigMap is configured: a new revision of the config-maps secret.
    let out = tester().run(Event::ConfigChanged, req.config("manifests", CONFIG_MAP));
    assert!(out.ok());
    req = out.state;
    let cm_secret = req.secret_by("manifest.config-maps.2").unwrap().clone();
    assert_eq!(cm_secret.latest(), 2);
    carry(&req, &mut prov, 2);
    // Juju tells the provider, which tracks revision 1, under the provider's own label.
    let seen = prov.secret_by(&cm_secret.id).unwrap().clone();
    assert_eq!(seen.label.as_deref(), Some("manifest.config-maps.2"));
    assert_eq!(seen.tracked, Some(1));
    let out = dispatcher().run(seen.changed(), prov);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(status(&out), Status::active("3 manifests from 1 app"));
    prov = out.state;
    assert_eq!(prov.secret_by(&cm_secret.id).unwrap().tracked, Some(2));
    let shown = dispatcher().run_action("get-manifests", serde_json::json!({}), prov.clone());
    assert!(shown.action.results["manifests"].contains("mode: 493"));

    // 3. Nobody tracks revision 1 any more: the tester prunes it.
    let out = tester().run(cm_secret.remove(1), req);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(
        out.removed_secret_revisions,
        [(cm_secret.id.clone(), Some(1))]
    );
    req = out.state;

    // 4. config-maps is removed: the tester deletes its secret, the dispatcher forgets the app's
    //    ConfigMap.
    let rel2 = req.rel(2).unwrap().clone();
    let out = tester().run(rel2.broken(), req);
    assert!(out.ok());
    assert!(out.state.secret_by("manifest.config-maps.2").is_none());
    let rel2 = prov.rel(2).unwrap().clone();
    let out = dispatcher().run(rel2.broken(), prov);
    assert!(out.ok());
    assert_eq!(status(&out), Status::active("2 manifests from 1 app"));
}

#[test]
fn two_testers_sending_the_same_service_accounts_conflict() {
    let mut prov = dispatcher_state()
        .leader(true)
        .relation(Relation::new("service-accounts", 1, "tester-a"))
        .relation(Relation::new("service-accounts", 2, "tester-b"));
    for id in [1, 2] {
        let req = State::default().leader(true).relation(Relation::new(
            "service-accounts",
            id,
            "resource-dispatcher",
        ));
        let out = tester().run(Event::LeaderElected, req);
        assert!(out.ok());
        // Secret ids are per model in Juju; make the second tester's distinct here.
        let mut req = out.state;
        for s in &mut req.secrets {
            s.id = format!("{}{id}", &s.id[..s.id.len() - 1]);
        }
        let secret_id = req.secrets[0].id.clone();
        req.relations[0]
            .local_app_data
            .insert("kubernetes_manifests".into(), secret_id);
        carry(&req, &mut prov, id);
    }
    let rel = prov.rel(2).unwrap().clone();
    let out = dispatcher().run(rel.changed(None), prov);
    assert!(out.ok(), "{:?}", out.result);
    assert_eq!(
        status(&out),
        Status::blocked(
            "Conflicting manifests (namespace=None name='dummy-sa-1'; namespace=None name='other-dummy-sa-1'). See debug logs."
        )
    );
    // Once tester-b leaves, the conflict is gone.
    let rel = out.state.rel(2).unwrap().clone();
    let out = dispatcher().run(rel.broken(), out.state);
    assert_eq!(status(&out), Status::active("2 manifests from 1 app"));
}
