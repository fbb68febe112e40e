//! `relation-ids`, `relation-list`, `relation-get`, `relation-set`, `relation-model-get`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{
    Call, FORMAT, OUTPUT, Out, R, RELATION, bag_value, check_empty, init_err, parse_key_values,
    parse_settings_doc, run_err,
};
use crate::flags::Flag;
use crate::journal::Op;
use crate::rules;

pub(super) fn relation_ids(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let mut args = p.positional.clone();
    let endpoint = if args.is_empty() {
        match c.run.hook.relation.and_then(|id| c.run.relations.get(&id)) {
            Some(v) => v.endpoint.clone(),
            None => return Err(init_err("no endpoint name specified")),
        }
    } else {
        args.remove(0)
    };
    check_empty(&args)?;
    let ids: Vec<Value> = c
        .run
        .relations
        .iter()
        .filter(|(_, v)| v.endpoint == endpoint && !v.broken)
        .map(|(id, v)| Value::String(format!("{}:{id}", v.endpoint)))
        .collect();
    c.emit(&p, &fmt, &Value::Array(ids), false)
}

pub(super) fn relation_list(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT, RELATION, Flag::boolean("app", &[])])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let id = c.need_relation(&p)?;
    check_empty(&p.positional)?;
    let Some(view) = c.run.relations.get(&id) else {
        return Err(run_err("relation not found"));
    };
    if p.flag("app") {
        let app = view.remote_app.clone();
        return c.emit(&p, &fmt, &Value::String(app), false);
    }
    let members: Vec<Value> = view
        .members
        .iter()
        .map(|m| Value::String(m.clone()))
        .collect();
    c.emit(&p, &fmt, &Value::Array(members), false)
}

pub(super) fn relation_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT, RELATION, Flag::boolean("app", &[])])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let id = c.need_relation(&p)?;
    let mut args = p.positional.clone();
    let mut key = None;
    if !args.is_empty() {
        let k = args.remove(0);
        if k != "-" {
            key = Some(k);
        }
    }
    let mut app = p.flag("app");
    let target = if !args.is_empty() {
        let t = args.remove(0);
        if app {
            t.split('/').next().unwrap_or(&t).to_string()
        } else {
            t
        }
    } else if app {
        match c.run.hook.remote_app.clone().filter(|a| !a.is_empty()) {
            Some(a) => a,
            None => return Err(init_err("no unit or application specified")),
        }
    } else if let Some(u) = c.run.hook.remote_unit.clone().filter(|u| !u.is_empty()) {
        u
    } else if let Some(a) = c.run.hook.remote_app.clone().filter(|a| !a.is_empty()) {
        app = true;
        a
    } else {
        return Err(init_err("no unit or application specified"));
    };
    check_empty(&args)?;
    let rel = c.relation(id)?;
    let committed = c.state.relations.get(&id);
    if app {
        if !rel.involves(&target) {
            return Err(run_err(format!(
                "cannot read settings for application {target:?} in relation {:?}: permission denied",
                rel.key()
            )));
        }
        let data = if target == c.run.app {
            rules::read_own_app_bag(&c.run, rel.is_peer())?;
            rel.app_data.get(&target).map(|b| b.data.clone())
        } else {
            committed
                .and_then(|r| r.app_data.get(&target))
                .map(|b| b.data.clone())
        };
        let data = data.unwrap_or_default();
        return c.emit(&p, &fmt, &bag_value(&data, key.as_deref()), false);
    }
    let data = if target == c.run.unit {
        rel.unit_data.get(&target).map(|b| b.data.clone())
    } else {
        let in_relation = crate::ids::split_unit(&target).is_some_and(|(a, _)| rel.involves(a));
        let bag = committed.and_then(|r| r.unit_data.get(&target));
        if !in_relation || bag.is_none() {
            return Err(run_err(format!(
                "cannot read settings for unit {target:?} in relation {:?}: unit {target:?}: settings not found",
                rel.key()
            )));
        }
        bag.map(|b| b.data.clone())
    };
    let data = data.unwrap_or_default();
    c.emit(&p, &fmt, &bag_value(&data, key.as_deref()), false)
}

pub(super) fn relation_set(c: &mut Call) -> R {
    let p = c.parse(&[
        RELATION,
        Flag::value("file", &[]),
        FORMAT,
        Flag::boolean("app", &[]),
    ])?;
    let id = c.need_relation(&p)?;
    let overrides = parse_key_values(&p.positional)?;
    let mut settings = match p.get("file") {
        Some(path) => {
            let path = path.to_string();
            let bytes = c.read_file_arg(&path)?;
            parse_settings_doc(&bytes)?
        }
        None => BTreeMap::new(),
    };
    settings.extend(overrides);
    let stderr = if p.has("format") {
        "--format flag deprecated for command \"relation-set\"".to_string()
    } else {
        String::new()
    };
    let app = p.flag("app");
    rules::write_bag(&c.run, id, app)?;
    Ok(Out {
        stdout: String::new(),
        stderr,
        ops: vec![Op::RelationSet {
            relation: id,
            app,
            settings,
        }],
    })
}

pub(super) fn relation_model_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT, RELATION])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let _ = c.need_relation(&p)?;
    check_empty(&p.positional)?;
    let v = json!({"uuid": c.state.uuid});
    c.emit(&p, &fmt, &v, false)
}
