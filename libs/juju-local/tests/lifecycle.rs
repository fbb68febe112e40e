//! Deploy order, environment, leadership, config validation, relation setup and teardown order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use juju_local::DeployOptions;
use juju_local::state::HookSpec;

#[test]
fn install_phase_order_and_environment() {
    let (m, base) = model("install");
    let c = charm(
        &base,
        "db",
        DB_META,
        Some("options:\n  port: {type: int, default: 5432}\n"),
        None,
        &[(
            "install",
            "env > \"$JUJU_CHARM_DIR/env.install\"\necho \"cwd=$(pwd)\"\n",
        )],
    );
    deploy(&m, &c, "db", 2);
    m.settle(100).unwrap();
    assert_eq!(
        hooks_of(&m, "db/0"),
        vec![
            "install",
            "cluster-relation-created (relation 0)",
            "leader-elected",
            "config-changed",
            "start",
            "cluster-relation-joined (relation 0, remote db/1)",
            "cluster-relation-changed (relation 0, remote db/1)",
        ]
    );
    let follower = hooks_of(&m, "db/1");
    assert_eq!(follower[2], "leader-settings-changed");
    // Each unit has its own charm directory, and the environment is Juju's.
    let env0 = std::fs::read_to_string(unit_dir(&m, "db/0").join("env.install")).unwrap();
    let env1 = std::fs::read_to_string(unit_dir(&m, "db/1").join("env.install")).unwrap();
    let get = |env: &str, k: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .map(str::to_string)
    };
    assert_eq!(
        get(&env0, "JUJU_DISPATCH_PATH").as_deref(),
        Some("hooks/install")
    );
    assert_eq!(get(&env0, "JUJU_HOOK_NAME").as_deref(), Some("install"));
    assert_eq!(get(&env0, "JUJU_UNIT_NAME").as_deref(), Some("db/0"));
    assert_eq!(get(&env0, "JUJU_VERSION").as_deref(), Some("3.6.14"));
    assert_eq!(get(&env0, "JUJU_MODEL_NAME").as_deref(), Some("local"));
    assert!(
        get(&env0, "JUJU_CONTEXT_ID")
            .unwrap()
            .starts_with("db/0-install-")
    );
    assert_ne!(get(&env0, "JUJU_CHARM_DIR"), get(&env1, "JUJU_CHARM_DIR"));
    assert_eq!(get(&env0, "JUJU_CHARM_DIR"), get(&env0, "CHARM_DIR"));
    assert!(
        get(&env0, "PATH")
            .unwrap()
            .starts_with(&m.dir().join("tools").to_string_lossy().into_owned())
    );
    assert!(get(&env0, "JUJU_RELATION_ID").is_none());
    let rec = m
        .timeline()
        .unwrap()
        .into_iter()
        .find(|r| r.unit == "db/0" && r.hook.name == "install")
        .unwrap();
    assert_eq!(
        rec.stdout,
        vec![format!("cwd={}", unit_dir(&m, "db/0").display())]
    );
    // Status: maintenance during install, unknown after start if the charm never set one.
    assert_eq!(
        m.state().unwrap().unit("db/0").unwrap().status.status,
        "unknown"
    );
}

#[test]
fn relation_and_action_environment() {
    let (m, base) = model("env");
    let db = charm(
        &base,
        "db",
        DB_META,
        None,
        Some("backup:\n  params:\n    target: {type: string}\n  required: [target]\n"),
        &[
            (
                "db-relation-joined",
                "env | grep '^JUJU_' | sort > \"$JUJU_CHARM_DIR/env.joined\"\n",
            ),
            (
                "backup",
                "env | grep '^JUJU_' | sort > \"$JUJU_CHARM_DIR/env.action\"\naction-set path=\"$(action-get target)\"\n",
            ),
        ],
    );
    let app = charm(&base, "app", APP_META, None, None, &[]);
    deploy(&m, &db, "db", 1);
    deploy(&m, &app, "app", 1);
    let rel = m.relate("app:db", "db:db").unwrap();
    m.settle(100).unwrap();
    let env = std::fs::read_to_string(unit_dir(&m, "db/0").join("env.joined")).unwrap();
    assert!(env.contains("JUJU_RELATION=db\n"), "{env}");
    assert!(env.contains(&format!("JUJU_RELATION_ID=db:{rel}\n")));
    assert!(env.contains("JUJU_REMOTE_UNIT=app/0\n"));
    assert!(env.contains("JUJU_REMOTE_APP=app\n"));
    let out = m
        .run_action("db/0", "backup", &[("target".into(), "/srv".into())])
        .unwrap();
    assert_eq!(out.status, "completed");
    assert_eq!(out.results["path"], "/srv");
    assert_eq!(out.results["return-code"], "0");
    let env = std::fs::read_to_string(unit_dir(&m, "db/0").join("env.action")).unwrap();
    assert!(env.contains("JUJU_DISPATCH_PATH=actions/backup\n"));
    assert!(env.contains("JUJU_HOOK_NAME=\n"));
    assert!(env.contains("JUJU_ACTION_NAME=backup\n"));
    assert!(env.contains(&format!("JUJU_ACTION_UUID={}\n", out.id)));
    assert!(env.contains(&format!("JUJU_ACTION_TAG=action-{}\n", out.id)));
    // Schema validation happens before dispatch.
    let err = m.run_action("db/0", "backup", &[]).unwrap_err().to_string();
    assert!(err.contains("\"target\" property is missing"), "{err}");
    assert!(m.run_action("db/0", "nope", &[]).is_err());
}

#[test]
fn action_failure_and_action_tools_in_hooks() {
    let (m, base) = model("actionfail");
    let db = charm(
        &base,
        "db",
        DB_META,
        None,
        Some("fail: {}\ncrash: {}\n"),
        &[
            ("fail", "action-log starting\naction-fail 'disk full'\n"),
            ("crash", "echo oops >&2\nexit 3\n"),
        ],
    );
    deploy(&m, &db, "db", 1);
    m.settle(100).unwrap();
    let out = m.run_action("db/0", "fail", &[]).unwrap();
    assert_eq!(
        (out.status.as_str(), out.message.as_str()),
        ("failed", "disk full")
    );
    assert_eq!(out.logs, vec!["starting"]);
    let out = m.run_action("db/0", "crash", &[]).unwrap();
    assert_eq!(out.status, "failed");
    assert_eq!(out.results["return-code"], "3");
    assert_eq!(out.results["stderr"], "oops\n");
    // The unit does not go into error after a failed action.
    assert!(
        m.state()
            .unwrap()
            .unit("db/0")
            .unwrap()
            .agent
            .error
            .is_none()
    );
    for tool in [
        "action-get",
        "action-set a=b",
        "action-log hi",
        "action-fail",
    ] {
        let p = probe(&m, "db/0", tool);
        assert_eq!(p.code, 1, "{tool}");
        assert_eq!(p.stderr, "ERROR not running an action\n", "{tool}");
    }
}

#[test]
fn leadership_moves() {
    let (m, base) = model("leader");
    let c = charm(&base, "db", DB_META, None, None, &[]);
    deploy(&m, &c, "db", 3);
    m.settle(200).unwrap();
    let from = last_seq(&m);
    m.set_leader("db/2").unwrap();
    m.settle(100).unwrap();
    let mut s = story(&m, from);
    s.sort();
    assert_eq!(
        s,
        vec![
            "db/0: leader-settings-changed",
            "db/1: leader-settings-changed",
            "db/2: leader-elected"
        ]
    );
    assert_eq!(
        probe(&m, "db/2", "is-leader --format=json").stdout,
        "true\n"
    );
    assert_eq!(probe(&m, "db/0", "is-leader").stdout, "False\n");
    // Removing the leader elects another unit.
    let from = last_seq(&m);
    m.remove_unit("db/2").unwrap();
    m.settle(100).unwrap();
    assert_eq!(
        m.state().unwrap().applications["db"].leader.as_deref(),
        Some("db/0")
    );
    assert!(story(&m, from).contains(&"db/0: leader-elected".to_string()));
}

#[test]
fn config_validation_and_config_changed() {
    let (m, base) = model("config");
    let cfg = "options:\n  port: {type: int, default: 5432}\n  name: {type: string}\n  debug: {type: boolean, default: false}\n  ratio: {type: float}\n";
    let c = charm(&base, "db", DB_META, Some(cfg), None, &[]);
    let err = m
        .deploy(
            &c,
            DeployOptions {
                app: None,
                units: Some(1),
                config: vec![("port".into(), "abc".into())],
                env: vec![],
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("option \"port\""), "{err}");
    deploy(&m, &c, "db", 1);
    m.settle(100).unwrap();
    let before = m.state().unwrap();
    assert!(m.config("db", &[("port".into(), "x".into())], &[]).is_err());
    assert!(m.config("db", &[("nope".into(), "1".into())], &[]).is_err());
    assert!(
        m.config("db", &[("debug".into(), "maybe".into())], &[])
            .is_err()
    );
    assert_eq!(
        m.state().unwrap(),
        before,
        "rejected config must not change the model"
    );
    assert_eq!(
        probe(&m, "db/0", "config-get --format=json").stdout,
        "{\"debug\":false,\"port\":5432}\n"
    );
    assert_eq!(
        probe(&m, "db/0", "config-get --all --format=json").stdout,
        "{\"debug\":false,\"name\":null,\"port\":5432,\"ratio\":null}\n"
    );
    assert_eq!(probe(&m, "db/0", "config-get port").stdout, "5432\n");
    assert_eq!(
        probe(&m, "db/0", "config-get missing --format=json").stdout,
        "null\n"
    );
    let from = last_seq(&m);
    m.config(
        "db",
        &[
            ("port".into(), "6000".into()),
            ("ratio".into(), "0.5".into()),
        ],
        &[],
    )
    .unwrap();
    m.settle(100).unwrap();
    assert_eq!(story(&m, from), vec!["db/0: config-changed"]);
    assert_eq!(
        probe(&m, "db/0", "config-get --format=json").stdout,
        "{\"debug\":false,\"port\":6000,\"ratio\":0.5}\n"
    );
    // Setting the same value again changes nothing, so no hook.
    let from = last_seq(&m);
    m.config("db", &[("port".into(), "6000".into())], &[])
        .unwrap();
    m.settle(100).unwrap();
    assert!(story(&m, from).is_empty());
}

#[test]
fn relate_checks_endpoints_interfaces_and_limits() {
    let (m, base) = model("relate");
    let db = charm(&base, "db", DB_META, None, None, &[]);
    let app = charm(&base, "app", APP_META, None, None, &[]);
    let other = charm(
        &base,
        "other",
        "name: other\nrequires:\n  cache: {interface: redis}\n",
        None,
        None,
        &[],
    );
    deploy(&m, &db, "db", 1);
    deploy(&m, &db, "db2", 1);
    deploy(&m, &app, "app", 1);
    deploy(&m, &other, "other", 1);
    assert!(
        m.relate("app:nope", "db:db")
            .unwrap_err()
            .to_string()
            .contains("no \"nope\" relation")
    );
    assert!(
        m.relate("other:cache", "db:db").is_err(),
        "interface mismatch"
    );
    assert!(m.relate("app:db", "missing").is_err());
    m.relate("app:db", "db:db").unwrap();
    let dup = m.relate("app", "db").unwrap_err().to_string();
    assert!(dup.contains("already exists"), "{dup}");
    let limit = m.relate("app:db", "db2:db").unwrap_err().to_string();
    assert!(
        limit.contains("would exceed its maximum relation limit of 1"),
        "{limit}"
    );
}

#[test]
fn departed_and_broken_semantics_and_order() {
    let (m, base) = model("teardown");
    let record_departed = "relation-list --format=json > \"$JUJU_CHARM_DIR/departed.list\"\nrelation-get --format=json - \"$JUJU_DEPARTING_UNIT\" > \"$JUJU_CHARM_DIR/departed.bag\" 2>&1\n";
    let record_broken = "relation-list --format=json > \"$JUJU_CHARM_DIR/broken.list\"\nrelation-ids db --format=json > \"$JUJU_CHARM_DIR/broken.ids\"\nrelation-set k=v 2> \"$JUJU_CHARM_DIR/broken.err\"; echo $? >> \"$JUJU_CHARM_DIR/broken.err\"\nenv | grep JUJU_REMOTE > \"$JUJU_CHARM_DIR/broken.env\"\n";
    let db = charm(
        &base,
        "db",
        DB_META,
        None,
        None,
        &[
            (
                "db-relation-joined",
                "relation-set who=\"$JUJU_UNIT_NAME\"\n",
            ),
            ("db-relation-departed", record_departed),
            ("db-relation-broken", record_broken),
        ],
    );
    let app = charm(
        &base,
        "app",
        APP_META,
        None,
        None,
        &[
            (
                "db-relation-joined",
                "relation-set who=\"$JUJU_UNIT_NAME\"\n",
            ),
            ("db-relation-departed", record_departed),
            ("db-relation-broken", record_broken),
        ],
    );
    deploy(&m, &db, "db", 2);
    deploy(&m, &app, "app", 1);
    let rel = m.relate("app:db", "db:db").unwrap();
    m.settle(200).unwrap();

    // remove-unit: the others get departed for it; it departs everyone, then broken, stop, remove.
    let from = last_seq(&m);
    m.remove_unit("db/1").unwrap();
    m.settle(200).unwrap();
    let s = story(&m, from);
    let db1: Vec<&String> = s.iter().filter(|l| l.starts_with("db/1:")).collect();
    assert_eq!(
        db1,
        vec![
            &"db/1: cluster-relation-departed (relation 0, remote db/0, departing db/1)"
                .to_string(),
            &format!("db/1: db-relation-departed (relation {rel}, remote app/0, departing db/1)"),
            &format!("db/1: db-relation-broken (relation {rel})"),
            &"db/1: stop".to_string(),
            &"db/1: remove".to_string(),
        ]
    );
    assert!(s.contains(&format!(
        "app/0: db-relation-departed (relation {rel}, remote db/1, departing db/1)"
    )));
    // During departed the departing unit is not listed but its bag is readable.
    let list = std::fs::read_to_string(unit_dir(&m, "app/0").join("departed.list")).unwrap();
    assert_eq!(list, "[\"db/0\"]\n");
    let bag = std::fs::read_to_string(unit_dir(&m, "app/0").join("departed.bag")).unwrap();
    assert!(bag.contains("\"who\":\"db/1\""), "{bag}");
    assert!(m.state().unwrap().unit("db/1").is_none());

    // remove-relation: departed on both sides, then broken on both.
    let from = last_seq(&m);
    m.remove_relation("app:db", Some("db:db")).unwrap();
    m.settle(200).unwrap();
    let s = story(&m, from);
    let pos = |needle: &str| {
        s.iter()
            .position(|l| l == needle)
            .unwrap_or_else(|| panic!("{needle} not in {s:?}"))
    };
    let d_app = pos(&format!(
        "app/0: db-relation-departed (relation {rel}, remote db/0, departing db/0)"
    ));
    let b_app = pos(&format!("app/0: db-relation-broken (relation {rel})"));
    let d_db = pos(&format!(
        "db/0: db-relation-departed (relation {rel}, remote app/0, departing app/0)"
    ));
    let b_db = pos(&format!("db/0: db-relation-broken (relation {rel})"));
    assert!(d_app < b_app && d_db < b_db);
    assert_eq!(s.len(), 4, "{s:?}");
    let dir = unit_dir(&m, "app/0");
    assert_eq!(
        std::fs::read_to_string(dir.join("broken.list")).unwrap(),
        "[]\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("broken.ids")).unwrap(),
        "[]\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("broken.err")).unwrap(),
        "ERROR cannot read relation settings: permission denied (unauthorized access)\n1\n"
    );
    let env = std::fs::read_to_string(dir.join("broken.env")).unwrap();
    assert!(
        env.contains("JUJU_REMOTE_UNIT=\n") && env.contains("JUJU_REMOTE_APP=db\n"),
        "{env}"
    );
    assert!(!m.state().unwrap().relations.contains_key(&rel));
}

#[test]
fn remove_app_tears_everything_down() {
    let (m, base) = model("removeapp");
    let db = charm(&base, "db", DB_META, None, None, &[]);
    let app = charm(&base, "app", APP_META, None, None, &[]);
    deploy(&m, &db, "db", 1);
    deploy(&m, &app, "app", 1);
    let rel = m.relate("app", "db").unwrap();
    m.settle(200).unwrap();
    let from = last_seq(&m);
    m.remove_app("app").unwrap();
    m.settle(200).unwrap();
    let s = story(&m, from);
    assert_eq!(
        s.iter()
            .filter(|l| l.starts_with("app/0"))
            .cloned()
            .collect::<Vec<_>>(),
        vec![
            format!("app/0: db-relation-departed (relation {rel}, remote db/0, departing app/0)"),
            format!("app/0: db-relation-broken (relation {rel})"),
            "app/0: stop".into(),
            "app/0: remove".into(),
        ]
    );
    assert!(s.contains(&format!("db/0: db-relation-broken (relation {rel})")));
    let st = m.state().unwrap();
    assert!(!st.applications.contains_key("app"));
    assert!(!st.relations.contains_key(&rel));
    // Manual runs reject unknown units.
    assert!(
        m.run_hook("app/0", HookSpec::simple("update-status"))
            .is_err()
    );
}

#[test]
fn per_unit_environment_from_deploy() {
    let (m, base) = model("env");
    let c = charm(
        &base,
        "db",
        DB_META,
        None,
        None,
        &[(
            "install",
            "echo \"$NODE_NAME\" > \"$JUJU_CHARM_DIR/node-name\"\necho \"$STATE\" > \"$JUJU_CHARM_DIR/state-path\"\n",
        )],
    );
    m.deploy(
        &c,
        DeployOptions {
            app: Some("db".into()),
            units: Some(2),
            config: vec![],
            env: vec![
                ("NODE_NAME".into(), "{app}-node-{n} ({unit})".into()),
                ("STATE".into(), "{model}/cluster.json".into()),
            ],
            ..Default::default()
        },
    )
    .unwrap();
    m.settle(100).unwrap();
    for (unit, expected) in [("db/0", "db-node-0 (db/0)"), ("db/1", "db-node-1 (db/1)")] {
        let got = std::fs::read_to_string(unit_dir(&m, unit).join("node-name")).unwrap();
        assert_eq!(got.trim(), expected);
        let state = std::fs::read_to_string(unit_dir(&m, unit).join("state-path")).unwrap();
        assert_eq!(state.trim(), format!("{}/cluster.json", m.dir().display()));
    }
}
