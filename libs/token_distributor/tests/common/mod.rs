//! Test helpers: a scripted microcluster CLI and the consumer charm under test.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use charm::{Charm, Ctx, Error, LogLevel};
use charm_testing::{Harness, Output};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use token_distributor::{CommandOutput, CommandRunner, PendingWait, TokenConsumer};

pub const CONSUMER_META: &str =
    "name: microovn\nrequires:\n  cluster:\n    interface: worker-cluster\n    limit: 1\n";
pub const PROVIDER_META: &str = "name: microcluster-token-distributor\nprovides:\n  microcluster-cluster:\n    interface: worker-cluster\npeers:\n  cluster:\n    interface: worker-cluster\n";

/// A member: name, role, status.
pub type MemberRow = (String, String, String);

/// The state of a scripted cluster, shared with the test.
#[derive(Default)]
pub struct FakeState {
    /// This unit's node name.
    pub node: String,
    pub members: RefCell<Vec<MemberRow>>,
    pub calls: RefCell<Vec<Vec<String>>>,
    /// Subcommand -> how many of the next calls fail.
    pub fail: RefCell<BTreeMap<String, u32>>,
    /// Printed by `list` instead of the members.
    pub list_output: RefCell<Option<String>>,
    /// Log of things that happened, shared with charm handlers (ordering checks).
    pub journal: RefCell<Vec<String>>,
}

/// The scripted CLI: command prefix `mc`.
#[derive(Clone)]
pub struct FakeCli(pub Rc<FakeState>);

impl FakeCli {
    pub fn new(node: &str) -> Self {
        FakeCli(Rc::new(FakeState {
            node: node.to_string(),
            ..FakeState::default()
        }))
    }

    pub fn with_members(self, rows: &[(&str, &str, &str)]) -> Self {
        *self.0.members.borrow_mut() = rows
            .iter()
            .map(|(n, r, s)| (n.to_string(), r.to_string(), s.to_string()))
            .collect();
        self
    }

    pub fn fail_next(&self, subcommand: &str, times: u32) {
        self.0.fail.borrow_mut().insert(subcommand.into(), times);
    }

    pub fn calls(&self) -> Vec<Vec<String>> {
        self.0.calls.borrow().clone()
    }

    /// The subcommands called, in order.
    pub fn subcommands(&self) -> Vec<String> {
        self.calls().iter().map(|c| c[1].clone()).collect()
    }

    pub fn count(&self, sub: &str) -> usize {
        self.subcommands().iter().filter(|s| *s == sub).count()
    }

    pub fn clear_calls(&self) {
        self.0.calls.borrow_mut().clear();
    }
}

impl CommandRunner for FakeCli {
    fn run(&self, argv: &[String]) -> std::io::Result<CommandOutput> {
        let s = &self.0;
        s.calls.borrow_mut().push(argv.to_vec());
        let sub = argv.get(1).cloned().unwrap_or_default();
        s.journal.borrow_mut().push(format!("cli {sub}"));
        if let Some(n) = s.fail.borrow_mut().get_mut(&sub)
            && *n > 0
        {
            *n -= 1;
            return Ok(CommandOutput::failed(
                1,
                format!("Error: {sub} failed on purpose"),
            ));
        }
        let arg = argv.get(2).cloned().unwrap_or_default();
        let mut members = s.members.borrow_mut();
        Ok(match sub.as_str() {
            "bootstrap" => {
                *members = vec![(s.node.clone(), "voter".into(), "ONLINE".into())];
                CommandOutput::ok("")
            }
            "add" => CommandOutput::ok(format!("T-{arg}\n")),
            "join" => {
                if arg != format!("T-{}", s.node) {
                    return Ok(CommandOutput::failed(1, format!("Error: bad token {arg}")));
                }
                members.push((s.node.clone(), "voter".into(), "ONLINE".into()));
                CommandOutput::ok("")
            }
            "list" => match s.list_output.borrow().clone() {
                Some(text) => CommandOutput::ok(text),
                None => {
                    let rows: Vec<serde_json::Value> = members
                        .iter()
                        .map(|(n, r, st)| {
                            serde_json::json!({"name": n, "address": "10.0.0.1:6443", "role": r, "status": st})
                        })
                        .collect();
                    CommandOutput::ok(serde_json::to_string(&rows).unwrap())
                }
            },
            "remove" => {
                members.retain(|(n, _, _)| *n != arg);
                CommandOutput::ok("")
            }
            _ => CommandOutput::failed(2, "unknown command"),
        })
    }
}

/// The consumer library configured for tests: command `mc`, instant pending wait.
pub fn consumer(cli: &FakeCli) -> TokenConsumer {
    let node = cli.0.node.clone();
    TokenConsumer::new("cluster", ["mc"])
        .runner(cli.clone())
        .hostname(move || Ok(node.clone()))
        .pending_wait(PendingWait {
            attempts: 3,
            interval: Duration::ZERO,
        })
}

/// A consumer charm around the library; handlers journal the events they see.
pub fn consumer_charm(lib: TokenConsumer, cli: &FakeCli) -> Charm {
    use token_distributor::{Bootstrapped, Joined, PreBootstrap, PreJoin, TokenGenerated};
    let mut charm = Charm::new();
    charm.plugin(lib);
    let j = cli.0.clone();
    charm.on_event(move |_: &mut Ctx, _: &PreBootstrap| {
        j.journal.borrow_mut().push("event PreBootstrap".into());
        Ok::<(), Error>(())
    });
    let j = cli.0.clone();
    charm.on_event(move |_: &mut Ctx, _: &Bootstrapped| {
        j.journal.borrow_mut().push("event Bootstrapped".into());
        Ok::<(), Error>(())
    });
    let j = cli.0.clone();
    charm.on_event(move |_: &mut Ctx, _: &PreJoin| {
        j.journal.borrow_mut().push("event PreJoin".into());
        Ok::<(), Error>(())
    });
    let j = cli.0.clone();
    charm.on_event(move |_: &mut Ctx, e: &Joined| {
        j.journal
            .borrow_mut()
            .push(format!("event Joined bootstrapper={}", e.bootstrapper));
        Ok::<(), Error>(())
    });
    let j = cli.0.clone();
    charm.on_event(move |_: &mut Ctx, e: &TokenGenerated| {
        j.journal
            .borrow_mut()
            .push(format!("event TokenGenerated {}", e.node));
        Ok::<(), Error>(())
    });
    charm
}

pub fn consumer_ctx(cli: &FakeCli) -> Harness {
    Harness::new(consumer_charm(consumer(cli), cli), CONSUMER_META)
}

/// Asserts that no log line at INFO or above contains `secret`, and no status either.
pub fn assert_no_secret(out: &Output, secret: &str) {
    for (level, line) in &out.logs {
        assert!(
            !(line.contains(secret) && *level >= LogLevel::Info),
            "secret in a {level:?} log line: {line}"
        );
    }
    for s in &out.unit_status_history {
        assert!(!s.message.contains(secret), "secret in status {s}");
    }
}
