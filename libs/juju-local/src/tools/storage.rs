//! Storage and resources: `storage-get`, `storage-list`, `storage-add`, `resource-get`.

use serde_json::{Value, json};

use super::{Call, FORMAT, OUTPUT, R, init_err, ops, optional_arg, required_arg, run_err};
use crate::flags::Flag;
use crate::journal::Op;

pub(super) fn storage_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT, Flag::value("storage", &["s"])])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let key = optional_arg(&p)?;
    let id = match p.get("storage") {
        Some(id) => id.to_string(),
        None => c
            .run
            .hook
            .env
            .get("JUJU_STORAGE_ID")
            .cloned()
            .ok_or_else(|| init_err("no storage instance specified"))?,
    };
    let Some(instance) = c.view.unit(&c.run.unit).and_then(|u| u.storage.get(&id)) else {
        return Err(init_err(format!(
            "invalid value {id:?} for option -s: storage instance {id:?} not found"
        )));
    };
    let all = json!({
        "kind": instance.kind,
        "location": instance.location.display().to_string(),
    });
    let v = match key.as_deref() {
        None => all,
        Some(k) => all
            .get(k)
            .cloned()
            .ok_or_else(|| run_err(format!("invalid key {k:?}")))?,
    };
    c.emit(&p, &fmt, &v, false)
}

pub(super) fn storage_list(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let name = optional_arg(&p)?;
    let Some(unit) = c.view.unit(&c.run.unit) else {
        return Err(run_err("unit not found"));
    };
    let ids: Vec<Value> = unit
        .storage
        .keys()
        .filter(|id| {
            name.as_ref()
                .is_none_or(|n| id.split('/').next() == Some(n))
        })
        .map(|id| Value::String(id.clone()))
        .collect();
    c.emit(&p, &fmt, &Value::Array(ids), false)
}

pub(super) fn storage_add(c: &mut Call) -> R {
    let p = c.parse(&[])?;
    if p.positional.is_empty() {
        return Err(init_err("storage add requires a storage directive"));
    }
    let declared = c
        .state
        .applications
        .get(&c.run.app)
        .map(|a| a.meta.storage.clone())
        .unwrap_or_default();
    let mut o = Vec::new();
    for arg in &p.positional {
        let (name, count) = match arg.split_once('=') {
            Some((n, c)) => (n, c),
            None => (arg.as_str(), "1"),
        };
        let count: u32 =
            count.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                init_err(format!("cannot parse count {count:?} of storage {name:?}"))
            })?;
        if !declared.contains_key(name) {
            return Err(run_err(format!("storage {name:?} not found")));
        }
        o.push(Op::StorageAdd {
            name: name.to_string(),
            count,
        });
    }
    ops(o)
}

/// `resource-get <name>`: the path of the attached file.
pub(super) fn resource_get(c: &mut Call) -> R {
    let p = c.parse(&[])?;
    let name = required_arg(&p, "missing required resource name")?;
    let app = c.state.applications.get(&c.run.app);
    match app.and_then(|a| a.resources.get(&name)) {
        Some(path) => Ok(super::Out {
            stdout: format!("{}\n", path.display()),
            ..super::Out::default()
        }),
        None => Err(run_err(format!(
            "could not download resource: resource {name:?} not found"
        ))),
    }
}
