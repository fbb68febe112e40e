//! Ports and addresses: `open-port`, `close-port`, `opened-ports`, `network-get`, `unit-get`,
//! and `goal-state`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Call, FORMAT, OUTPUT, R, RELATION, check_empty, init_err, ops, required_arg, run_err};
use crate::flags::Flag;
use crate::journal::Op;
use crate::state::{Life, OpenPort};

/// Parses `80`, `80/tcp`, `8000-8999/udp` or `icmp`.
pub fn parse_port(s: &str) -> Option<(String, u16, u16)> {
    if s == "icmp" {
        return Some(("icmp".into(), 0, 0));
    }
    let (range, proto) = match s.split_once('/') {
        Some((r, p)) => (r, p.to_lowercase()),
        None => (s, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp") {
        return None;
    }
    let (from, to) = match range.split_once('-') {
        Some((a, b)) => (a.parse::<u16>().ok()?, b.parse::<u16>().ok()?),
        None => {
            let n = range.parse::<u16>().ok()?;
            (n, n)
        }
    };
    (from >= 1 && from <= to).then_some((proto, from, to))
}

pub(super) fn port(c: &mut Call, open: bool) -> R {
    let p = c.parse(&[Flag::value("endpoints", &[]), FORMAT])?;
    let spec = required_arg(&p, "no port or range specified")?;
    let Some((protocol, from, to)) = parse_port(&spec) else {
        return Err(init_err(format!(
            "expected <port>[/<protocol>] or <from>-<to>[/<protocol>] or icmp; got {spec:?}"
        )));
    };
    let endpoints: Vec<String> = match p.get("endpoints") {
        None | Some("") => vec!["*".into()],
        Some(list) => list.split(',').map(|s| s.trim().to_string()).collect(),
    };
    let meta = c.state.applications.get(&c.run.app).map(|a| &a.meta);
    let mut o = Vec::new();
    for ep in endpoints {
        if ep != "*"
            && !meta.is_some_and(|m| m.endpoint(&ep).is_some() || m.extra_bindings.contains(&ep))
        {
            return Err(run_err(format!("unknown endpoint {ep:?}")));
        }
        let port = OpenPort {
            endpoint: ep,
            protocol: protocol.clone(),
            from,
            to,
        };
        o.push(if open {
            Op::OpenPort { port }
        } else {
            Op::ClosePort { port }
        });
    }
    ops(o)
}

pub(super) fn opened_ports(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT, Flag::boolean("endpoints", &[])])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    check_empty(&p.positional)?;
    let Some(unit) = c.view.unit(&c.run.unit) else {
        return Err(run_err("unit not found"));
    };
    let mut grouped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for port in &unit.ports {
        grouped
            .entry(port.display())
            .or_default()
            .push(port.endpoint.clone());
    }
    let list: Vec<Value> = grouped
        .into_iter()
        .map(|(k, eps)| {
            if p.flag("endpoints") {
                Value::String(format!("{k} ({})", eps.join(",")))
            } else {
                Value::String(k)
            }
        })
        .collect();
    c.emit(&p, &fmt, &Value::Array(list), false)
}

pub(super) fn network_get(c: &mut Call) -> R {
    let p = c.parse(&[
        FORMAT,
        OUTPUT,
        RELATION,
        Flag::boolean("primary-address", &[]),
        Flag::boolean("bind-address", &[]),
        Flag::boolean("ingress-address", &[]),
        Flag::boolean("egress-subnets", &[]),
    ])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let _ = c.relation_id(&p)?;
    let binding = required_arg(&p, "no arguments specified")?;
    // Every charm has the implicit juju-info endpoint, and so a binding for it.
    let known = binding == crate::meta::JUJU_INFO
        || c.state.applications.get(&c.run.app).is_some_and(|a| {
            a.meta.endpoint(&binding).is_some() || a.meta.extra_bindings.contains(&binding)
        });
    if !known {
        return Err(run_err(format!(
            "no network config found for binding {binding:?}"
        )));
    }
    let addr = c.address();
    let cidr = format!(
        "{}.0/24",
        addr.rsplit_once('.').map_or(addr.as_str(), |(a, _)| a)
    );
    if p.flag("primary-address") || p.flag("bind-address") || p.flag("ingress-address") {
        return c.emit(&p, &fmt, &Value::String(addr), false);
    }
    if p.flag("egress-subnets") {
        return c.emit(&p, &fmt, &Value::String(format!("{addr}/32")), false);
    }
    let v = json!({
        "bind-addresses": [{
            "mac-address": "",
            "interface-name": "eth0",
            "addresses": [{"hostname": "", "value": addr, "cidr": cidr}],
        }],
        "egress-subnets": [format!("{addr}/32")],
        "ingress-addresses": [addr],
    });
    c.emit(&p, &fmt, &v, false)
}

pub(super) fn unit_get(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT])?;
    let fmt = c.format(&p, "smart", &["smart", "yaml", "json"])?;
    let key = required_arg(&p, "no setting specified")?;
    if key != "private-address" && key != "public-address" {
        return Err(init_err(format!("unknown setting {key:?}")));
    }
    let addr = c.address();
    c.emit(&p, &fmt, &Value::String(addr), false)
}

pub(super) fn goal_state(c: &mut Call) -> R {
    let p = c.parse(&[FORMAT, OUTPUT])?;
    let fmt = c.format(&p, "yaml", &["yaml", "json"])?;
    check_empty(&p.positional)?;
    let life = |l: Life| match l {
        Life::Alive => "active",
        Life::Dying => "dying",
    };
    let Some(app) = c.state.applications.get(&c.run.app) else {
        return Err(run_err("application not found"));
    };
    let units: Map<String, Value> = app
        .units
        .values()
        .map(|u| {
            (
                u.name.clone(),
                json!({"status": life(u.life), "since": u.since}),
            )
        })
        .collect();
    let mut relations: Map<String, Value> = Map::new();
    for rel in c
        .state
        .relations
        .values()
        .filter(|r| r.involves(&c.run.app) && c.state.relation_valid_for(&c.run.unit, r))
    {
        let Some(ep) = rel.endpoint_of(&c.run.app) else {
            continue;
        };
        let Some(remote) = rel.remote_app(&c.run.app) else {
            continue;
        };
        let entry = relations
            .entry(ep.endpoint.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(m) = entry else { continue };
        let status = if rel.life == Life::Alive {
            "joined"
        } else {
            "dying"
        };
        if !rel.is_peer() {
            m.insert(
                remote.to_string(),
                json!({"status": status, "since": c.state.created}),
            );
        }
        if let Some(ra) = c.state.applications.get(remote) {
            // Container-scoped relations only reach the units on this unit's machine.
            let machine = c.state.machine_of(&c.run.unit);
            for u in ra.units.values().filter(|u| {
                u.name != c.run.unit
                    && (!rel.is_container() || c.state.machine_of(&u.name) == machine)
            }) {
                let s = if u.life == Life::Alive {
                    status
                } else {
                    "dying"
                };
                m.insert(u.name.clone(), json!({"status": s, "since": u.since}));
            }
        }
    }
    let v = json!({"units": units, "relations": relations});
    c.emit(&p, &fmt, &v, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(parse_port("80"), Some(("tcp".into(), 80, 80)));
        assert_eq!(
            parse_port("8000-8999/udp"),
            Some(("udp".into(), 8000, 8999))
        );
        assert_eq!(parse_port("icmp"), Some(("icmp".into(), 0, 0)));
        assert_eq!(parse_port("0"), None);
        assert_eq!(parse_port("80/sctp"), None);
    }
}
