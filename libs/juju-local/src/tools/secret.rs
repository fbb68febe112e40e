//! The secret tools: `secret-add`, `secret-set`, `secret-get`, `secret-info-get`, `secret-ids`,
//! `secret-grant`, `secret-revoke`, `secret-remove`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{
    Call, FORMAT, Fail, OUTPUT, Out, R, RELATION, bag_value, check_empty, init_err, ops,
    parse_settings_doc, run_err,
};
use crate::base64::{b64_decode, b64_encode};
use crate::clock::{now_secs, rfc3339};
use crate::flags::Flag;
use crate::journal::Op;
use crate::rules;
use crate::state::{Secret, SecretGrant, SecretOwner, parse_secret_ref, rotate_period};

const SECRET_UPSERT: &[Flag] = &[
    Flag::value("owner", &[]),
    Flag::value("label", &[]),
    Flag::value("description", &[]),
    Flag::value("expire", &[]),
    Flag::value("rotate", &[]),
    Flag::value("file", &[]),
];

/// Juju's secret content key rule (also for `juju add-secret`).
pub(crate) fn valid_secret_key(k: &str) -> bool {
    // ^([a-z](?:-?[a-z0-9]){2,})$
    let b = k.as_bytes();
    if b.first().is_none_or(|c| !c.is_ascii_lowercase()) {
        return false;
    }
    let mut groups = 0;
    let mut i = 1;
    while i < b.len() {
        if b[i] == b'-' {
            i += 1;
        }
        match b.get(i) {
            Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit() => {
                groups += 1;
                i += 1;
            }
            _ => return false,
        }
    }
    groups >= 2
}

/// Parses secret content the way Juju's `CreateSecretData` does: `key=value`, `key#base64=...`,
/// `key#file=path`, plus an optional YAML file. Returns key → base64.
fn secret_content(
    c: &mut Call,
    args: &[String],
    file: Option<&str>,
) -> Result<BTreeMap<String, String>, Fail> {
    let mut data = BTreeMap::new();
    let mut size = 0usize;
    let mut add = |key: &str, value: Vec<u8>| -> Result<(), Fail> {
        if !valid_secret_key(key) {
            return Err(init_err(format!("key {key:?} not valid")));
        }
        size += value.len();
        if size > 1_000_000 {
            return Err(init_err(format!("secret content too large: {size} bytes")));
        }
        data.insert(key.to_string(), b64_encode(&value));
        Ok(())
    };
    let mut file_values = Vec::new();
    for a in args {
        let stripped = a.trim_end_matches('=');
        let Some(idx) = stripped.find('=').filter(|i| *i > 0) else {
            return Err(init_err(format!("key value {a:?} not valid")));
        };
        let (key, value) = (&a[..idx], &a[idx + 1..]);
        if let Some(k) = key.strip_suffix("#file") {
            file_values.push((k.to_string(), value.to_string()));
        } else if let Some(k) = key.strip_suffix("#base64") {
            let bytes = b64_decode(value)
                .ok_or_else(|| init_err(format!("key {k:?}: illegal base64 data")))?;
            add(k, bytes)?;
        } else {
            add(key, value.as_bytes().to_vec())?;
        }
    }
    let mut from_files = Vec::new();
    for (k, path) in file_values {
        let full = c.cwd.join(&path);
        let bytes = std::fs::read(&full).map_err(|e| {
            run_err(format!(
                "reading content for secret key {k:?}: open {}: {e}",
                full.display()
            ))
        })?;
        from_files.push((k, bytes));
    }
    for (k, b) in from_files {
        add(&k, b)?;
    }
    if let Some(path) = file {
        let path = path.to_string();
        let bytes = c.read_file_arg(&path)?;
        for (k, v) in parse_settings_doc(&bytes)? {
            match k.strip_suffix("#base64") {
                Some(base) => {
                    let b = b64_decode(&v)
                        .ok_or_else(|| init_err(format!("key {base:?}: illegal base64 data")))?;
                    add(base, b)?;
                }
                None => add(&k, v.into_bytes())?,
            }
        }
    }
    Ok(data)
}

/// Parses `--expire` (RFC 3339, `2006-01-02T15:04:05` UTC, or a Go duration) into RFC 3339.
fn parse_expire(s: &str) -> Result<String, Fail> {
    if let Some(t) = crate::clock::parse_time(s) {
        return Ok(rfc3339(t));
    }
    match crate::clock::parse_go_duration(s) {
        Some(d) if d > 0.0 => Ok(rfc3339(now_secs().saturating_add(d.ceil() as i64))),
        Some(_) => Err(init_err(format!(
            "negative expire duration {s:?} not valid"
        ))),
        None => Err(init_err(format!("expire time or duration {s:?} not valid"))),
    }
}

fn parse_rotate(s: Option<&str>) -> Result<Option<String>, Fail> {
    match s {
        None | Some("") => Ok(None),
        Some("never") => Ok(Some("never".into())),
        Some(p) if rotate_period(p).is_some() => Ok(Some(p.into())),
        Some(p) => Err(init_err(format!("rotate policy {p:?} not valid"))),
    }
}

fn secret_id_arg(s: &str) -> Result<String, Fail> {
    parse_secret_ref(s).ok_or_else(|| init_err(format!("secret URI {s:?} not valid")))
}

/// A new xid: 4 bytes of time, 3 of the model uuid, 2 of the pid, 3 random.
pub(crate) fn new_secret_id(model_uuid: &str) -> String {
    let mut id = [0u8; 12];
    let t = u32::try_from(now_secs().max(0)).unwrap_or(u32::MAX);
    id[0..4].copy_from_slice(&t.to_be_bytes());
    let hexes: Vec<u8> = model_uuid
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .take(6)
        .collect();
    for (i, pair) in hexes.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).unwrap_or("0");
        id[4 + i] = u8::from_str_radix(s, 16).unwrap_or(0);
    }
    let pid = u16::try_from(std::process::id() & 0xffff).unwrap_or(0);
    id[7..9].copy_from_slice(&pid.to_be_bytes());
    let r = crate::ids::random_bytes::<3>();
    id[9..12].copy_from_slice(&r);
    crate::ids::xid_encode(id)
}

pub(super) fn secret_add(c: &mut Call) -> R {
    let p = c.parse(SECRET_UPSERT)?;
    if p.positional.is_empty() && p.get("file").is_none() {
        return Err(init_err("missing secret value or filename"));
    }
    let owner_kind = p.get("owner").unwrap_or("application");
    if owner_kind != "application" && owner_kind != "unit" {
        return Err(init_err(format!("secret owner {owner_kind:?} not valid")));
    }
    let rotate = parse_rotate(p.get("rotate"))?;
    let expire = p.get("expire").map(parse_expire).transpose()?;
    let positional = p.positional.clone();
    let file = p.get("file").map(str::to_string);
    let content = secret_content(c, &positional, file.as_deref())?;
    if content.is_empty() {
        return Err(init_err("empty secret value not valid"));
    }
    let owner = SecretOwner {
        kind: owner_kind.into(),
        name: if owner_kind == "unit" {
            c.run.unit.clone()
        } else {
            c.run.app.clone()
        },
    };
    rules::create_secret(&c.run, &owner)?;
    let label = p.get("label").map(str::to_string);
    if let Some(l) = &label {
        rules::new_owner_label(&c.view, &c.state, &owner, l)?;
    }
    let id = new_secret_id(&c.state.uuid);
    Ok(Out {
        stdout: format!("secret:{id}\n"),
        stderr: String::new(),
        ops: vec![Op::SecretCreate {
            id,
            owner,
            label,
            description: p.get("description").map(str::to_string),
            expire,
            rotate,
            content,
        }],
    })
}

/// The secret as this unit's owner side knows it (Juju's hook context has the metadata of the
/// secrets it owns), once [`rules::change_known_secret`] allows changing it.
fn owned_secret<'v>(c: &'v Call, id: &str) -> Result<Option<&'v Secret>, Fail> {
    let Some(sec) = c.view.secrets.get(id) else {
        return Ok(None);
    };
    if !rules::owner_side(&c.run, sec) {
        return Ok(None);
    }
    rules::change_known_secret(&c.run, sec)?;
    Ok(Some(sec))
}

pub(super) fn secret_set(c: &mut Call) -> R {
    let p = c.parse(SECRET_UPSERT)?;
    let mut args = p.positional.clone();
    if args.is_empty() {
        return Err(init_err("missing secret URI"));
    }
    let id = secret_id_arg(&args.remove(0))?;
    let rotate = parse_rotate(p.get("rotate"))?;
    let expire = p.get("expire").map(parse_expire).transpose()?;
    if let Some(o) = p.get("owner")
        && o != "application"
        && o != "unit"
    {
        return Err(init_err(format!("secret owner {o:?} not valid")));
    }
    let file = p.get("file").map(str::to_string);
    let content = secret_content(c, &args, file.as_deref())?;
    let label = p.get("label").map(str::to_string);
    // A follower is refused the application's secrets at once; labels are checked when the
    // changes are applied.
    owned_secret(c, &id)?;
    let description = p.get("description").map(str::to_string);
    let content = (!content.is_empty()).then_some(content);
    if label.is_none()
        && description.is_none()
        && rotate.is_none()
        && expire.is_none()
        && content.is_none()
    {
        return ops(Vec::new());
    }
    ops(vec![Op::SecretUpdate {
        id,
        label,
        description,
        expire,
        rotate,
        content,
    }])
}

pub(super) fn secret_get(c: &mut Call) -> R {
    let p = c.parse(&[
        FORMAT,
        OUTPUT,
        Flag::value("label", &[]),
        Flag::boolean("peek", &[]),
        Flag::boolean("refresh", &[]),
    ])?;
    let fmt = c.format(&p, "yaml", &["yaml", "json"])?;
    let mut args = p.positional.clone();
    let id_arg = if args.is_empty() {
        None
    } else {
        Some(secret_id_arg(&args.remove(0))?)
    };
    let label = p.get("label").map(str::to_string);
    if id_arg.is_none() && label.is_none() {
        return Err(init_err("require either a secret URI or label"));
    }
    let (peek, refresh) = (p.flag("peek"), p.flag("refresh"));
    if peek && refresh {
        return Err(init_err("specify one of --peek or --refresh but not both"));
    }
    let key = if args.is_empty() {
        None
    } else {
        Some(args.remove(0))
    };
    check_empty(&args)?;
    let unit = c.run.unit.clone();
    let id = match &id_arg {
        Some(id) => id.clone(),
        None => {
            let l = label.clone().unwrap_or_default();
            let owned = c
                .view
                .secrets
                .values()
                .find(|s| s.owner.includes(&unit) && s.label.as_deref() == Some(l.as_str()));
            let consumed = c.view.secrets.values().find(|s| {
                s.consumers
                    .get(&unit)
                    .is_some_and(|x| x.label.as_deref() == Some(l.as_str()))
            });
            match owned.or(consumed) {
                Some(s) => s.id.clone(),
                None => return Err(run_err(format!("secret {l:?} not found"))),
            }
        }
    };
    let Some(sec) = c.view.secrets.get(&id) else {
        return Err(run_err(format!("secret {id:?} not found")));
    };
    rules::read_secret(&c.run, sec)?;
    let owner_side = rules::owner_side(&c.run, sec);
    let mut o = Vec::new();
    if let (Some(_), Some(l)) = (&id_arg, &label) {
        if owner_side {
            if sec.label.as_deref() != Some(l.as_str()) && rules::manage_secret(&c.run, sec).is_ok()
            {
                o.push(Op::SecretUpdate {
                    id: id.clone(),
                    label: Some(l.clone()),
                    description: None,
                    expire: None,
                    rotate: None,
                    content: None,
                });
            }
        } else {
            rules::consumer_label(&c.view, &unit, l, &id)?;
            o.push(Op::SecretConsumerLabel {
                id: id.clone(),
                label: l.clone(),
            });
        }
    }
    let tracked = sec.consumers.get(&unit).map_or(0, |x| x.revision);
    let revision = if peek || refresh || tracked == 0 || !sec.revisions.contains_key(&tracked) {
        sec.latest
    } else {
        tracked
    };
    if !peek && revision != tracked {
        o.push(Op::SecretTrack {
            id: id.clone(),
            revision,
        });
    }
    let Some(rev) = sec.revisions.get(&revision) else {
        return Err(run_err(format!(
            "secret {id:?} revision {revision} not found"
        )));
    };
    let decoded: BTreeMap<String, String> = rev
        .content
        .iter()
        .map(|(k, v)| {
            let bytes = b64_decode(v).unwrap_or_default();
            (k.clone(), String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect();
    let value = match key {
        None => bag_value(&decoded, None),
        Some(k) => {
            if let Some(base) = k.strip_suffix("#base64") {
                match rev.content.get(base) {
                    Some(v) => Value::String(v.clone()),
                    None => return Err(run_err(format!("secret key value {k:?} not found"))),
                }
            } else {
                match decoded.get(&k) {
                    Some(v) => Value::String(v.clone()),
                    None => return Err(run_err(format!("secret key value {k:?} not found"))),
                }
            }
        }
    };
    let mut result = c.emit(&p, &fmt, &value, false)?;
    result.ops = o;
    Ok(result)
}

pub(super) fn secret_info_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT, Flag::value("label", &[])])?;
    let fmt = c.format(&p, "yaml", &["yaml", "json"])?;
    let mut args = p.positional.clone();
    let id_arg = if args.is_empty() {
        None
    } else {
        Some(secret_id_arg(&args.remove(0))?)
    };
    let label = p.get("label").map(str::to_string);
    match (&id_arg, &label) {
        (None, None) => return Err(init_err("require either a secret URI or label")),
        (Some(_), Some(_)) => {
            return Err(init_err(
                "specify either a secret URI or label but not both",
            ));
        }
        _ => {}
    }
    check_empty(&args)?;
    let unit = c.run.unit.clone();
    let found = match (&id_arg, &label) {
        (Some(id), _) => c.view.secrets.get(id).filter(|s| s.owner.includes(&unit)),
        (None, Some(l)) => c
            .view
            .secrets
            .values()
            .find(|s| s.owner.includes(&unit) && s.label.as_deref() == Some(l.as_str())),
        _ => None,
    };
    let Some(sec) = found else {
        let what = id_arg.or(label).unwrap_or_default();
        return Err(run_err(format!("secret {what:?} not found")));
    };
    rules::read_secret_info(&c.run, sec)?;
    let mut info = Map::new();
    info.insert("revision".into(), json!(sec.latest));
    info.insert(
        "label".into(),
        Value::String(sec.label.clone().unwrap_or_default()),
    );
    info.insert(
        "owner".into(),
        Value::String(if sec.owner.kind == "unit" {
            "unit".into()
        } else {
            "application".into()
        }),
    );
    if let Some(d) = &sec.description {
        info.insert("description".into(), Value::String(d.clone()));
    }
    if let Some(e) = sec
        .revisions
        .get(&sec.latest)
        .and_then(|r| r.expire.clone())
    {
        info.insert("expiry".into(), Value::String(e));
    }
    if let Some(r) = &sec.rotate {
        info.insert("rotation".into(), Value::String(r.clone()));
        if let Some(n) = &sec.next_rotate {
            info.insert("rotates".into(), Value::String(n.clone()));
        }
    }
    if !sec.grants.is_empty() {
        let access: Vec<Value> = sec
            .grants
            .iter()
            .map(|g| {
                let target = match &g.unit {
                    Some(u) => format!("unit-{}", u.replace('/', "-")),
                    None => format!("application-{}", g.app),
                };
                let scope = match g.relation {
                    Some(rid) => c
                        .view
                        .relations
                        .get(&rid)
                        .map_or_else(|| format!("relation-{rid}"), |r| r.tag()),
                    None => format!("model-{}", c.view.uuid),
                };
                json!({"target": target, "scope": scope, "role": "view"})
            })
            .collect();
        info.insert("access".into(), Value::Array(access));
    }
    let mut top = Map::new();
    top.insert(sec.id.clone(), Value::Object(info));
    c.emit(&p, &fmt, &Value::Object(top), true)
}

pub(super) fn secret_ids(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    check_empty(&p.positional)?;
    let unit = c.run.unit.clone();
    let ids: Vec<Value> = c
        .view
        .secrets
        .values()
        .filter(|s| s.owner.includes(&unit))
        .map(|s| Value::String(s.uri()))
        .collect();
    c.emit(&p, &fmt, &Value::Array(ids), false)
}

pub(super) fn secret_grant(c: &mut Call) -> R {
    let p = c.parse(&[RELATION, Flag::value("unit", &[])])?;
    let mut args = p.positional.clone();
    if args.is_empty() {
        return Err(init_err("missing secret URI"));
    }
    let id = secret_id_arg(&args.remove(0))?;
    check_empty(&args)?;
    let rel_id = c.need_relation(&p)?;
    let remote_app = c
        .run
        .relations
        .get(&rel_id)
        .map(|v| v.remote_app.clone())
        .unwrap_or_default();
    let unit = p.get("unit").map(str::to_string);
    if let Some(u) = &unit {
        match crate::ids::split_unit(u) {
            None => return Err(init_err(format!("unit {u:?} not valid"))),
            Some((a, _)) if a != remote_app => {
                return Err(init_err(format!(
                    "cannot specify unit {u:?} in relation to application {remote_app:?}"
                )));
            }
            _ => {}
        }
    }
    if owned_secret(c, &id)?.is_none() {
        return Err(run_err(format!("secret {id:?} not found")));
    }
    ops(vec![Op::SecretGrant {
        id,
        grant: SecretGrant {
            app: remote_app,
            unit,
            relation: Some(rel_id),
        },
    }])
}

pub(super) fn secret_revoke(c: &mut Call) -> R {
    let p = c.parse(&[
        RELATION,
        Flag::value("app", &["application"]),
        Flag::value("unit", &[]),
    ])?;
    let mut args = p.positional.clone();
    if args.is_empty() {
        return Err(init_err("missing secret URI"));
    }
    let id = secret_id_arg(&args.remove(0))?;
    check_empty(&args)?;
    let mut app = p.get("app").map(str::to_string);
    let unit = p.get("unit").map(str::to_string);
    if let Some(u) = &unit
        && crate::ids::split_unit(u).is_none()
    {
        return Err(init_err(format!("unit {u:?} not valid")));
    }
    if app.is_some() && unit.is_some() {
        return Err(init_err("specify only one of application or unit"));
    }
    let mut relation = None;
    if p.has("relation") {
        if app.is_some() {
            return Err(init_err("do not specify both relation and app"));
        }
        let rid = c.need_relation(&p)?;
        relation = Some(rid);
        if unit.is_none() {
            app = c.run.relations.get(&rid).map(|v| v.remote_app.clone());
        }
    }
    if app.is_none() && unit.is_none() {
        return Err(init_err("missing relation or application or unit"));
    }
    let _ = owned_secret(c, &id)?;
    ops(vec![Op::SecretRevoke {
        id,
        app,
        unit,
        relation,
    }])
}

pub(super) fn secret_remove(c: &mut Call) -> R {
    let p = c.parse(&[Flag::value("revision", &[])])?;
    let mut args = p.positional.clone();
    if args.is_empty() {
        return Err(init_err("missing secret URI"));
    }
    let id = secret_id_arg(&args.remove(0))?;
    check_empty(&args)?;
    let revision = match p.get("revision") {
        None => None,
        Some(r) => {
            let n: u32 = r.parse().map_err(|_| {
                init_err(format!(
                    "invalid value {r:?} for option --revision: strconv.ParseInt: parsing {r:?}: invalid syntax"
                ))
            })?;
            (n > 0).then_some(n)
        }
    };
    let _ = owned_secret(c, &id)?;
    ops(vec![Op::SecretRemove { id, revision }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_ids() {
        assert!(valid_secret_key("password"));
        assert!(valid_secret_key("tls-key"));
        assert!(!valid_secret_key("ab"));
        assert!(!valid_secret_key("Key"));
        assert!(!valid_secret_key("a--b"));
        assert!(crate::ids::is_xid(&new_secret_id(
            "cdac5656-0000-4000-8000-000000000000"
        )));
    }
}
