use super::order::{lanes, start_order, stop_order};
use super::*;

fn layer(yaml: &str) -> Layer {
    Layer::from_yaml(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

fn combined(layers: &[&str]) -> Result<Plan, FormatError> {
    let parsed: Vec<(String, Layer)> = layers
        .iter()
        .enumerate()
        .map(|(i, y)| (format!("layer{i}"), layer(y)))
        .collect();
    let combined = combine_layers(parsed.iter().map(|(l, y)| (l.as_str(), y)))?;
    let plan = Plan::from(combined);
    plan.validate()?;
    Ok(plan)
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

const FULL: &str = r#"
summary: Full layer
description: Every field Pebble knows
services:
    web:
        summary: The web server
        description: Serves
        startup: enabled
        override: replace
        command: /bin/web --port 80 [ --debug ]
        after: [db]
        before: [cache]
        requires: [db]
        environment: {PORT: "80", MODE: prod}
        user-id: 1000
        user: web
        group-id: 1000
        group: web
        working-dir: /srv
        on-success: ignore
        on-failure: restart
        on-check-failure: {up: restart}
        backoff-delay: 1s
        backoff-factor: 1.5
        backoff-limit: 1m0s
        kill-delay: 10s
        workload: main
    db:
        override: merge
        command: /bin/db
    cache:
        override: replace
        command: /bin/cache
checks:
    up:
        override: replace
        level: alive
        startup: disabled
        period: 30s
        timeout: 5s
        threshold: 5
        http:
            url: http://localhost:80/health
            headers: {X-Probe: "1"}
    port:
        override: merge
        tcp: {port: 5432, host: db.local}
    script:
        override: replace
        exec:
            command: /bin/check --quick
            service-context: web
            environment: {A: b}
            user-id: 0
            user: root
            group-id: 0
            group: root
            working-dir: /tmp
log-targets:
    loki:
        override: merge
        type: loki
        location: http://loki:3100/loki/api/v1/push
        services: [all, -cache]
        labels: {owner: charm}
"#;

#[test]
fn a_full_layer_round_trips_through_yaml() {
    let parsed = layer(FULL);
    let web = &parsed.services["web"];
    assert_eq!(web.startup, Some(Startup::Enabled));
    assert_eq!(web.r#override, Some(Override::Replace));
    assert_eq!(web.user_id, Some(1000));
    assert_eq!(web.environment["PORT"], "80");
    assert_eq!(web.on_success, Some(ServiceAction::Ignore));
    assert_eq!(web.on_check_failure["up"], ServiceAction::Restart);
    assert_eq!(web.backoff_factor, Some(1.5));
    assert_eq!(web.backoff_limit, Some(GoDuration::from_secs(60)));
    assert_eq!(web.workload, "main");
    let up = &parsed.checks["up"];
    assert_eq!(up.level, Some(CheckLevel::Alive));
    assert_eq!(up.threshold, 5);
    assert_eq!(up.http.as_ref().unwrap().headers["X-Probe"], "1");
    assert_eq!(parsed.checks["port"].tcp.as_ref().unwrap().port, 5432);
    assert_eq!(
        parsed.checks["script"]
            .exec
            .as_ref()
            .unwrap()
            .service_context,
        "web"
    );
    assert_eq!(
        parsed.log_targets["loki"].target_type,
        Some(LogTargetType::Loki)
    );
    let yaml = parsed.to_yaml().unwrap();
    assert_eq!(layer(&yaml), parsed, "{yaml}");
    // Pebble's key order and 4-space indentation.
    assert!(
        yaml.starts_with("summary: Full layer\ndescription: "),
        "{yaml}"
    );
    let web_at = yaml.find("    web:\n        summary:").expect(&yaml);
    assert!(
        yaml[web_at..].find("startup: enabled").unwrap()
            < yaml[web_at..].find("override:").unwrap()
    );
    assert!(yaml.find("services:").unwrap() < yaml.find("checks:").unwrap());
    assert!(yaml.find("checks:").unwrap() < yaml.find("log-targets:").unwrap());
}

#[test]
fn unset_fields_are_not_written() {
    let yaml = Layer {
        services: [("web".to_string(), Service::replace("/bin/web"))].into(),
        ..Layer::default()
    }
    .to_yaml()
    .unwrap();
    assert_eq!(
        yaml,
        "services:\n    web:\n        override: replace\n        command: /bin/web\n"
    );
}

#[test]
fn strings_that_look_like_other_yaml_survive() {
    let mut service = Service::replace("sh -c 'echo \"a: b\" # not a comment'");
    service.environment = [
        ("EMPTY".to_string(), String::new()),
        ("NUM".to_string(), "007".to_string()),
        ("BOOL".to_string(), "yes".to_string()),
        ("MULTI".to_string(), "line1\nline2\n".to_string()),
        ("LONG".to_string(), "word ".repeat(40)),
        ("NULL".to_string(), "~".to_string()),
    ]
    .into();
    let original = Layer {
        services: [("web".to_string(), service)].into(),
        ..Layer::default()
    };
    let yaml = original.to_yaml().unwrap();
    assert_eq!(layer(&yaml), original, "{yaml}");
    // The plan reader (through JSON values) gets the same from quoted output.
    let plan = Plan {
        services: original.services.clone(),
        ..Plan::default()
    };
    assert_eq!(Plan::from_yaml(&plan.to_yaml().unwrap()).unwrap(), plan);
}

#[test]
fn go_style_plan_output_reads_exactly() {
    // yaml.v3 quotes strings that would read as other types; numbers stay numbers.
    let plan = Plan::from_yaml(
        "services:\n    web:\n        override: replace\n        command: /bin/web\n        user-id: 1000\n        backoff-factor: 1.5\n        environment:\n            PORT: \"80\"\n            VERSION: \"1.10\"\n            FLAG: \"yes\"\n            NOTHING: \"null\"\n",
    )
    .unwrap();
    let web = &plan.services["web"];
    assert_eq!(web.user_id, Some(1000));
    assert_eq!(web.backoff_factor, Some(1.5));
    let env: Vec<&str> = web.environment.values().map(String::as_str).collect();
    assert_eq!(env, ["yes", "null", "80", "1.10"]);
    assert!(Plan::from_yaml("services:\n    web:\n        bogus: 1\n").is_err());
    assert!(Plan::from_yaml("services: [").is_err());
}

#[test]
fn pebble_plan_output_parses() {
    let plan = Plan::from_yaml(
        "services:\n    web:\n        override: replace\n        command: /bin/web\nchecks:\n    up:\n        override: replace\n        threshold: 3\n        tcp:\n            port: 80\n",
    )
    .unwrap();
    assert_eq!(plan.services["web"].command, "/bin/web");
    assert_eq!(plan.checks["up"].threshold, 3);
    assert_eq!(Plan::from_yaml("{}\n").unwrap(), Plan::default());
    assert_eq!(Plan::from_yaml("").unwrap(), Plan::default());
    assert!(Plan::from_yaml("summary: x\n").is_err());
}

#[test]
fn unknown_keys_in_builtin_sections_are_errors() {
    for yaml in [
        "services:\n    web:\n        override: replace\n        comand: /bin/web\n",
        "checks:\n    up:\n        override: replace\n        http: {url: x, method: GET}\n",
        "checks:\n    up:\n        override: replace\n        periods: 1s\n",
        "log-targets:\n    l:\n        override: merge\n        kind: loki\n",
    ] {
        let err = Layer::from_yaml(yaml).unwrap_err();
        assert!(err.message().contains("unknown field"), "{yaml}: {err}");
    }
}

#[test]
fn bad_values_are_errors() {
    for yaml in [
        "services:\n    web:\n        backoff-delay: 10\n",
        "services:\n    web:\n        backoff-delay: soon\n",
        "services:\n    web:\n        after: web\n",
        "services: [web]\n",
        "services:\n    web:\n        user-id: root\n",
        "checks:\n    up:\n        threshold: many\n",
        "summary: x\nsummary: y\n",
        "- a\n",
    ] {
        assert!(Layer::from_yaml(yaml).is_err(), "{yaml}");
    }
    let err = Layer::from_yaml("services:\n    web:\n        kill-delay: 10\n").unwrap_err();
    assert!(err.message().contains("missing unit"), "{err}");
}

#[test]
fn nulls_and_empty_strings_mean_unset_as_in_go() {
    let l = layer(
        "summary:\nservices:\n    web:\n        override: \"\"\n        command:\n        after:\n        environment:\n",
    );
    let web = &l.services["web"];
    assert_eq!(web.r#override, None);
    assert_eq!(web.command, "");
    assert!(web.after.is_empty() && web.environment.is_empty());
    assert_eq!(layer("services:\n"), Layer::default());
    assert_eq!(layer("# nothing\n"), Layer::default());
}

#[test]
fn unknown_enum_values_are_kept_for_validation() {
    let l = layer(
        "services:\n    web:\n        override: sideways\n        startup: sometimes\n        command: x\n",
    );
    let web = &l.services["web"];
    assert_eq!(web.r#override, Some(Override::Other("sideways".into())));
    assert_eq!(web.startup, Some(Startup::Other("sometimes".into())));
    assert_eq!(layer(&l.to_yaml().unwrap()), l);
}

#[test]
fn extension_sections_are_kept_and_rejected_unless_registered() {
    let yaml = "services:\n    web:\n        override: replace\n        command: x\nworkloads:\n    main:\n        override: replace\n        user: web\n";
    let l = layer(yaml);
    assert_eq!(l.sections["workloads"]["main"]["user"], "web");
    assert_eq!(layer(&l.to_yaml().unwrap()), l);
    assert!(Layer::parse("base", yaml, &["workloads"]).is_ok());
    assert_eq!(
        Layer::parse("base", yaml, &[]).unwrap_err().message(),
        r#"cannot parse layer "base": unknown section "workloads""#
    );
}

/// Spec §3.2: lists append (duplicates kept), maps merge per key, scalars override only when set.
#[test]
fn merge_rules() {
    struct Case {
        name: &'static str,
        layers: &'static [&'static str],
        check: fn(&Plan),
    }
    let cases = [
        Case {
            name: "scalars override only when set",
            layers: &[
                "services: {web: {override: replace, command: /bin/a, user: alice, summary: first, startup: enabled, kill-delay: 3s}}",
                "services: {web: {override: merge, summary: second}}",
            ],
            check: |p| {
                let web = &p.services["web"];
                assert_eq!(web.command, "/bin/a");
                assert_eq!(web.user, "alice");
                assert_eq!(web.summary, "second");
                assert_eq!(web.startup, Some(Startup::Enabled));
                assert_eq!(web.kill_delay, Some(GoDuration::from_secs(3)));
            },
        },
        Case {
            name: "set scalars replace",
            layers: &[
                "services: {web: {override: replace, command: /bin/a, startup: enabled, user-id: 1}}",
                "services: {web: {override: merge, command: /bin/b, startup: disabled, user-id: 2, backoff-factor: 3.0}}",
            ],
            check: |p| {
                let web = &p.services["web"];
                assert_eq!(web.command, "/bin/b");
                assert_eq!(web.startup, Some(Startup::Disabled));
                assert_eq!(web.user_id, Some(2));
                assert_eq!(web.backoff_factor, Some(3.0));
            },
        },
        Case {
            name: "lists append, duplicates kept",
            layers: &[
                "services: {a: {override: replace, command: a}, b: {override: replace, command: b}, web: {override: replace, command: w, after: [a], requires: [a]}}",
                "services: {web: {override: merge, after: [a, b], requires: [b]}}",
            ],
            check: |p| {
                assert_eq!(p.services["web"].after, names(&["a", "a", "b"]));
                assert_eq!(p.services["web"].requires, names(&["a", "b"]));
            },
        },
        Case {
            name: "maps merge per key",
            layers: &[
                "services: {web: {override: replace, command: w, environment: {A: '1', B: '2'}, on-check-failure: {up: restart}}}",
                "services: {web: {override: merge, environment: {B: '3', C: '4'}, on-check-failure: {down: ignore}}}",
            ],
            check: |p| {
                let env = &p.services["web"].environment;
                assert_eq!(
                    (env["A"].as_str(), env["B"].as_str(), env["C"].as_str()),
                    ("1", "3", "4")
                );
                assert_eq!(p.services["web"].on_check_failure.len(), 2);
            },
        },
        Case {
            name: "replace drops everything below",
            layers: &[
                "services: {web: {override: replace, command: w, environment: {A: '1'}, after: [x]}}",
                "services: {web: {override: replace, command: v}}",
            ],
            check: |p| {
                assert_eq!(p.services["web"], Service::replace("v"));
            },
        },
        Case {
            name: "merge with nothing below inserts",
            layers: &[
                "summary: one",
                "services: {web: {override: merge, command: w, user: u}}",
            ],
            check: |p| {
                assert_eq!(p.services["web"].user, "u");
                assert_eq!(p.services["web"].r#override, Some(Override::Merge));
            },
        },
        Case {
            name: "check sub-objects merge into the same type",
            layers: &[
                "checks: {up: {override: replace, http: {url: 'http://a', headers: {A: '1'}}}}",
                "checks: {up: {override: merge, level: ready, http: {headers: {B: '2'}}}}",
            ],
            check: |p| {
                let up = &p.checks["up"];
                let http = up.http.as_ref().unwrap();
                assert_eq!(http.url, "http://a");
                assert_eq!(http.headers.len(), 2);
                assert_eq!(up.level, Some(CheckLevel::Ready));
                assert_eq!(up.threshold, 3, "default threshold is written");
                assert_eq!(up.period, None, "default period is not");
            },
        },
        Case {
            name: "log target services append, labels merge, type and location override",
            layers: &[
                "services: {a: {override: replace, command: a}, b: {override: replace, command: b}}\nlog-targets: {t: {override: replace, type: loki, location: 'http://one', services: [a], labels: {x: '1'}}}",
                "log-targets: {t: {override: merge, location: 'http://two', services: [-a, b], labels: {y: '2'}}}",
            ],
            check: |p| {
                let t = &p.log_targets["t"];
                assert_eq!(t.location, "http://two");
                assert_eq!(t.services, names(&["a", "-a", "b"]));
                assert_eq!(t.labels.len(), 2);
                assert!(!p.services["a"].logs_to("a", t));
                assert!(p.services["b"].logs_to("b", t));
            },
        },
    ];
    for case in cases {
        let plan = combined(case.layers).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        (case.check)(&plan);
    }
}

#[test]
fn summary_and_description_are_the_last_layers() {
    let parsed = [layer("summary: a\ndescription: b"), layer("summary: c")];
    let c = combine_layers([("x", &parsed[0]), ("y", &parsed[1])]).unwrap();
    assert_eq!((c.summary.as_str(), c.description.as_str()), ("c", ""));
}

#[test]
fn plan_output_shows_threshold_but_not_other_defaults() {
    let plan = combined(&["checks: {up: {override: replace, tcp: {port: 80}}}\nservices: {web: {override: replace, command: w}}"]).unwrap();
    let yaml = plan.to_yaml().unwrap();
    assert!(yaml.contains("threshold: 3"), "{yaml}");
    for absent in ["period", "timeout", "backoff", "kill-delay", "summary"] {
        assert!(!yaml.contains(absent), "{absent} in {yaml}");
    }
    let up = &plan.checks["up"];
    assert_eq!(up.period_or_default(), GoDuration::from_secs(10));
    assert_eq!(up.timeout_or_default(), GoDuration::from_secs(3));
    let web = &plan.services["web"];
    assert_eq!(web.backoff_delay_or_default(), GoDuration::from_millis(500));
    assert_eq!(web.backoff_factor_or_default(), 2.0);
    assert_eq!(web.backoff_limit_or_default(), GoDuration::from_secs(30));
    let short = layer("checks: {up: {override: replace, period: 1s, tcp: {port: 1}}}");
    assert_eq!(
        short.checks["up"].timeout_or_default(),
        GoDuration::from_secs(1)
    );
}

#[test]
fn combine_errors_have_pebble_messages() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["services: {web: {command: w}}"],
            r#"layer "layer0" must define "override" for service "web""#,
        ),
        (
            &["checks: {up: {override: sideways, tcp: {port: 1}}}"],
            r#"layer "layer0" has invalid "override" value for check "up""#,
        ),
        (
            &["summary: ok", "log-targets: {t: {type: loki}}"],
            r#"layer "layer1" must define "override" for log target "t""#,
        ),
        (
            &["services: {web: {override: merge, summary: no command}}"],
            r#"plan must define "command" for service "web""#,
        ),
        (
            &["checks: {up: {override: replace}}"],
            r#"plan must specify one of "http", "tcp", or "exec" for check "up""#,
        ),
        (
            &[
                "checks: {up: {override: replace, http: {url: 'http://a'}}}",
                "checks: {up: {override: merge, tcp: {port: 1}}}",
            ],
            r#"plan must specify one of "http", "tcp", or "exec" for check "up""#,
        ),
        (
            &["checks: {up: {override: replace, http: {}}}"],
            r#"plan must set "url" for http check "up""#,
        ),
        (
            &["checks: {up: {override: replace, tcp: {host: h}}}"],
            r#"plan must set "port" for tcp check "up""#,
        ),
        (
            &["checks: {up: {override: replace, exec: {working-dir: /}}}"],
            r#"plan must set "command" for exec check "up""#,
        ),
        (
            &["checks: {up: {override: replace, exec: {command: x, service-context: ghost}}}"],
            r#"plan check "up" service context specifies non-existent service "ghost""#,
        ),
        (
            &["log-targets: {t: {override: replace, location: 'http://l'}}"],
            r#"plan must define "type" ("loki", "opentelemetry" or "syslog") for log target "t""#,
        ),
        (
            &["log-targets: {t: {override: replace, type: syslog}}"],
            r#"plan must define "location" for log target "t""#,
        ),
        (
            &["log-targets: {t: {override: replace, type: loki, location: x, services: [ghost]}}"],
            r#"log target "t" specifies unknown service "ghost""#,
        ),
        (
            &[
                "services: {a: {override: replace, command: a, after: [b]}, b: {override: replace, command: b, after: [a]}}",
            ],
            "services in before/after loop: a, b",
        ),
        (
            &[
                "services: {a: {override: replace, command: a, before: [b]}, b: {override: replace, command: b, before: [c]}, c: {override: replace, command: c, before: [a]}}",
            ],
            "services in before/after loop: a, b, c",
        ),
    ];
    for (layers, message) in cases {
        assert_eq!(
            combined(layers).unwrap_err().message(),
            *message,
            "{layers:?}"
        );
    }
}

#[test]
fn layer_validation_has_pebble_messages() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "pebble-x",
            "summary: x",
            r#"cannot use reserved label prefix "pebble-""#,
        ),
        (
            "l",
            "services: {pebble: {override: replace, command: x}}",
            r#"cannot use reserved service name "pebble""#,
        ),
        (
            "l",
            "services: {-web: {override: replace, command: x}}",
            r#"cannot use service name "-web": starting with "-" not allowed"#,
        ),
        (
            "l",
            "services: {'': {override: replace, command: x}}",
            "cannot use empty string as service name",
        ),
        (
            "l",
            "services: {web: {override: replace, command: \"x 'y\"}}",
            r#"plan service "web" command invalid: cannot parse service "web" command: EOF found when expecting closing quote"#,
        ),
        (
            "l",
            "services: {web: {override: replace, command: '[ x ]'}}",
            r#"plan service "web" command invalid: cannot parse service "web" command: cannot start command with [ ... ] group"#,
        ),
        (
            "l",
            "services: {web: {override: replace, command: x, on-success: success-shutdown}}",
            r#"plan service "web" on-success action "success-shutdown" invalid"#,
        ),
        (
            "l",
            "services: {web: {override: replace, command: x, on-failure: failure-shutdown}}",
            r#"plan service "web" on-failure action "failure-shutdown" invalid"#,
        ),
        (
            "l",
            "services: {web: {override: replace, command: x, on-check-failure: {up: reboot}}}",
            r#"plan service "web" on-check-failure action "reboot" invalid"#,
        ),
        (
            "l",
            "services: {web: {override: replace, command: x, backoff-factor: 0.5}}",
            r#"plan service "web" backoff-factor must be 1.0 or greater, not 0.5"#,
        ),
        (
            "l",
            "checks: {up: {override: replace, level: deep, tcp: {port: 1}}}",
            r#"plan check "up" level must be "alive" or "ready""#,
        ),
        (
            "l",
            "checks: {up: {override: replace, startup: later, tcp: {port: 1}}}",
            r#"plan check "up" startup must be "enabled" or "disabled""#,
        ),
        (
            "l",
            "checks: {up: {override: replace, period: 0s, tcp: {port: 1}}}",
            r#"plan check "up" period must not be zero"#,
        ),
        (
            "l",
            "checks: {up: {override: replace, timeout: '0', tcp: {port: 1}}}",
            r#"plan check "up" timeout must not be zero"#,
        ),
        (
            "l",
            "checks: {up: {override: replace, exec: {command: \"a 'b\"}}}",
            r#"plan check "up" command invalid: EOF found when expecting closing quote"#,
        ),
        (
            "l",
            "checks: {up: {override: replace, exec: {command: a, group: g}}}",
            r#"plan check "up" has invalid user/group: must specify user, not just group"#,
        ),
        (
            "l",
            "log-targets: {t: {override: replace, labels: {pebble_x: y}}}",
            r#"log target "t": label "pebble_x" uses reserved prefix "pebble_""#,
        ),
        (
            "l",
            "log-targets: {t: {override: replace, type: fluentd}}",
            r#"log target "t" has unsupported type "fluentd", must be "loki", "opentelemetry" or "syslog""#,
        ),
        ("l", "summary: [", r#"cannot parse layer "l": "#),
    ];
    for (label, yaml, message) in cases {
        let err = Layer::parse(label, yaml, &[]).unwrap_err();
        assert!(
            err.message().starts_with(message),
            "{yaml}: got {err}, want {message}"
        );
    }
    // Deprecated but allowed names, and labels that only contain "pebble".
    assert!(
        Layer::parse(
            "my-pebble",
            "services: {all: {override: replace, command: x}}",
            &[]
        )
        .is_ok()
    );
    // `override` is only checked when layers combine.
    assert!(Layer::parse("l", "services: {web: {command: x}}", &[]).is_ok());
}

fn stack_layer(yaml: &str) -> Layer {
    layer(yaml)
}

/// Spec §3.3: AppendLayer and CombineLayer.
#[test]
fn layer_stack_append_and_combine() {
    let mut stack = LayerStack::new();
    stack
        .add(
            "base",
            stack_layer(
                "services: {web: {override: replace, command: /bin/a, environment: {A: '1'}}}",
            ),
            false,
            false,
        )
        .unwrap();
    stack
        .add(
            "top",
            stack_layer("services: {web: {override: merge, command: /bin/top}}"),
            false,
            false,
        )
        .unwrap();
    assert_eq!(stack.plan().services["web"].command, "/bin/top");

    // combine=false on an existing label: 400, nothing changes.
    let before = stack.clone();
    let err = stack
        .add("base", stack_layer("summary: again"), false, false)
        .unwrap_err();
    assert_eq!(err.to_string(), r#"layer "base" already exists"#);
    assert_eq!(err.status_code(), 400);
    assert_eq!(stack, before);

    // combine=true merges into "base" in place: "top" still wins for the command.
    stack
        .add(
            "base",
            stack_layer(
                "services: {web: {override: merge, command: /bin/b, environment: {B: '2'}}}",
            ),
            true,
            false,
        )
        .unwrap();
    let labels: Vec<&str> = stack.layers().iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["base", "top"]);
    assert_eq!(stack.layers()[0].layer.services["web"].command, "/bin/b");
    let web = &stack.plan().services["web"];
    assert_eq!(web.command, "/bin/top");
    assert_eq!(web.environment.len(), 2);

    // combine=true with a new label appends.
    stack
        .add(
            "extra",
            stack_layer("services: {job: {override: replace, command: /bin/job}}"),
            true,
            false,
        )
        .unwrap();
    assert_eq!(stack.layers().len(), 3);
    assert_eq!(
        stack.layers().iter().map(|l| l.order).collect::<Vec<_>>(),
        [1000, 2000, 3000]
    );

    // A layer that makes the plan invalid is refused and leaves the stack as it was.
    let before = stack.clone();
    let err = stack
        .add(
            "bad",
            stack_layer("services: {web: {override: replace}}"),
            false,
            false,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"plan must define "command" for service "web""#
    );
    assert_eq!(stack, before);
    let err = stack
        .add(
            "base",
            stack_layer("services: {web: {command: x}}"),
            true,
            false,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"layer "base" must define "override" for service "web""#
    );
    assert_eq!(stack, before);
}

#[test]
fn layer_stack_sub_directory_labels() {
    let mut stack = LayerStack::new();
    let empty = || stack_layer("summary: s");
    stack.add("foo", empty(), false, false).unwrap();
    stack.add("bar/aaa", empty(), false, false).unwrap();
    stack.add("bar/bbb", empty(), false, false).unwrap();
    stack.add("baz", empty(), false, false).unwrap();
    let orders: Vec<(&str, u32)> = stack
        .layers()
        .iter()
        .map(|l| (l.label.as_str(), l.order))
        .collect();
    assert_eq!(
        orders,
        [
            ("foo", 1000),
            ("bar/aaa", 2001),
            ("bar/bbb", 2002),
            ("baz", 3000)
        ]
    );
    // Inserting into "bar" below "baz" needs inner.
    let err = stack.add("bar/ccc", empty(), false, false).unwrap_err();
    assert_eq!(err, LayerError::InnerRequired);
    assert_eq!(err.status_code(), 500);
    stack.add("bar/ccc", empty(), false, true).unwrap();
    let labels: Vec<&str> = stack.layers().iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["foo", "bar/aaa", "bar/bbb", "bar/ccc", "baz"]);
    assert_eq!(stack.layers()[3].order, 2003);
}

#[test]
fn start_and_stop_order_and_lanes() {
    let plan = combined(&["services:
    db: {override: replace, command: db}
    web: {override: replace, command: web, requires: [db], after: [db]}
    worker: {override: replace, command: worker, after: [web]}
    cron: {override: replace, command: cron}
"])
    .unwrap();
    let s = &plan.services;
    assert_eq!(
        start_order(s, &names(&["web"])).unwrap(),
        names(&["db", "web"])
    );
    assert_eq!(
        start_order(s, &names(&["worker", "web", "cron"])).unwrap(),
        names(&["cron", "db", "web", "worker"])
    );
    // Stopping db stops web (which requires it) first.
    assert_eq!(
        stop_order(s, &names(&["db"])).unwrap(),
        names(&["web", "db"])
    );
    assert_eq!(
        start_order(s, &names(&["ghost"])).unwrap_err().message(),
        r#"service "ghost" does not exist"#
    );
    let ordered = start_order(s, &names(&["web", "cron", "worker"])).unwrap();
    assert_eq!(
        lanes(s, &ordered).unwrap(),
        vec![names(&["cron"]), names(&["db", "web"]), names(&["worker"])]
    );
}
