//! Databag access rules, commit and rollback, relation-changed propagation, and exact output formats.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;

use juju_local::state::HookSpec;

/// db (2 units, leader db/0) related to app (1 unit); settled.
fn setup(name: &str, db_on: &[(&str, &str)], app_on: &[(&str, &str)]) -> (juju_local::Model, u64) {
    let (m, base) = model(name);
    let db = charm(
        &base,
        "db",
        DB_META,
        Some("options:\n  port: {type: int, default: 5432}\n"),
        None,
        db_on,
    );
    let app = charm(&base, "app", APP_META, None, None, app_on);
    deploy(&m, &db, "db", 2);
    deploy(&m, &app, "app", 1);
    let rel = m.relate("app:db", "db:db").unwrap();
    m.settle(300).unwrap();
    (m, rel)
}

#[test]
fn app_bag_access_rules() {
    let (m, rel) = setup("access", &[], &[]);
    let r = format!("-r db:{rel}");
    // Leader writes its own app bag; a follower may neither read nor write it (non-peer relation).
    let p = probe(&m, "db/0", &format!("relation-set {r} --app token=abc"));
    assert_eq!((p.code, p.stderr.as_str()), (0, ""));
    let p = probe(&m, "db/1", &format!("relation-get {r} --app - db"));
    assert_eq!(
        (p.code, p.stderr.as_str()),
        (1, "ERROR permission denied\n")
    );
    let p = probe(&m, "db/1", &format!("relation-set {r} --app token=evil"));
    assert_eq!(
        (p.code, p.stderr.as_str()),
        (1, "ERROR cannot write relation settings\n")
    );
    // The remote side reads the app bag; a unit name after --app is turned into its application.
    let p = probe(
        &m,
        "app/0",
        &format!("relation-get {r} --app --format=json - db/1"),
    );
    assert_eq!(p.stdout, "{\"token\":\"abc\"}\n");
    // Peer app bag: written by the leader, readable by every unit; followers cannot write it.
    assert_eq!(
        probe(&m, "db/0", "relation-set -r cluster:0 --app peer=1").code,
        0
    );
    let p = probe(
        &m,
        "db/1",
        "relation-get -r cluster:0 --app --format=json - db",
    );
    assert_eq!((p.code, p.stdout.as_str()), (0, "{\"peer\":\"1\"}\n"));
    assert_eq!(
        probe(&m, "db/1", "relation-set -r cluster:0 --app peer=2").code,
        1
    );
    // Unit bags: a unit writes only its own; remote bags are readable; unknown units are not.
    assert_eq!(
        probe(&m, "app/0", &format!("relation-set {r} mine=yes")).code,
        0
    );
    let p = probe(&m, "db/1", &format!("relation-get {r} mine app/0"));
    assert_eq!((p.code, p.stdout.as_str()), (0, "yes\n"));
    let p = probe(&m, "db/1", &format!("relation-get {r} - other/7"));
    assert_eq!(p.code, 1);
    assert!(p.stderr.contains("settings not found"), "{}", p.stderr);
    let st = m.state().unwrap();
    let bag = &st.relations[&rel].app_data["db"].data;
    assert_eq!(
        bag.get("token").map(String::as_str),
        Some("abc"),
        "follower writes never land"
    );
}

#[test]
fn commit_on_success_rollback_on_failure() {
    let (m, rel) = setup("commit", &[], &[]);
    let cmd = format!(
        "relation-set -r {rel} a=1 && state-set k=v && open-port 8080 && status-set maintenance working && \
         juju-log --log-level WARNING -- careful && relation-get -r {rel} --format=json - db/0"
    );
    // Within the hook the unit sees its own pending write; the hook then fails.
    let p = probe_in(&m, "db/0", HookSpec::simple("update-status"), &cmd, 1);
    assert!(p.stdout.contains("\"a\":\"1\""), "{}", p.stdout);
    assert_eq!(p.record.outcome, "failed");
    assert!(!p.record.committed);
    let st = m.state().unwrap();
    let u = st.unit("db/0").unwrap();
    assert!(
        !st.relations[&rel].unit_data["db/0"].data.contains_key("a"),
        "relation data rolled back"
    );
    assert!(
        u.charm_state.is_empty() && u.ports.is_empty(),
        "state and ports rolled back"
    );
    // Status and logs apply at once, even though the hook failed.
    assert_eq!(u.status.status, "maintenance");
    assert_eq!(
        p.record.juju_log,
        vec![("WARNING".to_string(), "careful".to_string())]
    );
    // The same hook succeeding commits everything.
    let p = probe_in(&m, "db/0", HookSpec::simple("update-status"), &cmd, 0);
    assert!(p.record.committed);
    let st = m.state().unwrap();
    let u = st.unit("db/0").unwrap();
    assert_eq!(st.relations[&rel].unit_data["db/0"].data["a"], "1");
    assert_eq!(u.charm_state["k"], "v");
    assert_eq!(u.ports[0].display(), "8080/tcp");
    assert_eq!(
        probe(&m, "db/0", "opened-ports --format=json").stdout,
        "[\"8080/tcp\"]\n"
    );
    assert_eq!(
        probe(&m, "db/0", "state-get --format=json").stdout,
        "{\"k\":\"v\"}\n"
    );
}

#[test]
fn failed_agent_hook_blocks_unit_until_resolved() {
    let (m, base) = model("resolve");
    let db = charm(
        &base,
        "db",
        DB_META,
        Some("options:\n  port: {type: int, default: 5432}\n"),
        None,
        &[],
    );
    deploy(&m, &db, "db", 1);
    m.settle(100).unwrap();
    on(
        &m,
        "db/0",
        "config-changed",
        Some("state-set attempted=yes\nexit 1\n"),
    );
    m.config("db", &[("port".into(), "1".into())], &[]).unwrap();
    let report = m.settle(100).unwrap();
    assert_eq!(report.errors.len(), 1);
    assert_eq!(m.pending().unwrap(), vec![]);
    let st = m.state().unwrap();
    assert!(st.unit("db/0").unwrap().charm_state.is_empty());
    assert_eq!(
        st.unit("db/0")
            .unwrap()
            .agent
            .error
            .as_ref()
            .unwrap()
            .hook
            .name,
        "config-changed"
    );
    // Retry after fixing the charm.
    on(
        &m,
        "db/0",
        "config-changed",
        Some("state-set attempted=yes\n"),
    );
    m.resolve("db/0", true).unwrap();
    let from = last_seq(&m);
    m.settle(100).unwrap();
    assert_eq!(story(&m, from), vec!["db/0: config-changed"]);
    assert_eq!(
        m.state().unwrap().unit("db/0").unwrap().charm_state["attempted"],
        "yes"
    );
}

#[test]
fn relation_changed_propagation() {
    let (m, rel) = setup("propagate", &[], &[]);
    let from = last_seq(&m);
    // A unit-bag write reaches every remote unit as -changed with JUJU_REMOTE_UNIT = the writer.
    probe(&m, "app/0", &format!("relation-set -r {rel} x=1"));
    m.settle(100).unwrap();
    let mut s = story(&m, from + 1);
    s.sort();
    assert_eq!(
        s,
        vec![
            format!("db/0: db-relation-changed (relation {rel}, remote app/0)"),
            format!("db/1: db-relation-changed (relation {rel}, remote app/0)"),
        ]
    );
    // An app-bag write triggers -changed with an empty remote unit on the other side only.
    let from = last_seq(&m);
    on(
        &m,
        "app/0",
        "db-relation-changed",
        Some("env | grep '^JUJU_REMOTE' | sort > \"$JUJU_CHARM_DIR/changed.env\"\n"),
    );
    probe(&m, "db/0", &format!("relation-set -r {rel} --app y=2"));
    m.settle(100).unwrap();
    assert_eq!(
        story(&m, from + 1),
        vec![format!(
            "app/0: db-relation-changed (relation {rel}, app-level)"
        )]
    );
    let env = std::fs::read_to_string(unit_dir(&m, "app/0").join("changed.env")).unwrap();
    assert_eq!(env, "JUJU_REMOTE_APP=db\nJUJU_REMOTE_UNIT=\n");
    // Writing identical data is not a change.
    let from = last_seq(&m);
    probe(&m, "app/0", &format!("relation-set -r {rel} x=1"));
    m.settle(100).unwrap();
    assert!(story(&m, from + 1).is_empty());
    // Peer app data written by the leader reaches the followers, not the leader itself.
    let from = last_seq(&m);
    probe(&m, "db/0", "relation-set -r 0 --app cfg=1");
    m.settle(100).unwrap();
    assert_eq!(
        story(&m, from + 1),
        vec!["db/1: cluster-relation-changed (relation 0, app-level)"]
    );
}

#[test]
fn settle_is_bounded() {
    // Two charms that answer every change with a new value never settle.
    let bump = "n=$(relation-get mine \"$JUJU_UNIT_NAME\"); relation-set mine=$(( ${n:-0} + 1 ))\n";
    let (m, base) = model("pingpong");
    let db = charm(
        &base,
        "db",
        DB_META,
        None,
        None,
        &[("db-relation-changed", bump)],
    );
    let app = charm(
        &base,
        "app",
        APP_META,
        None,
        None,
        &[("db-relation-changed", bump)],
    );
    deploy(&m, &db, "db", 1);
    deploy(&m, &app, "app", 1);
    m.relate("app", "db").unwrap();
    let err = m.settle(40).unwrap_err().to_string();
    assert!(err.contains("did not settle after 40 hooks"), "{err}");
    assert!(err.contains("db-relation-changed"), "{err}");
}

#[test]
fn relation_set_file_and_deletes() {
    let (m, rel) = setup("relset", &[], &[]);
    let p = probe(
        &m,
        "app/0",
        &format!(
            "printf '{{\"a\": \"1\", \"b\": 2}}' | relation-set -r db:{rel} --file - c=3 && relation-set -r {rel} b= && relation-get -r {rel} --format=json - app/0"
        ),
    );
    assert_eq!(p.code, 0, "{}", p.stderr);
    assert!(
        p.stdout.starts_with("{\"a\":\"1\",\"c\":\"3\","),
        "{}",
        p.stdout
    );
    let p = probe(
        &m,
        "app/0",
        &format!(
            "printf 'x: y\\nn: 5\\n' | relation-set -r {rel} --file - && relation-get -r {rel} n app/0"
        ),
    );
    assert_eq!(p.stdout, "5\n");
    let p = probe(
        &m,
        "app/0",
        &format!("printf -- '- a\\n' | relation-set -r {rel} --file -"),
    );
    assert_eq!(p.code, 1);
    let p = probe(&m, "app/0", &format!("relation-set -r {rel} novalue"));
    assert_eq!(
        (p.code, p.stderr.as_str()),
        (2, "ERROR expected \"key=value\", got \"novalue\"\n")
    );
}

#[test]
fn exact_output_formats() {
    let (m, rel) = setup("formats", &[], &[]);
    probe(
        &m,
        "db/0",
        &format!("relation-set -r {rel} host=db0 && status-set active 'all good'"),
    );
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "app/0",
            "relation-ids db --format=json".into(),
            "[\"db:1\"]\n",
        ),
        ("app/0", "relation-ids db".into(), "db:1\n"),
        (
            "app/0",
            format!("relation-list -r {rel} --format=json"),
            "[\"db/0\",\"db/1\"]\n",
        ),
        ("app/0", format!("relation-list -r {rel}"), "db/0\ndb/1\n"),
        (
            "app/0",
            format!("relation-list -r {rel} --app --format=json"),
            "\"db\"\n",
        ),
        (
            "app/0",
            format!("relation-get -r db:{rel} --format=json host db/0"),
            "\"db0\"\n",
        ),
        (
            "app/0",
            format!("relation-get -r {rel} --format=json nothing db/0"),
            "null\n",
        ),
        ("app/0", format!("relation-get -r {rel} nothing db/0"), ""),
        ("app/0", format!("relation-get -r {rel} host db/0"), "db0\n"),
        (
            "app/0",
            format!("relation-model-get -r {rel} --format=json"),
            "",
        ),
        ("db/0", "is-leader --format=json".into(), "true\n"),
        ("db/1", "is-leader --format=json".into(), "false\n"),
        ("db/0", "is-leader".into(), "True\n"),
        (
            "db/0",
            "config-get --format=json".into(),
            "{\"port\":5432}\n",
        ),
        ("db/0", "config-get --format json port".into(), "5432\n"),
        ("db/0", "status-get".into(), "active\n"),
        (
            "db/0",
            "status-get --include-data --format=json".into(),
            "{\"message\":\"all good\",\"status\":\"active\",\"status-data\":{}}\n",
        ),
        (
            "db/0",
            "status-get --format=json".into(),
            "{\"status\":\"active\"}\n",
        ),
        (
            "db/0",
            "status-get --application=True --include-data --format=json".into(),
            "{\"application-status\":{\"message\":\"\",\"status\":\"unknown\",\"status-data\":{},\"units\":{\"db/0\":{\"message\":\"all good\",\"status\":\"active\",\"status-data\":{}},\"db/1\":{\"message\":\"\",\"status\":\"unknown\",\"status-data\":{}}}}}\n",
        ),
        (
            "db/0",
            "network-get db --ingress-address".into(),
            "10.1.1.10\n",
        ),
        ("db/1", "unit-get private-address".into(), "10.1.1.11\n"),
    ];
    for (unit, cmd, want) in cases {
        let p = probe(&m, unit, &cmd);
        if cmd.starts_with("relation-model-get") {
            let uuid = m.state().unwrap().uuid;
            assert_eq!(p.stdout, format!("{{\"uuid\":\"{uuid}\"}}\n"));
            continue;
        }
        assert_eq!(
            (p.code, p.stdout.as_str()),
            (0, want),
            "{unit}: {cmd}: {}",
            p.stderr
        );
    }
    let p = probe(&m, "db/1", "status-get --application=True");
    assert_eq!(
        (p.code, p.stderr.as_str()),
        (
            1,
            "ERROR finding application status: this unit is not the leader\n"
        )
    );
    let p = probe(&m, "db/1", "status-set --application=True active");
    assert_eq!(
        (p.code, p.stderr.as_str()),
        (1, "ERROR this unit is not the leader\n")
    );
    let p = probe(&m, "db/0", "status-set --application=False fine -- x");
    assert_eq!(p.code, 2);
    assert_eq!(
        p.stderr,
        "ERROR invalid status \"fine\", expected one of [maintenance blocked waiting active]\n"
    );
    assert_eq!(
        probe(&m, "db/0", "status-set --application=True active -- ok").code,
        0
    );
    assert_eq!(m.state().unwrap().applications["db"].status.message, "ok");
}

#[test]
fn flag_and_relation_id_errors() {
    let (m, rel) = setup("flags", &[], &[]);
    let cases = [
        (
            "relation-get --bogus",
            2,
            "ERROR option provided but not defined: --bogus\n",
        ),
        (
            "relation-get -r 42 - db/0",
            2,
            "ERROR invalid value \"42\" for option -r: relation not found\n",
        ),
        (
            "relation-get -r db:x - db/0",
            2,
            "ERROR invalid value \"db:x\" for option -r: invalid relation id\n",
        ),
        ("relation-get - db/0", 2, "ERROR no relation id specified\n"),
        (
            "relation-list --format=xml -r 1",
            2,
            "ERROR invalid value \"xml\" for option --format: unknown format \"xml\"\n",
        ),
        ("config-get a b", 2, "ERROR unrecognized args: [\"b\"]\n"),
        (
            "relation-set -r 1 --app=maybe x=1",
            2,
            "ERROR invalid value \"maybe\" for option --app: strconv.ParseBool: parsing \"maybe\": invalid syntax\n",
        ),
    ];
    for (cmd, code, err) in cases {
        let p = probe(&m, "app/0", cmd);
        assert_eq!((p.code, p.stderr.as_str()), (code, err), "{cmd}");
    }
    // Gnuflag spellings all work.
    for cmd in [
        format!("relation-get -r={rel} --format json - db/0"),
        format!("relation-get --relation {rel} --format=json - db/0"),
        format!("relation-get - db/0 -r{rel} --format=json"),
    ] {
        let p = probe(&m, "app/0", &cmd);
        assert_eq!(p.code, 0, "{cmd}: {}", p.stderr);
        assert!(p.stdout.starts_with('{'), "{cmd}");
    }
    // Inside a relation hook -r defaults to the hook's relation and the key's unit to the remote unit.
    let p = probe_rel(
        &m,
        "app/0",
        "db-relation-changed",
        rel,
        Some("db/0"),
        "relation-get --format=json private-address",
    );
    assert_eq!(p.stdout, "\"10.1.1.10\"\n");
}

#[test]
fn peer_relation_not_visible_before_created() {
    let (m, base) = model("install-peer");
    let db = charm(
        &base,
        "db",
        DB_META,
        None,
        None,
        &[(
            "install",
            "relation-ids cluster --format=json > \"$JUJU_CHARM_DIR/install.ids\"\nrelation-get -r cluster:0 - db/0 2> \"$JUJU_CHARM_DIR/install.err\"\n",
        )],
    );
    deploy(&m, &db, "db", 1);
    m.settle(50).unwrap();
    let dir = unit_dir(&m, "db/0");
    assert_eq!(
        std::fs::read_to_string(dir.join("install.ids")).unwrap(),
        "[]\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("install.err")).unwrap(),
        "ERROR invalid value \"cluster:0\" for option -r: relation not found\n"
    );
}
