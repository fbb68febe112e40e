//! `POST /v1/layers` and `GET /v1/plan`: merge rules, errors exactly as Pebble words them, and a
//! plan left untouched by a refused layer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{Value, json};

fn add(p: &Pebble, label: &str, combine: bool, layer: &str) -> (u16, Value) {
    // The body exactly as ops sends it (every key but `inner`).
    p.post(
        "/v1/layers",
        &json!({"action": "add", "label": label, "combine": combine, "format": "yaml", "layer": layer}),
    )
}

fn plan(p: &Pebble) -> String {
    let (status, body) = p.get("/v1/plan?format=yaml");
    assert_eq!(status, 200, "{body}");
    body["result"].as_str().unwrap().to_string()
}

#[test]
fn a_layer_shows_up_in_the_plan_as_pebble_writes_it() {
    let p = start("plan");
    let r = request(
        &p.socket,
        "POST",
        "/v1/layers",
        &[("Content-Type", "application/json")],
        br#"{"action": "add", "label": "base", "combine": false, "format": "yaml", "layer": "services:\n  web:\n    override: replace\n    command: /bin/web\n"}"#,
    );
    assert_eq!(
        r.text(),
        r#"{"type":"sync","status-code":200,"status":"OK","result":true}"#
    );
    let r = request(&p.socket, "GET", "/v1/plan?format=yaml", &[], b"");
    assert_eq!(
        r.text(),
        r#"{"type":"sync","status-code":200,"status":"OK","result":"services:\n    web:\n        override: replace\n        command: /bin/web\n"}"#
    );
    let (status, body) = p.get("/v1/plan");
    assert_eq!(
        (status, body["result"]["message"].as_str()),
        (400, Some("invalid format \"\""))
    );
}

#[test]
fn merge_appends_lists_merges_maps_and_combine_keeps_position() {
    let p = start("merge");
    let base = "services:\n  web:\n    override: replace\n    command: /bin/web\n    after: [db]\n    environment: {A: '1', B: '2'}\n  db:\n    override: replace\n    command: /bin/db\n";
    assert_eq!(add(&p, "base", false, base).0, 200);
    let top =
        "services:\n  web:\n    override: merge\n    after: [db]\n    environment: {B: '3'}\n";
    assert_eq!(add(&p, "top", false, top).0, 200);
    let yaml = plan(&p);
    let parsed = pebble::plan::Plan::from_yaml(&yaml).unwrap();
    let web = &parsed.services["web"];
    assert_eq!(web.after, ["db", "db"], "lists append, duplicates kept");
    assert_eq!(web.environment["A"], "1");
    assert_eq!(web.environment["B"], "3");
    assert_eq!(web.command, "/bin/web", "unset scalars do not override");
    // combine into the bottom layer: the top layer still wins on B.
    let again = "services:\n  web:\n    override: merge\n    environment: {B: '9', C: '4'}\n";
    assert_eq!(add(&p, "base", true, again).0, 200);
    let parsed = pebble::plan::Plan::from_yaml(&plan(&p)).unwrap();
    assert_eq!(parsed.services["web"].environment["B"], "3");
    assert_eq!(parsed.services["web"].environment["C"], "4");
    // replace drops what was there.
    let replace = "services:\n  web:\n    override: replace\n    command: /bin/other\n";
    assert_eq!(add(&p, "third", false, replace).0, 200);
    let parsed = pebble::plan::Plan::from_yaml(&plan(&p)).unwrap();
    assert!(parsed.services["web"].environment.is_empty());
    assert_eq!(parsed.services["web"].command, "/bin/other");
}

#[test]
fn bad_layers_get_pebbles_messages_and_leave_the_plan_alone() {
    let p = start("badlayer");
    assert_eq!(
        add(
            &p,
            "base",
            false,
            "services:\n  web:\n    override: replace\n    command: /bin/web\n"
        )
        .0,
        200
    );
    let before = plan(&p);
    let cases = [
        (
            "base",
            false,
            "services: {}\n",
            "layer \"base\" already exists",
        ),
        (
            "x",
            false,
            "services:\n  web:\n    command: /bin/x\n",
            "layer \"x\" must define \"override\" for service \"web\"",
        ),
        (
            "x",
            false,
            "services:\n  new:\n    override: replace\n",
            "plan must define \"command\" for service \"new\"",
        ),
        (
            "pebble-x",
            false,
            "services: {}\n",
            "cannot parse layer YAML: cannot use reserved label prefix \"pebble-\"",
        ),
        (
            "x",
            false,
            "services:\n  pebble:\n    override: replace\n    command: x\n",
            "cannot parse layer YAML: cannot use reserved service name \"pebble\"",
        ),
    ];
    for (label, combine, layer, message) in cases {
        let (status, body) = add(&p, label, combine, layer);
        assert_eq!(status, 400, "{label}: {body}");
        assert_eq!(body["result"]["message"], message);
    }
    // Unknown keys are refused by the strict decoder.
    let (status, body) = add(
        &p,
        "x",
        false,
        "services:\n  web:\n    override: merge\n    bogus: 1\n",
    );
    assert_eq!(status, 400);
    assert!(
        body["result"]["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot parse layer YAML: "),
        "{body}"
    );
    // A before/after loop is a plan error.
    let (status, body) = add(
        &p,
        "x",
        false,
        "services:\n  a:\n    override: replace\n    command: a\n    after: [b]\n  b:\n    override: replace\n    command: b\n    after: [a]\n",
    );
    assert_eq!(status, 400, "{body}");
    for (body, message) in [
        (
            json!({"action": "remove", "label": "x", "format": "yaml", "layer": ""}),
            "invalid action \"remove\"",
        ),
        (
            json!({"action": "add", "format": "yaml", "layer": ""}),
            "label must be set",
        ),
        (
            json!({"action": "add", "label": "x", "format": "json", "layer": ""}),
            "invalid format \"json\"",
        ),
    ] {
        let (status, resp) = p.post("/v1/layers", &body);
        assert_eq!(
            (status, resp["result"]["message"].as_str()),
            (400, Some(message))
        );
    }
    assert_eq!(plan(&p), before);
}

#[test]
fn check_threshold_default_shows_in_the_plan_and_other_defaults_do_not() {
    let p = start("checkplan");
    let layer =
        "checks:\n  up:\n    override: replace\n    startup: disabled\n    tcp:\n      port: 1\n";
    assert_eq!(add(&p, "base", false, layer).0, 200);
    let yaml = plan(&p);
    assert!(yaml.contains("threshold: 3"), "{yaml}");
    assert!(!yaml.contains("period"), "{yaml}");
}

#[test]
fn the_layers_dir_is_loaded_in_order_at_start() {
    let dir = temp_dir("layersdir");
    let layers = dir.join("layers");
    std::fs::create_dir_all(&layers).unwrap();
    std::fs::write(
        layers.join("002-top.yaml"),
        "services:\n  web:\n    override: merge\n    command: /bin/top\n",
    )
    .unwrap();
    std::fs::write(
        layers.join("001-base.yaml"),
        "services:\n  web:\n    override: replace\n    command: /bin/base\n    startup: enabled\n",
    )
    .unwrap();
    let p = start_with("layersdir", |c| c.layers_dir(&layers));
    let parsed = pebble::plan::Plan::from_yaml(&plan(&p)).unwrap();
    assert_eq!(parsed.services["web"].command, "/bin/top");
    // The daemon did not start anything (Juju's --hold).
    assert_eq!(p.current("web"), "inactive");
    // A bad file name stops the server from starting.
    std::fs::write(layers.join("bad.yaml"), "").unwrap();
    let bad = pebble_server::Server::new(
        pebble_server::ServerConfig::new(dir.join("other.socket"), dir.join("r"))
            .layers_dir(&layers),
    );
    assert!(matches!(bad, Err(pebble_server::Error::Layers(_))));
    let _ = std::fs::remove_dir_all(&dir);
}
