//! Subordinate charms: units created per principal unit through a container-scoped relation,
//! machine-local visibility, `JUJU_PRINCIPAL_UNIT`, teardown with the principal or the relation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use juju_local::Model;

/// A principal that declares no `juju-info` endpoint: it gets the implicit one.
const WEB_META: &str = "name: web\nprovides:\n  website: {interface: http}\n";
/// A subordinate shaped like cephfs-client: container-scoped juju-info plus a limited share.
const AGENT_META: &str = "name: agent\nsubordinate: true\nrequires:\n  juju-info: {interface: juju-info, scope: container}\n  cephfs-share: {interface: cephfs_share, limit: 1}\npeers:\n  agents: {interface: agent-peers}\n";
const SERVER_META: &str = "name: server\nprovides:\n  cephfs-share: {interface: cephfs_share}\n";

/// Records every hook's principal and machine id.
const ENV_LOG: &str = "echo \"$JUJU_HOOK_NAME principal=$JUJU_PRINCIPAL_UNIT machine=$JUJU_MACHINE_ID\" >> \"$JUJU_CHARM_DIR/env.log\"\n";

const AGENT_HOOKS: &[&str] = &[
    "install",
    "leader-elected",
    "leader-settings-changed",
    "config-changed",
    "start",
    "stop",
    "remove",
    "juju-info-relation-created",
    "juju-info-relation-joined",
    "juju-info-relation-changed",
    "juju-info-relation-departed",
    "juju-info-relation-broken",
    "agents-relation-created",
    "agents-relation-joined",
    "agents-relation-changed",
    "agents-relation-departed",
    "cephfs-share-relation-created",
    "cephfs-share-relation-joined",
    "cephfs-share-relation-changed",
    "cephfs-share-relation-departed",
    "cephfs-share-relation-broken",
];

fn units(m: &Model, app: &str) -> Vec<String> {
    m.state().unwrap().applications[app]
        .units
        .values()
        .map(|u| u.name.clone())
        .collect()
}

fn principal(m: &Model, unit: &str) -> Option<String> {
    m.state().unwrap().unit(unit).unwrap().principal.clone()
}

fn relation_list(m: &Model, unit: &str, rel: u64) -> Vec<String> {
    let p = probe(m, unit, &format!("relation-list -r {rel}"));
    assert_eq!(p.code, 0, "{}", p.stderr);
    p.stdout.lines().map(str::to_string).collect()
}

fn pos(hooks: &[String], prefix: &str) -> usize {
    hooks
        .iter()
        .position(|h| h.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in {hooks:#?}"))
}

/// web (2 units) + agent related through juju-info; returns (model, base, juju-info relation id).
fn setup(name: &str) -> (Model, std::path::PathBuf, u64) {
    let (m, base) = model(name);
    let web = charm(&base, "web", WEB_META, None, None, &[("install", ENV_LOG)]);
    let on: Vec<(&str, &str)> = AGENT_HOOKS.iter().map(|h| (*h, ENV_LOG)).collect();
    let agent = charm(&base, "agent", AGENT_META, None, None, &on);
    deploy(&m, &web, "web", 2);
    // A subordinate is deployed without units (Juju's default -n 1 means none).
    m.deploy(&agent, juju_local::DeployOptions::default())
        .unwrap();
    assert!(units(&m, "agent").is_empty());
    m.settle(200).unwrap();
    // Inferred through web's implicit juju-info endpoint.
    let rel = m.relate("agent", "web").unwrap();
    let st = m.state().unwrap();
    assert!(st.relations[&rel].is_container());
    assert_eq!(st.relations[&rel].key(), "agent:juju-info web:juju-info");
    let report = m.settle(300).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    (m, base, rel)
}

#[test]
fn subordinate_units_follow_their_principals() {
    let (m, base, rel) = setup("sub-basic");
    assert_eq!(units(&m, "agent"), vec!["agent/0", "agent/1"]);
    assert_eq!(principal(&m, "agent/0").as_deref(), Some("web/0"));
    assert_eq!(principal(&m, "agent/1").as_deref(), Some("web/1"));
    assert_eq!(principal(&m, "web/0"), None);

    // Install phase, with relation-created for the peer and the container relation.
    let peer = m
        .state()
        .unwrap()
        .relation_between("agent:agents", None)
        .unwrap();
    let hooks = hooks_of(&m, "agent/0");
    assert_eq!(
        hooks[..6],
        [
            "install".to_string(),
            format!("agents-relation-created (relation {peer})"),
            format!("juju-info-relation-created (relation {rel})"),
            "leader-elected".into(),
            "config-changed".into(),
            "start".into(),
        ]
    );
    assert!(hooks.contains(&format!(
        "juju-info-relation-joined (relation {rel}, remote web/0)"
    )));
    assert!(
        !hooks.iter().any(|h| h.contains("remote web/1")),
        "{hooks:#?}"
    );
    assert_eq!(hooks_of(&m, "agent/1")[3], "leader-settings-changed");
    let web0 = hooks_of(&m, "web/0");
    assert!(web0.contains(&format!(
        "juju-info-relation-joined (relation {rel}, remote agent/0)"
    )));
    assert!(!web0.iter().any(|h| h.contains("agent/1")), "{web0:#?}");

    // Every hook of a subordinate carries its principal (and its machine); principals get "".
    let log = std::fs::read_to_string(unit_dir(&m, "agent/1").join("env.log")).unwrap();
    assert!(log.lines().count() >= 6, "{log}");
    assert!(
        log.lines()
            .all(|l| l.ends_with("principal=web/1 machine=1")),
        "{log}"
    );
    let log = std::fs::read_to_string(unit_dir(&m, "web/1").join("env.log")).unwrap();
    assert_eq!(log, "install principal= machine=1\n");

    // Each side only sees its machine mate; the subordinate shares its principal's address.
    assert_eq!(relation_list(&m, "web/0", rel), vec!["agent/0"]);
    assert_eq!(relation_list(&m, "web/1", rel), vec!["agent/1"]);
    assert_eq!(relation_list(&m, "agent/0", rel), vec!["web/0"]);
    assert_eq!(relation_list(&m, "agent/1", rel), vec!["web/1"]);
    assert_eq!(relation_list(&m, "agent/0", peer), vec!["agent/1"]);
    let st = m.state().unwrap();
    let addr = |u: &str| st.bag(rel, u).unwrap()["private-address"].clone();
    assert_eq!(addr("agent/1"), addr("web/1"));
    assert_ne!(addr("agent/0"), addr("agent/1"));
    let p = probe(&m, "agent/1", "unit-get private-address");
    assert_eq!(p.stdout.trim(), addr("web/1"));
    let p = probe(&m, "web/0", "goal-state --format json");
    let goal: serde_json::Value = serde_json::from_str(&p.stdout).unwrap();
    let seen: Vec<&String> = goal["relations"]["juju-info"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(seen, vec!["agent", "agent/0"]);

    // status lists subordinates under their principal; JSON names the principal.
    let text = m.status_text().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let w0 = lines.iter().position(|l| l.starts_with("web/0")).unwrap();
    assert!(lines[w0 + 1].starts_with("  agent/0*"), "{text}");
    assert!(lines[w0 + 2].starts_with("web/1"), "{text}");
    assert!(lines[w0 + 3].starts_with("  agent/1 "), "{text}");
    let json = m.show_json(false).unwrap();
    assert_eq!(
        json["applications"]["agent"]["units"]["agent/1"]["principal"],
        "web/1"
    );
    assert_eq!(
        json["applications"]["web"]["units"]["web/0"]["subordinates"],
        serde_json::json!(["agent/0"])
    );

    // Subordinate units cannot be added or removed directly.
    let err = m.add_unit("agent", 1).unwrap_err().to_string();
    assert!(err.contains("subordinate application \"agent\""), "{err}");
    let err = m.remove_unit("agent/0").unwrap_err().to_string();
    assert!(
        err.contains("unit \"agent/0\" is a subordinate, to remove use remove-relation"),
        "{err}"
    );
    let err = m
        .deploy(
            &base.join("charm-agent"),
            juju_local::DeployOptions {
                app: Some("agent2".into()),
                units: Some(2),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot use --num-units"), "{err}");

    // Adding a principal unit adds a subordinate unit next to it.
    let from = last_seq(&m);
    m.add_unit("web", 1).unwrap();
    m.settle(300).unwrap();
    assert_eq!(units(&m, "agent"), vec!["agent/0", "agent/1", "agent/2"]);
    assert_eq!(principal(&m, "agent/2").as_deref(), Some("web/2"));
    let new: Vec<String> = story(&m, from)
        .into_iter()
        .filter_map(|l| l.strip_prefix("agent/2: ").map(str::to_string))
        .collect();
    assert_eq!(new[0], "install");
    assert!(new.contains(&"start".to_string()), "{new:#?}");
    assert_eq!(relation_list(&m, "web/2", rel), vec!["agent/2"]);
    assert_eq!(relation_list(&m, "agent/2", rel), vec!["web/2"]);
    let mut peers = relation_list(&m, "agent/2", peer);
    peers.sort();
    assert_eq!(peers, vec!["agent/0", "agent/1"]);
}

#[test]
fn removing_a_principal_removes_its_subordinate() {
    let (m, _base, rel) = setup("sub-remove-unit");
    let from = last_seq(&m);
    m.remove_unit("web/0").unwrap();
    let report = m.settle(300).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(units(&m, "agent"), vec!["agent/1"]);
    assert_eq!(units(&m, "web"), vec!["web/1"]);
    let all = story(&m, from);
    let of = |u: &str| -> Vec<String> {
        all.iter()
            .filter_map(|l| l.strip_prefix(&format!("{u}: ")).map(str::to_string))
            .collect()
    };
    let sub = of("agent/0");
    assert_eq!(
        sub[pos(&sub, "juju-info-relation-departed")],
        format!("juju-info-relation-departed (relation {rel}, remote web/0, departing agent/0)")
    );
    assert!(pos(&sub, "juju-info-relation-departed") < pos(&sub, "juju-info-relation-broken"));
    assert!(pos(&sub, "agents-relation-departed") < pos(&sub, "stop"));
    assert!(pos(&sub, "juju-info-relation-broken") < pos(&sub, "stop"));
    assert_eq!(sub[sub.len() - 2..], ["stop", "remove"]);
    assert!(!sub.iter().any(|h| h.starts_with("agents-relation-broken")));
    let web = of("web/0");
    assert!(web.contains(&format!(
        "juju-info-relation-departed (relation {rel}, remote agent/0, departing web/0)"
    )));
    assert_eq!(web[web.len() - 2..], ["stop", "remove"]);
    // The principal is removed only after its subordinate.
    let idx = |line: &str| all.iter().position(|l| l == line).unwrap();
    assert!(idx("agent/0: remove") < idx("web/0: remove"), "{all:#?}");
    // The other subordinate saw its peer depart and took over leadership.
    let other = of("agent/1");
    assert!(
        other
            .iter()
            .any(|h| h.starts_with("agents-relation-departed") && h.contains("remote agent/0")),
        "{other:#?}"
    );
    assert!(other.contains(&"leader-elected".to_string()), "{other:#?}");
    assert_eq!(
        m.state().unwrap().applications["agent"].leader.as_deref(),
        Some("agent/1")
    );
    let log = std::fs::read_to_string(unit_dir(&m, "agent/0").join("env.log")).unwrap();
    assert!(
        log.ends_with("stop principal=web/0 machine=0\nremove principal=web/0 machine=0\n"),
        "{log}"
    );
}

#[test]
fn removing_the_container_relation_removes_all_subordinates() {
    let (m, _base, rel) = setup("sub-remove-rel");
    let from = last_seq(&m);
    m.remove_relation("agent", Some("web")).unwrap();
    let report = m.settle(300).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let st = m.state().unwrap();
    assert!(st.applications["agent"].units.is_empty());
    assert!(
        st.applications.contains_key("agent"),
        "the application stays"
    );
    assert!(!st.relations.contains_key(&rel));
    for (sub, web) in [("agent/0", "web/0"), ("agent/1", "web/1")] {
        let hooks: Vec<String> = story(&m, from)
            .into_iter()
            .filter_map(|l| l.strip_prefix(&format!("{sub}: ")).map(str::to_string))
            .collect();
        assert!(
            hooks.contains(&format!(
                "juju-info-relation-departed (relation {rel}, remote {web}, departing {sub})"
            )),
            "{hooks:#?}"
        );
        assert!(hooks.contains(&format!("juju-info-relation-broken (relation {rel})")));
        // A dying subordinate leaves its other relations too (peers depart, no broken).
        assert!(
            hooks
                .iter()
                .any(|h| h.starts_with("agents-relation-departed"))
        );
        assert!(
            !hooks
                .iter()
                .any(|h| h.starts_with("agents-relation-broken"))
        );
        assert_eq!(hooks[hooks.len() - 2..], ["stop", "remove"]);
        let principal: Vec<String> = story(&m, from)
            .into_iter()
            .filter_map(|l| l.strip_prefix(&format!("{web}: ")).map(str::to_string))
            .collect();
        assert_eq!(
            principal,
            vec![
                format!(
                    "juju-info-relation-departed (relation {rel}, remote {sub}, departing {sub})"
                ),
                format!("juju-info-relation-broken (relation {rel})"),
            ]
        );
    }
    // Relating again creates fresh subordinate units.
    m.relate("agent:juju-info", "web:juju-info").unwrap();
    m.settle(300).unwrap();
    assert_eq!(units(&m, "agent"), vec!["agent/2", "agent/3"]);
    assert_eq!(principal(&m, "agent/2").as_deref(), Some("web/0"));
}

#[test]
fn regular_relations_of_a_subordinate_see_all_units() {
    let (m, base, rel) = setup("sub-global");
    let server = charm(&base, "server", SERVER_META, None, None, &[]);
    deploy(&m, &server, "server", 2);
    deploy(&m, &server, "server2", 1);
    let share = m.relate("agent", "server").unwrap();
    assert!(!m.state().unwrap().relations[&share].is_container());
    let report = m.settle(300).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    for sub in ["agent/0", "agent/1"] {
        assert_eq!(relation_list(&m, sub, share), vec!["server/0", "server/1"]);
        // The container relation stays machine-local.
        assert_eq!(relation_list(&m, sub, rel).len(), 1);
    }
    for srv in ["server/0", "server/1"] {
        assert_eq!(relation_list(&m, srv, share), vec!["agent/0", "agent/1"]);
    }
    // `limit: 1` on the subordinate's endpoint still holds.
    let err = m
        .relate("agent:cephfs-share", "server2")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("would exceed its maximum relation limit of 1"),
        "{err}"
    );
    // Principal-only apps cannot use a container-scoped relation with each other.
    let err = m.relate("web:juju-info", "server").unwrap_err().to_string();
    assert!(err.contains("no relations found"), "{err}");
    // A charm declaring a subordinate without a container-scoped requirer is refused.
    let bad = charm(
        &base,
        "badsub",
        "name: badsub\nsubordinate: true\nrequires:\n  juju-info: {interface: juju-info}\n",
        None,
        None,
        &[],
    );
    let err = m
        .deploy(&bad, juju_local::DeployOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("lacks \"requires\" relation with container scope"),
        "{err}"
    );
}

#[test]
fn scenario_with_a_subordinate() {
    let base = tmp("sub-scenario");
    charm(
        &base,
        "web",
        WEB_META,
        None,
        None,
        &[("start", "status-set active serving\n")],
    );
    charm(
        &base,
        "agent",
        AGENT_META,
        None,
        None,
        &[
            (
                "start",
                "status-set active \"next to $JUJU_PRINCIPAL_UNIT\"\n",
            ),
            (
                "juju-info-relation-changed",
                "relation-set principal=\"$JUJU_REMOTE_UNIT\"\n",
            ),
        ],
    );
    let file = base.join("sub.yaml");
    std::fs::write(
        &file,
        r#"name: subordinate
hook_timeout: 20
steps:
  - deploy: {charm: charm-web, app: web, units: 2}
  - deploy: {charm: charm-agent, app: agent}
  - expect: {units: {agent: []}}
  - relate: [agent, web]
  - expect:
      units: {agent: [agent/0, agent/1]}
      principal: {agent/0: web/0, agent/1: web/1}
      leader: {agent: agent/0}
      status: {agent/1: {status: active, message: next to web/1}, web/1: active}
      bags:
        - {relation: "agent:juju-info web:juju-info", bag: agent/1, contains: {principal: web/1}}
  - add-unit: {app: web}
  - expect: {principal: {agent/2: web/2}}
  - remove-unit: web/0
  - expect: {units: {agent: [agent/1, agent/2], web: [web/1, web/2]}, leader: {agent: agent/1}}
  - remove-relation: [agent, web]
  - expect: {units: {agent: []}}
"#,
    )
    .unwrap();
    let res =
        juju_local::scenario::run_file_with(&file, juju_local::ModelOptions::new(bin()), None)
            .unwrap();
    assert!(res.passed, "{:?}", res.failure());
}
