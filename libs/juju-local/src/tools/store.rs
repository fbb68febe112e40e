//! What Juju stores for the charm: charm state (`state-get`, `state-set`, `state-delete`) and
//! the deprecated leader settings (`leader-get`, `leader-set`).

use std::collections::BTreeMap;

use super::{
    Call, FORMAT, OUTPUT, R, bag_value, check_empty, ops, optional_arg, parse_key_values,
    parse_settings_doc, required_arg, run_err,
};
use crate::flags::Flag;
use crate::journal::Op;
use crate::rules;

pub(super) fn state_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT, Flag::boolean("strict", &[])])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let key = optional_arg(&p)?;
    let Some(unit) = c.view.unit(&c.run.unit) else {
        return Err(run_err("unit not found"));
    };
    if let Some(k) = &key
        && p.flag("strict")
        && !unit.charm_state.contains_key(k)
    {
        return Err(run_err(format!("key {k:?} not found")));
    }
    let v = bag_value(&unit.charm_state, key.as_deref());
    c.emit(&p, &fmt, &v, false)
}

pub(super) fn state_set(c: &mut Call) -> R {
    let p = c.parse(&[Flag::value("file", &[])])?;
    let overrides = parse_key_values(&p.positional)?;
    let mut values = match p.get("file") {
        Some(path) => {
            let path = path.to_string();
            let bytes = c.read_file_arg(&path)?;
            parse_settings_doc(&bytes)?
        }
        None => BTreeMap::new(),
    };
    values.extend(overrides);
    for (k, v) in &values {
        if k.len() > 256 {
            return Err(run_err(format!("key {k:?} is longer than 256 bytes")));
        }
        if v.len() > 65_536 {
            return Err(run_err(format!(
                "value of {k:?} is longer than 65536 bytes"
            )));
        }
    }
    let (deletes, sets): (BTreeMap<_, _>, BTreeMap<_, _>) =
        values.into_iter().partition(|(_, v)| v.is_empty());
    let mut o: Vec<Op> = deletes
        .into_keys()
        .map(|key| Op::StateDelete { key })
        .collect();
    if !sets.is_empty() {
        o.push(Op::StateSet { values: sets });
    }
    ops(o)
}

pub(super) fn state_delete(c: &mut Call) -> R {
    let p = c.parse(&[])?;
    let key = required_arg(&p, "no key specified")?;
    ops(vec![Op::StateDelete { key }])
}

pub(super) fn leader_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let mut args = p.positional.clone();
    let key = if args.is_empty() {
        None
    } else {
        Some(args.remove(0)).filter(|k| k != "-")
    };
    check_empty(&args)?;
    let settings = c
        .view
        .applications
        .get(&c.run.app)
        .map(|a| a.leader_settings.clone())
        .unwrap_or_default();
    c.emit(&p, &fmt, &bag_value(&settings, key.as_deref()), false)
}

pub(super) fn leader_set(c: &mut Call) -> R {
    let p = c.parse(&[Flag::value("file", &[])])?;
    let mut values = match p.get("file") {
        Some(path) => {
            let path = path.to_string();
            let bytes = c.read_file_arg(&path)?;
            parse_settings_doc(&bytes)?
        }
        None => BTreeMap::new(),
    };
    values.extend(parse_key_values(&p.positional)?);
    rules::write_leader_settings(&c.run)?;
    ops(vec![Op::LeaderSet { values }])
}
