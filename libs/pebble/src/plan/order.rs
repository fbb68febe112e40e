//! The order in which services start and stop (`after`/`before`/`requires`), the lanes a start or
//! stop runs in, and the before/after cycle check of plan validation.
//!
//! Start set = the named services plus, transitively, what they `require`; stop set = the named
//! services plus, transitively, the services that require them. Within the set `after`/`before`
//! give a topological order (reversed for stop); names outside the set are ignored. The order is
//! deterministic: ties are broken by name. Lanes: a service joins the lane of itself or of a
//! service it requires, else opens a new lane; lanes run in parallel, a lane's tasks in sequence.

use std::collections::{BTreeMap, BTreeSet};

use super::{FormatError, Service};

/// The services to start for `names`, in start order (unknown names are errors).
pub fn start_order(
    services: &BTreeMap<String, Service>,
    names: &[String],
) -> Result<Vec<String>, FormatError> {
    order(services, names, false)
}

/// The services to stop for `names`, in stop order.
pub fn stop_order(
    services: &BTreeMap<String, Service>,
    names: &[String],
) -> Result<Vec<String>, FormatError> {
    order(services, names, true)
}

/// Splits ordered services into lanes (see the module docs).
pub fn lanes(
    services: &BTreeMap<String, Service>,
    ordered: &[String],
) -> Result<Vec<Vec<String>>, FormatError> {
    let mut lane_of: BTreeMap<&str, usize> = BTreeMap::new();
    let mut next_lane = 0;
    for name in ordered {
        let service = services.get(name).ok_or_else(|| missing(name))?;
        let lane = lane_of.get(name.as_str()).copied().or_else(|| {
            service
                .requires
                .iter()
                .find_map(|r| lane_of.get(r.as_str()).copied())
        });
        let lane = lane.unwrap_or_else(|| {
            next_lane += 1;
            next_lane - 1
        });
        lane_of.insert(name, lane);
        for required in &service.requires {
            lane_of.insert(required, lane);
        }
    }
    let mut out: Vec<Vec<String>> = vec![Vec::new(); next_lane];
    for name in ordered {
        if let Some(&lane) = lane_of.get(name.as_str()) {
            out[lane].push(name.clone());
        }
    }
    out.retain(|lane| !lane.is_empty());
    Ok(out)
}

/// Fails if the plan's `after`/`before` relations among all services have a cycle.
pub fn check_cycles(services: &BTreeMap<String, Service>) -> Result<(), FormatError> {
    let names: Vec<String> = services.keys().cloned().collect();
    order(services, &names, false).map(|_| ())
}

fn missing(name: &str) -> FormatError {
    FormatError::new(format!("service {name:?} does not exist"))
}

fn order(
    services: &BTreeMap<String, Service>,
    names: &[String],
    stop: bool,
) -> Result<Vec<String>, FormatError> {
    // For stop, who requires whom, reversed.
    let mut required_by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    if stop {
        for (name, service) in services {
            for r in &service.requires {
                required_by.entry(r.as_str()).or_default().push(name);
            }
        }
    }
    let mut set: BTreeSet<&str> = BTreeSet::new();
    let mut pending: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut i = 0;
    while i < pending.len() {
        let name = pending[i];
        i += 1;
        if !set.insert(name) {
            continue;
        }
        if stop {
            pending.extend(required_by.get(name).into_iter().flatten().copied());
        } else {
            let service = services.get(name).ok_or_else(|| missing(name))?;
            pending.extend(service.requires.iter().map(String::as_str));
        }
    }
    // Edges "must come after": successors[a] contains b if a goes after b.
    let mut successors: BTreeMap<&str, Vec<&str>> = set.iter().map(|n| (*n, Vec::new())).collect();
    for name in &set {
        let service = services.get(*name).ok_or_else(|| missing(name))?;
        let (after, before) = if stop {
            (&service.before, &service.after)
        } else {
            (&service.after, &service.before)
        };
        for a in after {
            if set.contains(a.as_str())
                && let Some(succ) = successors.get_mut(name)
            {
                succ.push(a.as_str());
            }
        }
        for b in before {
            if let Some(succ) = successors.get_mut(b.as_str()) {
                succ.push(name);
            }
        }
    }
    let mut out = Vec::with_capacity(set.len());
    for component in tarjan(&successors) {
        if component.len() > 1 {
            return Err(FormatError::new(format!(
                "services in before/after loop: {}",
                component.join(", ")
            )));
        }
        out.extend(component.into_iter().map(str::to_string));
    }
    Ok(out)
}

/// Strongly connected components, dependencies first; each component sorted by name.
fn tarjan<'a>(successors: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<Vec<&'a str>> {
    struct Walk<'a, 'b> {
        successors: &'b BTreeMap<&'a str, Vec<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        lowlink: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<&'a str>,
        out: Vec<Vec<&'a str>>,
    }
    impl<'a> Walk<'a, '_> {
        fn visit(&mut self, id: &'a str) -> usize {
            let index = self.lowlink.len();
            self.index.insert(id, index);
            self.lowlink.push(index);
            self.on_stack.push(true);
            self.stack.push(id);
            let successors = self.successors;
            for &next in successors.get(id).into_iter().flatten() {
                match self.index.get(next).copied() {
                    None => {
                        let low = self.visit(next);
                        self.lowlink[index] = self.lowlink[index].min(low);
                    }
                    Some(i) if self.on_stack[i] => {
                        self.lowlink[index] = self.lowlink[index].min(i);
                    }
                    Some(_) => {}
                }
            }
            if self.lowlink[index] == index {
                let mut component = Vec::new();
                while let Some(top) = self.stack.pop() {
                    let i = self.index[top];
                    self.on_stack[i] = false;
                    component.push(top);
                    if i == index {
                        break;
                    }
                }
                component.sort_unstable();
                self.out.push(component);
            }
            self.lowlink[index]
        }
    }
    let mut walk = Walk {
        successors,
        index: BTreeMap::new(),
        lowlink: Vec::new(),
        on_stack: Vec::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for &id in successors.keys() {
        if !walk.index.contains_key(id) {
            walk.visit(id);
        }
    }
    walk.out
}
