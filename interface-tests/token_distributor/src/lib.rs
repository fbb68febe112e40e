//! A fake microcluster CLI for the token distributor tests, with a real cluster state.
//!
//! [`FakeCluster`] models one cluster: members with roles and statuses, join tokens that can be
//! used once, members that stay `PENDING` for a few `list` calls after joining, and failures
//! injected per subcommand. It answers the commands the consumer runs:
//!
//! | command | effect |
//! | --- | --- |
//! | `bootstrap [args...]` | the caller becomes the only member (a voter); fails if a cluster exists |
//! | `add <name>` | a member mints a one-time token for `<name>` and prints it |
//! | `join <token> [args...]` | the caller, named in the token, joins as `PENDING` |
//! | `list -f json` | a member prints the members (`name`, `address`, `role`, `fingerprint`, `status`) |
//! | `remove <name>` | a member removes `<name>` |
//!
//! Two front ends share it: [`InProcess`] (a [`CommandRunner`] for harness tests, one per unit)
//! and the `fake-microcluster` binary, which keeps the state in the JSON file named by
//! `$FAKE_MICROCLUSTER_STATE` (locked while in use, replaced atomically) and takes the caller's
//! name from `$MICROCLUSTER_NODE_NAME` (else the hostname). Faults are injected by editing that
//! file between hooks ([`load`], change `fail` / `garbage` / `pending_lists`, [`save`]).
//!
//! The crate has a second binary, `worker-cluster-probe`: a charm (metadata in `probe/`) that
//! publishes whatever its config says on either side of the interface, so the local-model tests
//! (`tests/local_model.rs`) can play a misbehaving distributor or consumer against the real
//! charms. The demo story `demo/token_distributor.yaml` uses the fake binary the same way.
//!
//! [`legacy`] models what each upstream Python patch (LIBPATCH 2 to 8) writes, checked against the
//! fixtures in `fixtures/`; the third binary, `worker-cluster-legacy` (metadata in `legacy/`),
//! runs it as a charm, so the local-model matrix puts our charms against peers of every patch.

pub mod legacy;

use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use token_distributor::{CommandOutput, CommandRunner};

/// The environment variable naming the state file of the binary.
pub const STATE_ENV: &str = "FAKE_MICROCLUSTER_STATE";
/// The environment variable naming the calling node.
pub const NODE_ENV: &str = "MICROCLUSTER_NODE_NAME";

/// A cluster member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FakeMember {
    /// Member name (the node name).
    pub name: String,
    /// `host:port`.
    pub address: String,
    /// `voter`, `stand-by`, `spare` or `PENDING`.
    pub role: String,
    /// `ONLINE`, `UNREACHABLE`, ...
    pub status: String,
    /// `list` calls left before a PENDING member gets its role.
    #[serde(default)]
    pub pending_lists: u32,
}

/// A join token not used yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FakeToken {
    /// The node it admits.
    pub name: String,
    /// The token text.
    pub token: String,
}

/// One command run, as recorded by the fake (tokens are never recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FakeCall {
    /// The calling node.
    pub node: String,
    /// The subcommand.
    pub subcommand: String,
    /// The exit code.
    pub code: i32,
    /// The whole argv after the program name, as received.
    #[serde(default)]
    pub args: Vec<String>,
}

/// The whole state of the fake cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FakeCluster {
    /// Members, in joining order.
    #[serde(default)]
    pub members: Vec<FakeMember>,
    /// Unused tokens.
    #[serde(default)]
    pub tokens: Vec<FakeToken>,
    /// How many `list` calls a joined member stays PENDING.
    #[serde(default = "default_pending")]
    pub pending_lists: u32,
    /// Subcommand -> how many of its next calls fail (exit 1).
    #[serde(default)]
    pub fail: BTreeMap<String, u32>,
    /// Subcommand -> what its next successful call prints instead (garbage injection).
    #[serde(default)]
    pub garbage: BTreeMap<String, String>,
    /// Every call.
    #[serde(default)]
    pub calls: Vec<FakeCall>,
    /// Tokens ever minted (for tests that check secrets stay secret).
    #[serde(default)]
    pub minted: Vec<String>,
    /// Next address suffix.
    #[serde(default)]
    pub next_host: u32,
}

fn default_pending() -> u32 {
    2
}

impl Default for FakeCluster {
    fn default() -> Self {
        FakeCluster {
            members: Vec::new(),
            tokens: Vec::new(),
            pending_lists: default_pending(),
            fail: BTreeMap::new(),
            garbage: BTreeMap::new(),
            calls: Vec::new(),
            minted: Vec::new(),
            next_host: 0,
        }
    }
}

fn out(code: i32, stdout: impl Into<String>, stderr: impl Into<String>) -> CommandOutput {
    CommandOutput {
        code: Some(code),
        stdout: stdout.into(),
        stderr: stderr.into(),
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (microcluster tokens are base64 JSON).
fn base64(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let digit = |shift: u32| char::from(B64[((n >> shift) & 63) as usize]);
        s.push(digit(18));
        s.push(digit(12));
        s.push(if chunk.len() > 1 { digit(6) } else { '=' });
        s.push(if chunk.len() > 2 { digit(0) } else { '=' });
    }
    s
}

/// 128 random-enough bits, as hex (the standard library's randomly keyed hasher; no crate).
fn random_hex(salt: usize) -> String {
    let mut parts = String::new();
    for i in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(salt);
        h.write_usize(i);
        h.write_u32(std::process::id());
        if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            h.write_u128(d.as_nanos());
        }
        parts.push_str(&format!("{:016x}", h.finish()));
    }
    parts
}

impl FakeCluster {
    /// A cluster where joined members stay PENDING for `pending_lists` `list` calls.
    pub fn new(pending_lists: u32) -> Self {
        FakeCluster {
            pending_lists,
            ..FakeCluster::default()
        }
    }

    /// The member called `name`.
    pub fn member(&self, name: &str) -> Option<&FakeMember> {
        self.members.iter().find(|m| m.name == name)
    }

    /// Member names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.members.iter().map(|m| m.name.clone()).collect();
        names.sort();
        names
    }

    /// How many calls of `subcommand` were made (by anyone).
    pub fn count(&self, subcommand: &str) -> usize {
        self.calls
            .iter()
            .filter(|c| c.subcommand == subcommand)
            .count()
    }

    fn is_ready_member(&self, node: &str) -> bool {
        self.member(node).is_some_and(|m| m.role != "PENDING")
    }

    fn new_address(&mut self) -> String {
        self.next_host += 1;
        format!("10.42.0.{}:6443", self.next_host)
    }

    fn role_for_new_member(&self) -> &'static str {
        let count = |role: &str| self.members.iter().filter(|m| m.role == role).count();
        if count("voter") < 3 {
            "voter"
        } else if count("stand-by") < 3 {
            "stand-by"
        } else {
            "spare"
        }
    }

    /// Runs one command as `node`: `args` are what follows the program name.
    pub fn apply(&mut self, node: &str, args: &[String]) -> CommandOutput {
        let argv = args.to_vec();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // Accept `<program> cluster <sub>` as well as `<program> <sub>`.
        let args: &[&str] = match args.as_slice() {
            ["cluster", rest @ ..] => rest,
            all => all,
        };
        let sub = args.first().copied().unwrap_or("");
        let result = self.dispatch(node, sub, args.get(1..).unwrap_or(&[]));
        self.calls.push(FakeCall {
            node: node.to_string(),
            subcommand: sub.to_string(),
            code: result.code.unwrap_or(-1),
            args: argv,
        });
        result
    }

    fn dispatch(&mut self, node: &str, sub: &str, rest: &[&str]) -> CommandOutput {
        if !["bootstrap", "add", "join", "list", "remove"].contains(&sub) {
            return out(
                2,
                "",
                "usage: fake-microcluster [cluster] bootstrap|add <name>|join <token>|list -f json|remove <name>\n",
            );
        }
        if let Some(n) = self.fail.get_mut(sub)
            && *n > 0
        {
            *n -= 1;
            return out(1, "", format!("Error: injected failure of {sub}\n"));
        }
        if let Some(text) = self.garbage.remove(sub) {
            return out(0, text, "");
        }
        match sub {
            "bootstrap" => self.bootstrap(node),
            "add" => self.add(node, rest),
            "join" => self.join(node, rest),
            "list" => self.list(node, rest),
            _ => self.remove(node, rest),
        }
    }

    fn bootstrap(&mut self, node: &str) -> CommandOutput {
        if self.member(node).is_some() {
            return out(1, "", "Error: this node is already a cluster member\n");
        }
        if let Some(first) = self.members.first() {
            return out(
                1,
                "",
                format!(
                    "Error: a cluster was already bootstrapped by {} (this fake holds one cluster)\n",
                    first.name
                ),
            );
        }
        let address = self.new_address();
        self.members.push(FakeMember {
            name: node.to_string(),
            address,
            role: "voter".into(),
            status: "ONLINE".into(),
            pending_lists: 0,
        });
        out(0, "", "")
    }

    fn add(&mut self, node: &str, rest: &[&str]) -> CommandOutput {
        if !self.is_ready_member(node) {
            return out(1, "", "Error: Daemon not yet initialized\n");
        }
        let [name] = rest else {
            return out(2, "", "usage: add <name>\n");
        };
        if name.is_empty() || name.starts_with('-') {
            return out(1, "", format!("Error: invalid member name {name:?}\n"));
        }
        if self.member(name).is_some() {
            return out(
                1,
                "",
                format!("Error: {name} is already a cluster member\n"),
            );
        }
        if self.tokens.iter().any(|t| t.name == *name) {
            return out(
                1,
                "",
                format!("Error: a join token already exists for {name}\n"),
            );
        }
        let addresses: Vec<String> = self.members.iter().map(|m| m.address.clone()).collect();
        // microcluster puts `secret` second; here it comes last, so that the start of a token
        // (which the local model's story prints for a changed bag key) holds no secret part.
        let body = serde_json::json!({
            "name": name,
            "fingerprint": random_hex(self.minted.len() + 1000),
            "join_addresses": addresses,
            "secret": random_hex(self.minted.len()),
        });
        let token = base64(body.to_string().as_bytes());
        self.tokens.push(FakeToken {
            name: name.to_string(),
            token: token.clone(),
        });
        self.minted.push(token.clone());
        out(0, format!("{token}\n"), "")
    }

    fn join(&mut self, node: &str, rest: &[&str]) -> CommandOutput {
        let Some(token) = rest.first() else {
            return out(2, "", "usage: join <token>\n");
        };
        if self.member(node).is_some() {
            return out(1, "", "Error: this node is already a cluster member\n");
        }
        let Some(i) = self.tokens.iter().position(|t| t.token == *token) else {
            return out(1, "", "Error: invalid or already used join token\n");
        };
        if self.tokens.get(i).is_none_or(|t| t.name != node) {
            return out(1, "", format!("Error: the join token is not for {node}\n"));
        }
        self.tokens.remove(i);
        let address = self.new_address();
        let pending = self.pending_lists;
        let role = if pending == 0 {
            self.role_for_new_member()
        } else {
            "PENDING"
        };
        self.members.push(FakeMember {
            name: node.to_string(),
            address,
            role: role.into(),
            status: "ONLINE".into(),
            pending_lists: pending,
        });
        out(0, "", "")
    }

    fn list(&mut self, node: &str, rest: &[&str]) -> CommandOutput {
        if !matches!(
            rest,
            ["-f", "json"] | ["--format", "json"] | ["--format=json"]
        ) {
            return out(2, "", "usage: list -f json\n");
        }
        if self.member(node).is_none() {
            return out(1, "", "Error: Daemon not yet initialized\n");
        }
        // Members whose wait is over get their role now; the others wait one call less.
        for i in 0..self.members.len() {
            let done = self
                .members
                .get(i)
                .is_some_and(|m| m.role == "PENDING" && m.pending_lists == 0);
            if done {
                let role = self.role_for_new_member();
                if let Some(m) = self.members.get_mut(i) {
                    m.role = role.into();
                }
            }
        }
        let rows: Vec<serde_json::Value> = self
            .members
            .iter()
            .map(|m| {
                serde_json::json!({
                    "name": m.name,
                    "address": m.address,
                    "role": m.role,
                    "fingerprint": format!("{:0>64}", m.name.len()),
                    "status": m.status,
                })
            })
            .collect();
        for m in &mut self.members {
            if m.role == "PENDING" {
                m.pending_lists = m.pending_lists.saturating_sub(1);
            }
        }
        out(0, serde_json::Value::Array(rows).to_string() + "\n", "")
    }

    fn remove(&mut self, node: &str, rest: &[&str]) -> CommandOutput {
        if self.member(node).is_none() {
            return out(1, "", "Error: Daemon not yet initialized\n");
        }
        let [name] = rest else {
            return out(2, "", "usage: remove <name>\n");
        };
        if self.member(name).is_none() {
            return out(1, "", format!("Error: no cluster member named {name}\n"));
        }
        self.members.retain(|m| m.name != *name);
        self.tokens.retain(|t| t.name != *name);
        out(0, "", "")
    }
}

/// The fake as a [`CommandRunner`] for one unit: all units share one cluster.
#[derive(Debug, Clone)]
pub struct InProcess {
    /// The shared cluster.
    pub cluster: Rc<RefCell<FakeCluster>>,
    /// The node this runner runs commands as.
    pub node: String,
}

impl CommandRunner for InProcess {
    fn run(&self, argv: &[String]) -> std::io::Result<CommandOutput> {
        let args = argv.get(1..).unwrap_or(&[]);
        Ok(self.cluster.borrow_mut().apply(&self.node, args))
    }
}

/// Why the binary could not do its job.
#[derive(Debug)]
pub struct FileError(pub String);

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads the state file (a fresh cluster when it does not exist).
pub fn load(path: &Path) -> Result<FakeCluster, FileError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| FileError(format!("{}: not a fake cluster state: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FakeCluster::default()),
        Err(e) => Err(FileError(format!("{}: {e}", path.display()))),
    }
}

/// Writes the state file atomically (temporary file, then rename).
pub fn save(path: &Path, cluster: &FakeCluster) -> Result<(), FileError> {
    let body = serde_json::to_vec_pretty(cluster).map_err(|e| FileError(e.to_string()))?;
    let tmp = PathBuf::from(format!("{}.tmp{}", path.display(), std::process::id()));
    std::fs::write(&tmp, body).map_err(|e| FileError(format!("{}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| FileError(format!("{}: {e}", path.display())))
}

/// Runs one command as `node` against the state file, holding an exclusive lock on
/// `<path>.lock` from read to write so concurrent invocations serialise.
pub fn run_with_file(path: &Path, node: &str, args: &[String]) -> Result<CommandOutput, FileError> {
    let lock_path = PathBuf::from(format!("{}.lock", path.display()));
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| FileError(format!("{}: {e}", lock_path.display())))?;
    lock.lock()
        .map_err(|e| FileError(format!("cannot lock {}: {e}", lock_path.display())))?;
    let mut cluster = load(path)?;
    let result = cluster.apply(node, args);
    save(path, &cluster)?;
    drop(lock);
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(c: &mut FakeCluster, node: &str, args: &[&str]) -> CommandOutput {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        c.apply(node, &args)
    }

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn bootstrap_add_join_list_remove() {
        let mut c = FakeCluster::new(2);
        assert_eq!(run(&mut c, "n1", &["list", "-f", "json"]).code, Some(1));
        assert_eq!(run(&mut c, "n0", &["bootstrap"]).code, Some(0));
        assert_eq!(run(&mut c, "n1", &["bootstrap"]).code, Some(1));
        let token = run(&mut c, "n0", &["add", "n1"]).stdout.trim().to_string();
        assert!(token.len() > 40);
        assert_eq!(
            run(&mut c, "n0", &["add", "n1"]).code,
            Some(1),
            "one token per name"
        );
        assert_eq!(
            run(&mut c, "n2", &["join", &token]).code,
            Some(1),
            "not for n2"
        );
        assert_eq!(run(&mut c, "n1", &["join", &token]).code, Some(0));
        assert_eq!(
            run(&mut c, "n1", &["join", &token]).code,
            Some(1),
            "used once"
        );
        // PENDING for exactly two list calls, then a voter.
        let roles = |c: &mut FakeCluster| {
            let o = run(c, "n0", &["cluster", "list", "-f", "json"]);
            let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
            v[1]["role"].as_str().unwrap().to_string()
        };
        assert_eq!(roles(&mut c), "PENDING");
        assert_eq!(roles(&mut c), "PENDING");
        assert_eq!(roles(&mut c), "voter");
        let parsed =
            token_distributor::Members::parse(&run(&mut c, "n1", &["list", "-f", "json"]).stdout)
                .unwrap();
        assert_eq!(parsed.communicator(), Some("n0"));
        assert_eq!(run(&mut c, "n0", &["remove", "n1"]).code, Some(0));
        assert_eq!(c.names(), ["n0"]);
        assert_eq!(run(&mut c, "n0", &["dance"]).code, Some(2));
    }

    #[test]
    fn roles_fill_voters_then_stand_bys_then_spares() {
        let mut c = FakeCluster::new(0);
        run(&mut c, "n0", &["bootstrap"]);
        for i in 1..8 {
            let name = format!("n{i}");
            let t = run(&mut c, "n0", &["add", &name]).stdout;
            run(&mut c, &name, &["join", t.trim()]);
        }
        let roles: Vec<&str> = c.members.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(
            roles,
            [
                "voter", "voter", "voter", "stand-by", "stand-by", "stand-by", "spare", "spare"
            ]
        );
    }

    #[test]
    fn failures_and_garbage_are_injected_once() {
        let mut c = FakeCluster::new(0);
        c.fail.insert("bootstrap".into(), 1);
        assert_eq!(run(&mut c, "n0", &["bootstrap"]).code, Some(1));
        assert_eq!(run(&mut c, "n0", &["bootstrap"]).code, Some(0));
        c.garbage.insert("list".into(), "not json".into());
        assert_eq!(
            run(&mut c, "n0", &["list", "-f", "json"]).stdout,
            "not json"
        );
        assert!(
            run(&mut c, "n0", &["list", "-f", "json"])
                .stdout
                .starts_with('[')
        );
    }
}
