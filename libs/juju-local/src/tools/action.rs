//! The action tools: `action-get`, `action-set`, `action-fail`, `action-log`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Call, FORMAT, OUTPUT, R, check_empty, init_err, ops};
use crate::journal::Op;
use crate::rules;

pub(super) fn action_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    rules::action_tool(&c.run)?;
    let params = c.run.hook.action_params.clone().unwrap_or(json!({}));
    let mut args = p.positional.clone();
    if args.is_empty() {
        return c.emit(&p, &fmt, &params, false);
    }
    let key = args.remove(0);
    check_empty(&args)?;
    let mut cur = &params;
    for part in key.split('.') {
        match cur.get(part) {
            Some(v) => cur = v,
            None => return c.emit(&p, &fmt, &Value::Null, false),
        }
    }
    let v = cur.clone();
    c.emit(&p, &fmt, &v, false)
}

fn valid_action_key(k: &str) -> bool {
    let b = k.as_bytes();
    let ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match b {
        [] => false,
        [one] => ok(*one),
        [first, mid @ .., last] => {
            ok(*first) && ok(*last) && mid.iter().all(|c| ok(*c) || *c == b'-' || *c == b'.')
        }
    }
}

pub(super) fn action_set(c: &mut Call) -> R {
    let p = c.parse(&[])?;
    let mut values = BTreeMap::new();
    for a in &p.positional {
        let Some((k, v)) = a.split_once('=') else {
            return Err(init_err(format!(
                "argument {a:?} must be of the form key...=value"
            )));
        };
        if !valid_action_key(k) {
            return Err(init_err(format!(
                "key {k:?} must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods"
            )));
        }
        if ["stdout", "stdout-encoding", "stderr", "stderr-encoding"].contains(&k) {
            return Err(init_err(format!("cannot set reserved action key {k:?}")));
        }
        values.insert(k.to_string(), v.to_string());
    }
    rules::action_tool(&c.run)?;
    ops(vec![Op::ActionSet { values }])
}

pub(super) fn action_fail(c: &mut Call) -> R {
    let p = c.parse(&[])?;
    let mut args = p.positional.clone();
    let message = if args.is_empty() {
        "action failed without reason given".to_string()
    } else {
        args.remove(0)
    };
    check_empty(&args)?;
    rules::action_tool(&c.run)?;
    ops(vec![Op::ActionFail { message }])
}

pub(super) fn action_log(c: &mut Call) -> R {
    let p = c.parse(&[])?;
    if p.positional.is_empty() {
        return Err(init_err("no message specified"));
    }
    rules::action_tool(&c.run)?;
    ops(vec![Op::ActionLog {
        message: p.positional.join(" "),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_keys() {
        assert!(valid_action_key("a.b-c"));
        assert!(!valid_action_key("-a"));
        assert!(!valid_action_key("A"));
    }
}
