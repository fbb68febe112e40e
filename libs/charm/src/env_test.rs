//! Tests of `env.rs`.

use super::*;
use std::collections::HashMap;

fn ctx(pairs: &[(&str, &str)]) -> Result<JujuEnv, EnvError> {
    let mut env: HashMap<String, String> = [
        ("JUJU_UNIT_NAME", "app/0"),
        ("JUJU_MODEL_NAME", "m"),
        ("JUJU_VERSION", "3.6.14"),
        ("JUJU_CHARM_DIR", "/charm"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in pairs {
        env.insert(k.to_string(), v.to_string());
    }
    JujuEnv::from_vars(|k| env.get(k).cloned())
}

fn event(pairs: &[(&str, &str)]) -> Event {
    ctx(pairs).unwrap().event
}

fn hook(name: &str) -> Event {
    event(&[("JUJU_DISPATCH_PATH", &format!("hooks/{name}"))])
}

#[test]
fn lifecycle_hooks() {
    for (name, expected) in [
        ("install", Event::Install),
        ("start", Event::Start),
        ("stop", Event::Stop),
        ("remove", Event::Remove),
        ("config-changed", Event::ConfigChanged),
        ("update-status", Event::UpdateStatus),
        ("upgrade-charm", Event::UpgradeCharm),
        ("leader-elected", Event::LeaderElected),
        ("leader-settings-changed", Event::LeaderSettingsChanged),
        ("pre-series-upgrade", Event::PreSeriesUpgrade),
        ("post-series-upgrade", Event::PostSeriesUpgrade),
        ("collect-metrics", Event::CollectMetrics),
        ("meter-status-changed", Event::MeterStatusChanged),
    ] {
        assert_eq!(hook(name), expected, "{name}");
        assert_eq!(expected.hook_name(), name);
    }
}

#[test]
fn context_fields() {
    let c = ctx(&[("JUJU_DISPATCH_PATH", "hooks/install"), ("JUJU_DEBUG", "1")]).unwrap();
    assert_eq!(c.unit, "app/0");
    assert_eq!(c.app, "app");
    assert_eq!(c.model_name, "m");
    assert_eq!(c.charm_dir, PathBuf::from("/charm"));
    assert!(c.juju_version.at_least(3, 6, 0));
    assert!(!c.juju_version.at_least(3, 6, 15));
    assert!(c.debug);
}

#[test]
fn relation_hooks() {
    let base = [
        ("JUJU_RELATION", "db"),
        ("JUJU_RELATION_ID", "db:7"),
        ("JUJU_REMOTE_APP", "pg"),
        ("JUJU_REMOTE_UNIT", "pg/1"),
    ];
    let with = |path: &str, extra: &[(&str, &str)]| {
        let mut v: Vec<(&str, &str)> = base.to_vec();
        v.push(("JUJU_DISPATCH_PATH", path));
        v.extend_from_slice(extra);
        event(&v)
    };
    let Event::RelationChanged(r) = with("hooks/db-relation-changed", &[]) else {
        panic!("not changed")
    };
    assert_eq!(r.relation, RelationId::new("db", 7));
    assert_eq!(r.remote_app.as_deref(), Some("pg"));
    assert_eq!(r.remote_unit.as_deref(), Some("pg/1"));
    let Event::RelationDeparted(r) = with(
        "hooks/db-relation-departed",
        &[("JUJU_DEPARTING_UNIT", "pg/1")],
    ) else {
        panic!("not departed")
    };
    assert_eq!(r.departing_unit.as_deref(), Some("pg/1"));
    assert!(matches!(
        with("hooks/db-relation-created", &[]),
        Event::RelationCreated(_)
    ));
    assert!(matches!(
        with("hooks/db-relation-joined", &[]),
        Event::RelationJoined(_)
    ));
    // App-level change: remote unit present but empty.
    let Event::RelationChanged(r) = with("hooks/db-relation-changed", &[("JUJU_REMOTE_UNIT", "")])
    else {
        panic!()
    };
    assert_eq!(r.remote_unit, None);
    // Broken may lack the remote app (LP#1960934).
    let Event::RelationBroken(r) = event(&[
        ("JUJU_DISPATCH_PATH", "hooks/db-relation-broken"),
        ("JUJU_RELATION", "db"),
        ("JUJU_RELATION_ID", "7"),
        ("JUJU_REMOTE_UNIT", ""),
    ]) else {
        panic!()
    };
    assert_eq!(r.remote_app, None);
    assert_eq!(r.relation.id, 7);
}

#[test]
fn endpoints_with_dashes() {
    let e = event(&[
        (
            "JUJU_DISPATCH_PATH",
            "hooks/s3-credentials-relation-changed",
        ),
        ("JUJU_RELATION", "s3-credentials"),
        ("JUJU_RELATION_ID", "s3-credentials:12"),
        ("JUJU_REMOTE_APP", "s3"),
        ("JUJU_REMOTE_UNIT", "s3/0"),
    ]);
    assert_eq!(e.scope(), Some("s3-credentials"));
}

#[test]
fn relation_errors_name_the_variable() {
    let err = ctx(&[
        ("JUJU_DISPATCH_PATH", "hooks/db-relation-changed"),
        ("JUJU_REMOTE_APP", "pg"),
        ("JUJU_REMOTE_UNIT", "pg/0"),
    ])
    .unwrap_err();
    assert!(matches!(
        err,
        EnvError::Missing {
            name: "JUJU_RELATION_ID",
            ..
        }
    ));
    let err = ctx(&[
        ("JUJU_DISPATCH_PATH", "hooks/db-relation-changed"),
        ("JUJU_RELATION_ID", "db:x"),
        ("JUJU_REMOTE_APP", "pg"),
        ("JUJU_REMOTE_UNIT", "pg/0"),
    ])
    .unwrap_err();
    assert!(matches!(
        err,
        EnvError::Invalid {
            name: "JUJU_RELATION_ID",
            ..
        }
    ));
    assert!(err.to_string().contains("db:x"));
    let err = ctx(&[
        ("JUJU_DISPATCH_PATH", "hooks/db-relation-changed"),
        ("JUJU_RELATION_ID", "db:1"),
        ("JUJU_REMOTE_APP", "pg"),
    ])
    .unwrap_err();
    assert!(matches!(
        err,
        EnvError::Missing {
            name: "JUJU_REMOTE_UNIT",
            ..
        }
    ));
    let err = ctx(&[
        ("JUJU_DISPATCH_PATH", "hooks/db-relation-departed"),
        ("JUJU_RELATION_ID", "db:1"),
        ("JUJU_REMOTE_APP", "pg"),
        ("JUJU_REMOTE_UNIT", "pg/0"),
    ])
    .unwrap_err();
    assert!(matches!(
        err,
        EnvError::Missing {
            name: "JUJU_DEPARTING_UNIT",
            ..
        }
    ));
    let err = ctx(&[
        ("JUJU_DISPATCH_PATH", "hooks/db-relation-changed"),
        ("JUJU_RELATION", "cache"),
        ("JUJU_RELATION_ID", "db:1"),
        ("JUJU_REMOTE_APP", "pg"),
        ("JUJU_REMOTE_UNIT", "pg/0"),
    ])
    .unwrap_err();
    assert!(matches!(
        err,
        EnvError::Invalid {
            name: "JUJU_RELATION",
            ..
        }
    ));
}

#[test]
fn secret_hooks() {
    let Event::SecretChanged(s) = event(&[
        ("JUJU_DISPATCH_PATH", "hooks/secret-changed"),
        ("JUJU_SECRET_ID", "secret:d1k3m8fbo5jc738pq1ig"),
        ("JUJU_SECRET_LABEL", "mine"),
    ]) else {
        panic!()
    };
    assert_eq!(s.label.as_deref(), Some("mine"));
    assert_eq!(s.revision, None);
    let Event::SecretRemove(s) = event(&[
        ("JUJU_DISPATCH_PATH", "hooks/secret-remove"),
        ("JUJU_SECRET_ID", "secret:d1k3m8fbo5jc738pq1ig"),
        ("JUJU_SECRET_REVISION", "3"),
    ]) else {
        panic!()
    };
    assert_eq!(s.revision, Some(3));
    assert_eq!(s.label, None);
    assert!(matches!(
        event(&[
            ("JUJU_DISPATCH_PATH", "hooks/secret-expired"),
            ("JUJU_SECRET_ID", "secret:d1k3m8fbo5jc738pq1ig"),
            ("JUJU_SECRET_REVISION", "2"),
        ]),
        Event::SecretExpired(_)
    ));
    assert!(matches!(
        event(&[
            ("JUJU_DISPATCH_PATH", "hooks/secret-rotate"),
            ("JUJU_SECRET_ID", "secret:d1k3m8fbo5jc738pq1ig"),
        ]),
        Event::SecretRotate(_)
    ));
    let err = ctx(&[
        ("JUJU_DISPATCH_PATH", "hooks/secret-remove"),
        ("JUJU_SECRET_ID", "secret:d1k3m8fbo5jc738pq1ig"),
    ])
    .unwrap_err();
    assert!(matches!(
        err,
        EnvError::Missing {
            name: "JUJU_SECRET_REVISION",
            ..
        }
    ));
    let err = ctx(&[
        ("JUJU_DISPATCH_PATH", "hooks/secret-remove"),
        ("JUJU_SECRET_ID", "secret:d1k3m8fbo5jc738pq1ig"),
        ("JUJU_SECRET_REVISION", "-1"),
    ])
    .unwrap_err();
    assert!(matches!(
        err,
        EnvError::Invalid {
            name: "JUJU_SECRET_REVISION",
            ..
        }
    ));
    let err = ctx(&[("JUJU_DISPATCH_PATH", "hooks/secret-changed")]).unwrap_err();
    assert!(matches!(
        err,
        EnvError::Missing {
            name: "JUJU_SECRET_ID",
            ..
        }
    ));
    // Only ids Juju produces pass: nothing option-shaped reaches a hook tool from here.
    for bad in ["--output=/tmp/x", "secret:abc", "secret:"] {
        let err = ctx(&[
            ("JUJU_DISPATCH_PATH", "hooks/secret-changed"),
            ("JUJU_SECRET_ID", bad),
        ])
        .unwrap_err();
        assert!(
            matches!(
                err,
                EnvError::Invalid {
                    name: "JUJU_SECRET_ID",
                    ..
                }
            ),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn storage_hooks() {
    let Event::StorageAttached(s) = event(&[
        ("JUJU_DISPATCH_PATH", "hooks/data-storage-attached"),
        ("JUJU_STORAGE_ID", "data/2"),
        ("JUJU_STORAGE_LOCATION", "/srv/data"),
    ]) else {
        panic!()
    };
    assert_eq!((s.name.as_str(), s.index), ("data", 2));
    assert_eq!(s.location.as_deref(), Some("/srv/data"));
    assert!(matches!(
        event(&[
            ("JUJU_DISPATCH_PATH", "hooks/data-storage-detaching"),
            ("JUJU_STORAGE_ID", "data/0"),
        ]),
        Event::StorageDetaching(_)
    ));
    let err = ctx(&[
        ("JUJU_DISPATCH_PATH", "hooks/data-storage-attached"),
        ("JUJU_STORAGE_ID", "logs/0"),
    ])
    .unwrap_err();
    assert!(matches!(
        err,
        EnvError::Invalid {
            name: "JUJU_STORAGE_ID",
            ..
        }
    ));
}

#[test]
fn pebble_hooks() {
    let Event::PebbleReady(w) = event(&[
        ("JUJU_DISPATCH_PATH", "hooks/workload-pebble-ready"),
        ("JUJU_WORKLOAD_NAME", "workload"),
    ]) else {
        panic!()
    };
    assert_eq!(w.container, "workload");
    let Event::PebbleCustomNotice(w) = event(&[
        ("JUJU_DISPATCH_PATH", "hooks/workload-pebble-custom-notice"),
        ("JUJU_WORKLOAD_NAME", "workload"),
        ("JUJU_NOTICE_ID", "1"),
        ("JUJU_NOTICE_TYPE", "custom"),
        ("JUJU_NOTICE_KEY", "example.com/a"),
    ]) else {
        panic!()
    };
    assert_eq!(w.workload.container, "workload");
    assert_eq!(
        (
            w.notice.id.as_str(),
            w.notice.kind.as_str(),
            w.notice.key.as_str()
        ),
        ("1", "custom", "example.com/a")
    );
    let Event::PebbleCheckFailed(w) = event(&[
        ("JUJU_DISPATCH_PATH", "hooks/workload-pebble-check-failed"),
        ("JUJU_WORKLOAD_NAME", "workload"),
        ("JUJU_PEBBLE_CHECK_NAME", "http"),
    ]) else {
        panic!()
    };
    assert_eq!(w.check, "http");
    assert!(matches!(
        event(&[
            (
                "JUJU_DISPATCH_PATH",
                "hooks/workload-pebble-check-recovered"
            ),
            ("JUJU_WORKLOAD_NAME", "workload"),
            ("JUJU_PEBBLE_CHECK_NAME", "http"),
        ]),
        Event::PebbleCheckRecovered(_)
    ));
    let err = ctx(&[
        ("JUJU_DISPATCH_PATH", "hooks/workload-pebble-custom-notice"),
        ("JUJU_WORKLOAD_NAME", "workload"),
    ])
    .unwrap_err();
    assert!(matches!(
        err,
        EnvError::Missing {
            name: "JUJU_NOTICE_ID",
            ..
        }
    ));
    let err = ctx(&[("JUJU_DISPATCH_PATH", "hooks/workload-pebble-ready")]).unwrap_err();
    assert!(matches!(
        err,
        EnvError::Missing {
            name: "JUJU_WORKLOAD_NAME",
            ..
        }
    ));
}

#[test]
fn bad_workload_env_is_an_error_naming_the_variable() {
    let missing = |hook: &str, pairs: &[(&str, &str)]| {
        let path = format!("hooks/{hook}");
        let mut all = vec![("JUJU_DISPATCH_PATH", path.as_str())];
        all.extend_from_slice(pairs);
        match ctx(&all).unwrap_err() {
            EnvError::Missing { name, needed_for } => format!("{name} {needed_for}"),
            other => format!("{other}"),
        }
    };
    let w = ("JUJU_WORKLOAD_NAME", "web");
    assert_eq!(
        missing("web-pebble-check-failed", &[w]),
        "JUJU_PEBBLE_CHECK_NAME web-pebble-check-failed"
    );
    assert_eq!(
        missing("web-pebble-check-recovered", &[w]),
        "JUJU_PEBBLE_CHECK_NAME web-pebble-check-recovered"
    );
    assert_eq!(
        missing(
            "web-pebble-custom-notice",
            &[w, ("JUJU_NOTICE_ID", "1"), ("JUJU_NOTICE_TYPE", "custom")]
        ),
        "JUJU_NOTICE_KEY web-pebble-custom-notice"
    );
    let err = ctx(&[
        ("JUJU_DISPATCH_PATH", "hooks/web-pebble-ready"),
        ("JUJU_WORKLOAD_NAME", "db"),
    ])
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"environment variable JUJU_WORKLOAD_NAME="db" is invalid: hook web-pebble-ready is for container web"#
    );
}

#[test]
fn actions() {
    let Event::Action(a) = event(&[
        ("JUJU_DISPATCH_PATH", "actions/do-backup"),
        ("JUJU_ACTION_NAME", "do-backup"),
        ("JUJU_ACTION_UUID", "42"),
        ("JUJU_HOOK_NAME", ""),
    ]) else {
        panic!()
    };
    assert_eq!((a.name.as_str(), a.id.as_str()), ("do-backup", "42"));
    let err = ctx(&[("JUJU_DISPATCH_PATH", "actions/do-backup")]).unwrap_err();
    assert!(matches!(
        err,
        EnvError::Missing {
            name: "JUJU_ACTION_UUID",
            ..
        }
    ));
}

#[test]
fn unknown_hooks_do_not_fail() {
    assert_eq!(
        hook("leader-deposed"),
        Event::Unknown {
            hook: "leader-deposed".into()
        }
    );
    assert!(matches!(hook("secret-frobnicate"), Event::Unknown { .. }));
    assert!(matches!(
        hook("something-new-in-juju-5"),
        Event::Unknown { .. }
    ));
}

#[test]
fn bad_or_missing_base_variables() {
    let err = JujuEnv::from_vars(|_| None).unwrap_err();
    assert!(matches!(
        err,
        EnvError::Missing {
            name: "JUJU_DISPATCH_PATH",
            ..
        }
    ));
    let err = ctx(&[("JUJU_DISPATCH_PATH", "install")]).unwrap_err();
    assert!(matches!(
        err,
        EnvError::Invalid {
            name: "JUJU_DISPATCH_PATH",
            ..
        }
    ));
    let err = ctx(&[("JUJU_DISPATCH_PATH", "bin/install")]).unwrap_err();
    assert!(matches!(
        err,
        EnvError::Invalid {
            name: "JUJU_DISPATCH_PATH",
            ..
        }
    ));
    let err = ctx(&[("JUJU_DISPATCH_PATH", "hooks/")]).unwrap_err();
    assert!(matches!(
        err,
        EnvError::Invalid {
            name: "JUJU_DISPATCH_PATH",
            ..
        }
    ));
    let err = ctx(&[
        ("JUJU_DISPATCH_PATH", "hooks/install"),
        ("JUJU_UNIT_NAME", "app"),
    ])
    .unwrap_err();
    assert!(matches!(
        err,
        EnvError::Invalid {
            name: "JUJU_UNIT_NAME",
            ..
        }
    ));
    let err = ctx(&[
        ("JUJU_DISPATCH_PATH", "hooks/install"),
        ("JUJU_VERSION", "three"),
    ])
    .unwrap_err();
    assert!(matches!(
        err,
        EnvError::Invalid {
            name: "JUJU_VERSION",
            ..
        }
    ));
    let err = ctx(&[
        ("JUJU_DISPATCH_PATH", "hooks/install"),
        ("JUJU_UNIT_NAME", ""),
    ])
    .unwrap_err();
    assert!(matches!(
        err,
        EnvError::Missing {
            name: "JUJU_UNIT_NAME",
            ..
        }
    ));
}

#[test]
fn versions() {
    assert_eq!(
        JujuVersion::parse("3.6.14"),
        Some(JujuVersion {
            major: 3,
            minor: 6,
            patch: 14
        })
    );
    assert_eq!(
        JujuVersion::parse("3.6-beta1"),
        Some(JujuVersion {
            major: 3,
            minor: 6,
            patch: 0
        })
    );
    assert!(JujuVersion::parse("2.9.44.1").is_some());
    assert_eq!(JujuVersion::parse("3"), None);
    assert_eq!(JujuVersion::parse("3.x.1"), None);
    assert_eq!(JujuVersion::parse("1.2.3.4.5"), None);
}

#[test]
fn the_host_comes_from_the_dispatch_environment() {
    let env = ctx(&[
        ("JUJU_DISPATCH_PATH", "hooks/install"),
        ("JUJU_MACHINE_ID", "7"),
        ("JUJU_AVAILABILITY_ZONE", "zone2"),
        ("JUJU_PRINCIPAL_UNIT", "web/3"),
        ("JUJU_CHARM_HTTPS_PROXY", "http://squid:3128"),
        ("JUJU_CHARM_NO_PROXY", ""),
    ])
    .unwrap();
    assert_eq!(env.host.machine_id.as_deref(), Some("7"));
    assert_eq!(env.host.availability_zone.as_deref(), Some("zone2"));
    assert_eq!(env.host.principal_unit.as_deref(), Some("web/3"));
    assert_eq!(env.host.proxy.https.as_deref(), Some("http://squid:3128"));
    assert_eq!(env.host.proxy.no_proxy, None);
    // On Kubernetes there is no machine.
    let k8s = ctx(&[("JUJU_DISPATCH_PATH", "hooks/install")]).unwrap();
    assert!(k8s.host.is_kubernetes());
}
