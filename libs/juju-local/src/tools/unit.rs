//! The unit's view of itself: `config-get`, `is-leader`, `status-get`, `status-set`,
//! `application-version-set`, `juju-log`.

use serde_json::{Map, Value, json};

use super::{
    Call, FORMAT, OUTPUT, R, check_empty, init_err, ops, optional_arg, required_arg, run_err,
};
use crate::flags::Flag;
use crate::journal::Op;
use crate::rules;
use crate::state::Status;

pub(super) fn config_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT, Flag::boolean("all", &["a"])])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let key = optional_arg(&p)?;
    let all = p.flag("all");
    if let (true, Some(k)) = (all, &key) {
        return Err(init_err(format!(
            "cannot use argument --all together with key {k:?}"
        )));
    }
    let Some(app) = c.state.applications.get(&c.run.app) else {
        return Err(run_err("application not found"));
    };
    let mut settings: Map<String, Value> = Map::new();
    for (k, opt) in &app.meta.config {
        match app.config.get(k).or(opt.default.as_ref()) {
            Some(v) => {
                settings.insert(k.clone(), v.clone());
            }
            None if all => {
                settings.insert(k.clone(), Value::Null);
            }
            None => {}
        }
    }
    let value = match key {
        Some(k) => settings.get(&k).cloned().unwrap_or(Value::Null),
        None => Value::Object(settings),
    };
    c.emit(&p, &fmt, &value, false)
}

pub(super) fn is_leader(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    check_empty(&p.positional)?;
    c.emit(&p, &fmt, &Value::Bool(c.run.leader), false)
}

fn status_details(s: &Status, include_data: bool) -> Value {
    let mut m = Map::new();
    if include_data {
        m.insert("message".into(), Value::String(s.message.clone()));
    }
    m.insert("status".into(), Value::String(s.status.clone()));
    if include_data {
        m.insert(
            "status-data".into(),
            Value::Object(s.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        );
    }
    Value::Object(m)
}

pub(super) fn status_get(c: &mut Call) -> R {
    let p = c.parse(&[
        FORMAT,
        OUTPUT,
        Flag::boolean("include-data", &[]),
        Flag::boolean("application", &[]),
    ])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    check_empty(&p.positional)?;
    let include = p.flag("include-data");
    if p.flag("application") {
        rules::read_status(&c.run, true)?;
        let Some(app) = c.view.applications.get(&c.run.app) else {
            return Err(run_err("application not found"));
        };
        if !include && fmt == "smart" {
            return c.emit(&p, &fmt, &Value::String(app.status.status.clone()), false);
        }
        let mut details = status_details(&app.status, include);
        let units: Map<String, Value> = app
            .units
            .values()
            .map(|u| (u.name.clone(), status_details(&u.status, include)))
            .collect();
        if let Value::Object(m) = &mut details {
            m.insert("units".into(), Value::Object(units));
        }
        return c.emit(&p, &fmt, &json!({"application-status": details}), false);
    }
    let Some(unit) = c.view.unit(&c.run.unit) else {
        return Err(run_err("unit not found"));
    };
    if !include && fmt == "smart" {
        return c.emit(&p, &fmt, &Value::String(unit.status.status.clone()), false);
    }
    let v = status_details(&unit.status, include);
    c.emit(&p, &fmt, &v, false)
}

pub(super) fn status_set(c: &mut Call) -> R {
    let p = c.parse(&[Flag::boolean("application", &[])])?;
    let args = &p.positional;
    let Some(status) = args.first() else {
        return Err(init_err("invalid args, require <status> [message] [data]"));
    };
    const VALID: [&str; 4] = ["maintenance", "blocked", "waiting", "active"];
    if !VALID.contains(&status.as_str()) {
        return Err(init_err(format!(
            "invalid status {status:?}, expected one of [maintenance blocked waiting active]"
        )));
    }
    let message = args.get(1).cloned().unwrap_or_default();
    check_empty(args.get(2..).unwrap_or(&[]))?;
    let application = p.flag("application");
    rules::set_status(&c.run, application)?;
    ops(vec![Op::StatusSet {
        application,
        status: Status::new(status, &message),
    }])
}

pub(super) fn application_version_set(c: &mut Call) -> R {
    let p = c.parse(&[])?;
    let version = required_arg(&p, "no version specified")?;
    ops(vec![Op::AppVersion { version }])
}

pub(super) fn juju_log(c: &mut Call) -> R {
    let p = c.parse(&[
        Flag::value("log-level", &["l"]),
        Flag::boolean("debug", &[]),
        FORMAT,
    ])?;
    if p.positional.is_empty() {
        return Err(init_err("no message specified"));
    }
    let mut level = p.get("log-level").unwrap_or("INFO").to_uppercase();
    if p.flag("debug") {
        level = "DEBUG".into();
    }
    ops(vec![Op::Log {
        level,
        message: p.positional.join(" "),
    }])
}
