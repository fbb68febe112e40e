//! A small model of Juju for harness-level flows: units of the two charms, their bags shuttled
//! between harnesses, relation events queued as Juju would send them, and one fake
//! microcluster shared by every consumer unit.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::{BagData, Event, LogLevel, Status};
use charm_testing::{Harness, Relation, State};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;
use token_distributor::{CommandOutput, CommandRunner, PendingWait};
use token_distributor_contract::{FakeCluster, InProcess};

/// The distributor's endpoint.
pub const PROVIDES: &str = "microcluster-cluster";
/// The consumer's endpoint.
pub const REQUIRES: &str = "cluster";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Distributor,
    Node,
}

pub struct Unit {
    pub app: String,
    pub n: u32,
    pub kind: Kind,
    pub harness: Harness,
    pub state: State,
}

impl Unit {
    pub fn name(&self) -> String {
        format!("{}/{}", self.app, self.n)
    }
}

#[derive(Debug, Clone)]
pub struct Link {
    pub id: u32,
    pub provider: String,
    pub consumer: String,
}

/// One emitted library event: (unit, name, fields).
pub type Emitted = (String, &'static str, serde_json::Value);

pub struct Sim {
    pub units: Vec<Unit>,
    pub links: Vec<Link>,
    pub cluster: Rc<RefCell<FakeCluster>>,
    queue: VecDeque<(String, Event)>,
    pub hooks: usize,
    pub failures: Vec<String>,
    pub logs: Vec<(String, LogLevel, String)>,
    pub emitted: Vec<Emitted>,
    /// Hook-tool calls per hook: (unit, hook, calls).
    pub transcript: Vec<(String, String, usize)>,
    next_id: u32,
    pub wait: PendingWait,
    /// Node names by unit, when not `<app>-<n>`.
    pub hostnames: Vec<(String, String)>,
    /// Run the `fake-microcluster` binary (path, state file) instead of the in-process fake.
    pub binary: Option<(PathBuf, PathBuf)>,
    /// Removed units: Juju never reuses a unit number.
    retired: Vec<(String, u32)>,
}

/// Runs the `fake-microcluster` binary as one node, with its state file.
pub struct BinRunner {
    pub binary: PathBuf,
    pub state: PathBuf,
    pub node: String,
}

impl CommandRunner for BinRunner {
    fn run(&self, argv: &[String]) -> std::io::Result<CommandOutput> {
        let out = std::process::Command::new(&self.binary)
            .args(argv.get(1..).unwrap_or(&[]))
            .env(token_distributor_contract::STATE_ENV, &self.state)
            .env(token_distributor_contract::NODE_ENV, &self.node)
            .output()?;
        Ok(CommandOutput {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

impl Sim {
    /// An empty model; joined members stay PENDING for `pending_lists` `list` calls.
    pub fn new(pending_lists: u32) -> Sim {
        Sim {
            units: Vec::new(),
            links: Vec::new(),
            cluster: Rc::new(RefCell::new(FakeCluster::new(pending_lists))),
            queue: VecDeque::new(),
            hooks: 0,
            failures: Vec::new(),
            logs: Vec::new(),
            emitted: Vec::new(),
            transcript: Vec::new(),
            next_id: 10,
            wait: PendingWait {
                attempts: 4,
                interval: Duration::ZERO,
            },
            hostnames: Vec::new(),
            binary: None,
            retired: Vec::new(),
        }
    }

    pub fn hostname_of(&self, app: &str, n: u32) -> String {
        let unit = format!("{app}/{n}");
        self.hostnames
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, h)| h.clone())
            .unwrap_or_else(|| format!("{app}-{n}"))
    }

    fn node_harness(&self, app: &str, n: u32) -> Harness {
        let host = self.hostname_of(app, n);
        let runner: Rc<dyn CommandRunner> = match &self.binary {
            Some((binary, state)) => Rc::new(BinRunner {
                binary: binary.clone(),
                state: state.clone(),
                node: host.clone(),
            }),
            None => Rc::new(InProcess {
                cluster: self.cluster.clone(),
                node: host.clone(),
            }),
        };
        let options = microcluster_node::Options {
            runner: Some(runner),
            hostname: Some(Rc::new(move || Ok(host.clone()))),
            wait: Some(self.wait),
        };
        let meta = microcluster_node::METADATA.replacen(
            "name: microcluster-node",
            &format!("name: {app}"),
            1,
        );
        Harness::new(microcluster_node::charm_with(options), &meta)
            .config_yaml(microcluster_node::CONFIG)
            .unit(n)
    }

    fn distributor_harness(&self, app: &str, n: u32) -> Harness {
        let meta = microcluster_token_distributor::METADATA.replacen(
            "name: microcluster-token-distributor",
            &format!("name: {app}"),
            1,
        );
        Harness::new(microcluster_token_distributor::charm(), &meta)
            .config_yaml(microcluster_token_distributor::CONFIG)
            .unit(n)
    }

    fn add_units(&mut self, kind: Kind, app: &str, from: u32, count: u32) {
        let leader_exists = self.units.iter().any(|u| u.app == app && u.state.leader);
        for n in from..from + count {
            let harness = match kind {
                Kind::Node => self.node_harness(app, n),
                Kind::Distributor => self.distributor_harness(app, n),
            };
            let leader = !leader_exists && n == from;
            let mut state = State::default().leader(leader);
            if kind == Kind::Node {
                state = state.config("cluster-command", "fake-microcluster cluster");
            }
            self.units.push(Unit {
                app: app.to_string(),
                n,
                kind,
                harness,
                state,
            });
            let name = format!("{app}/{n}");
            self.queue.push_back((name.clone(), Event::Install));
            if leader {
                self.queue.push_back((name.clone(), Event::LeaderElected));
            }
            self.queue.push_back((name, Event::ConfigChanged));
        }
    }

    /// Deploys an application of the distributor charm.
    pub fn deploy_distributor(&mut self, app: &str, units: u32) {
        self.add_units(Kind::Distributor, app, 0, units);
    }

    /// Deploys an application of the node charm.
    pub fn deploy_nodes(&mut self, app: &str, units: u32) {
        self.add_units(Kind::Node, app, 0, units);
    }

    fn idx(&self, unit: &str) -> usize {
        self.units
            .iter()
            .position(|u| u.name() == unit)
            .unwrap_or_else(|| panic!("no unit {unit}"))
    }

    pub fn unit(&self, unit: &str) -> &Unit {
        &self.units[self.idx(unit)]
    }

    fn app_units(&self, app: &str) -> Vec<usize> {
        (0..self.units.len())
            .filter(|i| self.units[*i].app == app)
            .collect()
    }

    fn relation_for(&self, link: &Link, unit: &Unit) -> Relation {
        let (endpoint, remote_app) = match unit.kind {
            Kind::Distributor => (PROVIDES, link.consumer.as_str()),
            Kind::Node => (REQUIRES, link.provider.as_str()),
        };
        let mut rel = Relation::new(endpoint, link.id, remote_app);
        for v in self.units.iter().filter(|v| v.app == remote_app) {
            rel = rel.remote_unit(v.n, BagData::new());
        }
        rel
    }

    /// Relates the distributor `provider` and the consumer `consumer`; returns the relation id.
    pub fn relate(&mut self, provider: &str, consumer: &str) -> u32 {
        let link = Link {
            id: self.next_id,
            provider: provider.to_string(),
            consumer: consumer.to_string(),
        };
        self.next_id += 1;
        let mut members = self.app_units(provider);
        members.extend(self.app_units(consumer));
        for &i in &members {
            let rel = self.relation_for(&link, &self.units[i]);
            self.units[i].state.relations.push(rel);
        }
        for &i in &members {
            let name = self.units[i].name();
            let ev = self.units[i].state.rel(link.id).unwrap().created();
            self.queue.push_back((name, ev));
        }
        for &i in &members {
            let name = self.units[i].name();
            let rel = self.units[i].state.rel(link.id).unwrap().clone();
            for n in rel.remote_units.keys() {
                self.queue.push_back((name.clone(), rel.joined(*n)));
                self.queue.push_back((name.clone(), rel.changed(Some(*n))));
            }
        }
        self.links.push(link.clone());
        link.id
    }

    /// Adds units to a deployed application (joining its relations).
    pub fn add_unit(&mut self, app: &str) -> String {
        let idxs = self.app_units(app);
        let kind = self.units[idxs[0]].kind;
        let retired = self
            .retired
            .iter()
            .filter(|(a, _)| a == app)
            .map(|(_, n)| *n);
        let n = idxs
            .iter()
            .map(|i| self.units[*i].n)
            .chain(retired)
            .max()
            .unwrap_or(0)
            + 1;
        self.add_units(kind, app, n, 1);
        let new = self.units.len() - 1;
        let name = self.units[new].name();
        let links: Vec<Link> = self
            .links
            .iter()
            .filter(|l| l.provider == app || l.consumer == app)
            .cloned()
            .collect();
        for link in links {
            let remote = if link.provider == app {
                &link.consumer
            } else {
                &link.provider
            };
            let mut rel = self.relation_for(&link, &self.units[new]);
            // It sees the remote units' current bags and the remote app bag.
            for v in self.units.iter().filter(|v| v.app == *remote) {
                if let Some(r) = v.state.rel(link.id) {
                    rel.remote_units.insert(v.n, r.local_unit_data.clone());
                    rel.remote_app_data = r.local_app_data.clone();
                }
            }
            if let Some(peer) = self
                .units
                .iter()
                .find(|v| v.app == app && v.name() != name && v.state.rel(link.id).is_some())
            {
                rel.local_app_data = peer.state.rel(link.id).unwrap().local_app_data.clone();
            }
            self.units[new].state.relations.push(rel.clone());
            self.queue.push_back((name.clone(), rel.created()));
            for n in rel.remote_units.keys() {
                self.queue.push_back((name.clone(), rel.joined(*n)));
                self.queue.push_back((name.clone(), rel.changed(Some(*n))));
            }
            let new_n = self.units[new].n;
            for i in self.app_units(remote) {
                let r = self.units[i]
                    .state
                    .relations
                    .iter_mut()
                    .find(|r| r.id == link.id)
                    .unwrap();
                r.remote_units.insert(new_n, BagData::new());
                let ev_joined = r.joined(new_n);
                let ev_changed = r.changed(Some(new_n));
                let rname = self.units[i].name();
                self.queue.push_back((rname.clone(), ev_joined));
                self.queue.push_back((rname, ev_changed));
            }
        }
        name
    }

    /// Makes `unit` the leader of its application.
    pub fn elect(&mut self, unit: &str) {
        let app = self.unit(unit).app.clone();
        for i in self.app_units(&app) {
            let is = self.units[i].name() == unit;
            self.units[i].state.leader = is;
        }
        self.queue
            .push_back((unit.to_string(), Event::LeaderElected));
    }

    /// Removes a unit as Juju does: departed and broken on it, then remove; departed elsewhere.
    pub fn remove_unit(&mut self, unit: &str) {
        let i = self.idx(unit);
        let n = self.units[i].n;
        let app = self.units[i].app.clone();
        let rels: Vec<Relation> = self.units[i].state.relations.clone();
        for rel in &rels {
            self.run(unit, rel.broken());
        }
        self.run(unit, Event::Remove);
        self.units.remove(i);
        self.retired.push((app.clone(), n));
        for link in self.links.clone() {
            let remote = if link.provider == app {
                &link.consumer
            } else if link.consumer == app {
                &link.provider
            } else {
                continue;
            };
            for j in self.app_units(remote) {
                let r = self.units[j]
                    .state
                    .relations
                    .iter_mut()
                    .find(|r| r.id == link.id)
                    .unwrap();
                r.remote_units.remove(&n);
                let ev = r.departed(n);
                let name = self.units[j].name();
                self.queue.push_back((name, ev));
            }
        }
    }

    /// Queues an event for a unit.
    pub fn queue(&mut self, unit: &str, event: Event) {
        self.queue.push_back((unit.to_string(), event));
    }

    /// Runs one event on one unit now, and shuttles what it wrote to the other units.
    pub fn run(&mut self, unit: &str, event: Event) {
        let i = self.idx(unit);
        let hook = event.hook_name();
        let before: Vec<(u32, BagData, BagData)> = self.units[i]
            .state
            .relations
            .iter()
            .map(|r| (r.id, r.local_unit_data.clone(), r.local_app_data.clone()))
            .collect();
        let out = self.units[i]
            .harness
            .run(event.clone(), self.units[i].state.clone());
        self.hooks += 1;
        self.transcript
            .push((unit.to_string(), hook.clone(), out.calls.len()));
        for (level, line) in &out.logs {
            self.logs.push((unit.to_string(), *level, line.clone()));
        }
        for e in &out.emitted {
            self.emitted
                .push((unit.to_string(), e.name, e.data.clone()));
        }
        if !out.ok() {
            self.failures
                .push(format!("{unit} {hook}: {}", out.error().unwrap_or("?")));
        }
        self.units[i].state = out.state;
        if let Event::RelationBroken(r) = &event {
            self.units[i]
                .state
                .relations
                .retain(|x| x.id != r.relation.id);
        }
        let me_app = self.units[i].app.clone();
        let me_n = self.units[i].n;
        for (id, unit_before, app_before) in before {
            let Some(rel) = self.units[i].state.rel(id).cloned() else {
                continue;
            };
            let Some(link) = self.links.iter().find(|l| l.id == id).cloned() else {
                continue;
            };
            let remote_app = if link.provider == me_app {
                link.consumer.clone()
            } else {
                link.provider.clone()
            };
            let unit_changed = rel.local_unit_data != unit_before;
            let app_changed = rel.local_app_data != app_before;
            if app_changed {
                for j in self.app_units(&me_app) {
                    if let Some(r) = self.units[j]
                        .state
                        .relations
                        .iter_mut()
                        .find(|r| r.id == id)
                    {
                        r.local_app_data = rel.local_app_data.clone();
                    }
                }
            }
            for j in self.app_units(&remote_app) {
                let name = self.units[j].name();
                let Some(r) = self.units[j]
                    .state
                    .relations
                    .iter_mut()
                    .find(|r| r.id == id)
                else {
                    continue;
                };
                if unit_changed {
                    r.remote_units.insert(me_n, rel.local_unit_data.clone());
                    let ev = r.changed(Some(me_n));
                    self.queue.push_back((name.clone(), ev));
                }
                if app_changed {
                    r.remote_app_data = rel.local_app_data.clone();
                    let ev = r.changed(None);
                    self.queue.push_back((name, ev));
                }
            }
        }
    }

    /// Runs queued events until none are left; units with deferred events then get
    /// `update-status` (at most `rounds` times) as Juju's periodic hook would.
    pub fn settle_with(&mut self, rounds: usize) {
        let mut round = 0;
        loop {
            let mut steps = 0;
            while let Some((unit, event)) = self.queue.pop_front() {
                if self.units.iter().any(|u| u.name() == unit) {
                    self.run(&unit, event);
                }
                steps += 1;
                assert!(steps < 5000, "the model does not settle");
            }
            let deferred: Vec<String> = self
                .units
                .iter()
                .filter(|u| !u.state.deferred.is_empty())
                .map(Unit::name)
                .collect();
            if deferred.is_empty() || round >= rounds {
                break;
            }
            for u in deferred {
                self.queue.push_back((u, Event::UpdateStatus));
            }
            round += 1;
        }
    }

    /// [`Sim::settle_with`] 5 rounds.
    pub fn settle(&mut self) {
        self.settle_with(5);
    }

    pub fn status(&self, unit: &str) -> Status {
        self.unit(unit)
            .state
            .unit_status
            .clone()
            .unwrap_or_else(|| Status::maintenance("<none>"))
    }

    /// A unit's own bag on relation `id`.
    pub fn bag(&self, unit: &str, id: u32) -> BagData {
        self.unit(unit)
            .state
            .rel(id)
            .map(|r| r.local_unit_data.clone())
            .unwrap_or_default()
    }

    /// An application's bag on relation `id` (as its first unit holds it).
    pub fn app_bag(&self, app: &str, id: u32) -> BagData {
        self.units
            .iter()
            .find(|u| u.app == app)
            .and_then(|u| u.state.rel(id))
            .map(|r| r.local_app_data.clone())
            .unwrap_or_default()
    }

    /// Emitted events named `name`, as (unit, fields).
    pub fn events(&self, name: &str) -> Vec<(String, serde_json::Value)> {
        self.emitted
            .iter()
            .filter(|(_, n, _)| *n == name)
            .map(|(u, _, d)| (u.clone(), d.clone()))
            .collect()
    }

    /// Fails the test if a hook failed or a token reached a log line at INFO or above or a status.
    pub fn assert_clean(&self) {
        assert!(
            self.failures.is_empty(),
            "hooks failed: {:#?}",
            self.failures
        );
        let minted = match &self.binary {
            Some((_, state)) => token_distributor_contract::load(state).unwrap().minted,
            None => self.cluster.borrow().minted.clone(),
        };
        for (unit, level, line) in &self.logs {
            for t in &minted {
                assert!(
                    !(line.contains(t.as_str()) && *level >= LogLevel::Info),
                    "{unit} logged a token at {level:?}: {line}"
                );
            }
        }
        for u in &self.units {
            if let Some(s) = &u.state.unit_status {
                for t in &minted {
                    assert!(
                        !s.message.contains(t.as_str()),
                        "token in status of {}",
                        u.name()
                    );
                }
            }
        }
    }
}
