//! Helpers of the `filesystem_info` contract tests: the Python fixtures, the charms under test in
//! the harness (the client with an in-memory machine), and the `fake-mount` double's logic.

use charm::BagData;
use charm::secret::SecretContent;
use charm_testing::{Harness, Secret};
use filesystem_client::command::{CommandOutput, RunError, System};
use filesystem_info::Key;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The endpoint on both sides.
pub const ENDPOINT: &str = "filesystem";
/// The provider's peer relation.
pub const PEERS: &str = "server-peers";
/// The fixtures' cephx user.
pub const USER: &str = "fsuser";
/// The fixtures' cephx key.
pub const KEY: &str = "R//appdqz4NP4Bxcc5XWrg==";
/// The key after rotation.
pub const NEW_KEY: &str = "AQBzYmFyYmF6cXV4c2VjcmV0a2V5MQ==";
/// The fixtures' secret id.
pub const SECRET_ID: &str = "secret:d0erdgfmp25c762i8np0";

/// nfs-server-proxy: `NfsInfo("192.168.1.1", 2049, "/srv/export")`.
pub const PY_NFS: &str = include_str!("../fixtures/python-provider-nfs.json");
/// nfs-server-proxy: `NfsInfo("fe80::1", 2049, "/srv")`.
pub const PY_NFS_IPV6: &str = include_str!("../fixtures/python-provider-nfs-ipv6.json");
/// nfs-server-proxy: `NfsInfo("nfs.example.com", None, "/srv/my export")`.
pub const PY_NFS_NO_PORT: &str = include_str!("../fixtures/python-provider-nfs-no-port.json");
/// cephfs-server-proxy after `set_info`.
pub const PY_CEPHFS: &str = include_str!("../fixtures/python-provider-cephfs.json");
/// cephfs-server-proxy after `set_info` with the rotated key.
pub const PY_CEPHFS_ROTATED: &str = include_str!("../fixtures/python-provider-cephfs-rotated.json");
/// lustre-server-proxy after `set_info`.
pub const PY_LUSTRE: &str = include_str!("../fixtures/python-provider-lustre.json");
/// A reactive provider publishing the key inline.
pub const REACTIVE_PLAIN: &str = include_str!("../fixtures/reactive-provider-cephfs-plain.json");
/// The requirer's bags (empty).
pub const PY_REQUIRER: &str = include_str!("../fixtures/python-requirer.json");
/// URIs the Python library rejects, with the reason.
pub const PY_REJECTED: &str = include_str!("../fixtures/rejected-by-python.json");

/// One side's bags (and, for cephfs, its auth secret) as a fixture file holds them.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The application bag.
    pub app: BagData,
    /// The peer application bag.
    pub peer: BagData,
    /// A unit bag.
    pub unit: BagData,
    /// The auth secret, as the owner sees it.
    pub secret: Option<Secret>,
}

/// Reads a fixture file. Fixtures are ours and valid: a bad one is a broken test.
#[allow(clippy::panic)]
pub fn fixture(text: &str) -> Fixture {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => panic!("fixture is not JSON: {e}"),
    };
    let bag = |key: &str| -> BagData {
        serde_json::from_value(value.get(key).cloned().unwrap_or_default()).unwrap_or_default()
    };
    let secret = value.get("secret").map(|s| {
        let id = s["id"].as_str().unwrap_or_default();
        let revisions: BTreeMap<String, BTreeMap<String, String>> =
            serde_json::from_value(s["revisions"].clone()).unwrap_or_default();
        let mut secret = Secret::owned(id, SecretContent::new());
        secret.revisions = revisions
            .into_iter()
            .map(|(rev, content)| (rev.parse().unwrap_or(0), SecretContent::from(content)))
            .collect();
        secret.tracked = Some(secret.latest());
        secret.label = s["label"].as_str().map(str::to_string);
        secret.description = s["description"].as_str().map(str::to_string);
        secret
    });
    Fixture {
        app: bag("app"),
        peer: bag("peer"),
        unit: bag("unit"),
        secret,
    }
}

/// The fixture's secret as the requirer sees it: granted, not yet read.
pub fn granted(secret: &Secret) -> Secret {
    let mut copy = secret.clone();
    copy.owner = None;
    copy.tracked = None;
    copy.label = None;
    copy.description = None;
    copy.grants.clear();
    copy
}

/// The cephfs-server-proxy under test, as unit `n`.
pub fn server(n: u32) -> Harness {
    Harness::new(cephfs_server_proxy::charm(), cephfs_server_proxy::METADATA)
        .config_yaml(cephfs_server_proxy::CONFIG)
        .unit(n)
}

/// The filesystem-client under test on `machine`.
pub fn client(machine: &Rc<Machine>) -> Harness {
    let system: Rc<dyn System> = machine.clone();
    Harness::new(
        filesystem_client::charm_with(system),
        filesystem_client::METADATA,
    )
    .config_yaml(filesystem_client::CONFIG)
}

/// A machine in memory: the mount and umount command lines run, what is mounted, key files,
/// installed mount helpers.
#[derive(Debug, Default)]
pub struct Machine {
    /// Every mount and umount command line (argv joined with spaces).
    pub log: RefCell<Vec<String>>,
    /// Mounted directories.
    pub mounted: RefCell<BTreeSet<String>>,
    /// Key files and their content.
    pub keys: RefCell<BTreeMap<PathBuf, String>>,
    /// Installed mount helpers (`lustre` for `mount.lustre`).
    pub helpers: RefCell<BTreeSet<String>>,
}

impl System for Machine {
    fn run(&self, argv: &[String]) -> Result<CommandOutput, RunError> {
        let target = argv.last().cloned().unwrap_or_default();
        let code = match argv.first().map(String::as_str) {
            Some("mountpoint") => {
                return Ok(CommandOutput {
                    code: Some(if self.mounted.borrow().contains(&target) {
                        0
                    } else {
                        32
                    }),
                    stderr: String::new(),
                });
            }
            Some("mount") => {
                self.mounted.borrow_mut().insert(target);
                0
            }
            Some("umount") if self.mounted.borrow_mut().remove(&target) => 0,
            Some("umount") => 32,
            _ => {
                return Err(RunError::Spawn {
                    program: argv.first().cloned().unwrap_or_default(),
                    detail: "not on this machine".into(),
                });
            }
        };
        self.log.borrow_mut().push(argv.join(" "));
        Ok(CommandOutput {
            code: Some(code),
            stderr: String::new(),
        })
    }

    fn write_key(&self, path: &Path, key: &Key) -> std::io::Result<()> {
        self.keys
            .borrow_mut()
            .insert(path.to_path_buf(), key.expose().to_string());
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> std::io::Result<()> {
        self.keys.borrow_mut().remove(path);
        Ok(())
    }

    fn create_dir(&self, _path: &Path) -> std::io::Result<()> {
        Ok(())
    }

    fn has_mount_helper(&self, fstype: &str) -> bool {
        self.helpers.borrow().contains(fstype)
    }
}

// ----- the fake-mount double -----

/// The environment variable naming the double's state directory.
pub const FAKE_DIR_ENV: &str = "FAKE_MOUNT_DIR";

/// What `fake-mount` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeOutcome {
    /// Exit code.
    pub code: u8,
    /// Printed on stderr.
    pub stderr: String,
}

fn sha256_prefix(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The line `fake-mount` logs for a key file holding `key`: its mode and a digest, never the key.
pub fn key_line(mode: u32, key: &str) -> String {
    format!(
        "secretfile: {mode:o} sha256:{}",
        sha256_prefix(key.as_bytes())
    )
}

/// `fake-mount <program> <args...>` for unit `unit`, its state in `dir`.
///
/// - `mount ... -- <source> <dir>`: logs the command line (and for `secretfile=<f>` the file's
///   mode and a digest of its content), marks `<dir>` mounted; fails with exit 32 when the
///   file `fail-mount` exists in the state directory or `<dir>` is already mounted.
/// - `umount -- <dir>`: logs it; exit 32 ("not mounted") unless `<dir>` is mounted.
/// - `mountpoint -q -- <dir>`: exit 0 when `<dir>` is mounted, 32 otherwise (not logged).
///
/// Each unit has its own log (`<unit>.log`) and mount table (`<unit>.mounted`).
pub fn fake_mount(dir: &Path, unit: &str, argv: &[String]) -> std::io::Result<FakeOutcome> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;
    let name = unit.replace('/', "-");
    std::fs::create_dir_all(dir)?;
    let table = dir.join(format!("{name}.mounted"));
    let mut mounted: Vec<String> = std::fs::read_to_string(&table)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    let target = argv.last().cloned().unwrap_or_default();
    let is_mounted = mounted.contains(&target);
    let ok = FakeOutcome {
        code: 0,
        stderr: String::new(),
    };
    let fail = |stderr: String| FakeOutcome { code: 32, stderr };
    let mut log = Vec::new();
    let outcome = match argv.first().map(String::as_str) {
        Some("mountpoint") => return Ok(if is_mounted { ok } else { fail(String::new()) }),
        Some("mount") => {
            log.push(argv.join(" "));
            let secretfile = argv
                .iter()
                .skip_while(|a| *a != "-o")
                .nth(1)
                .and_then(|opts| opts.split(',').find_map(|o| o.strip_prefix("secretfile=")));
            if let Some(file) = secretfile {
                let mode = std::fs::metadata(file)?.permissions().mode() & 0o777;
                let key = std::fs::read_to_string(file)?;
                log.push(key_line(mode, &key));
            }
            if dir.join("fail-mount").exists() {
                fail("mount error 110 = Connection timed out".into())
            } else if is_mounted {
                fail(format!("mount: {target}: already mounted"))
            } else {
                mounted.push(target);
                ok
            }
        }
        Some("umount") => {
            log.push(argv.join(" "));
            if is_mounted {
                mounted.retain(|m| *m != target);
                ok
            } else {
                fail(format!("umount: {target}: not mounted."))
            }
        }
        other => FakeOutcome {
            code: 127,
            stderr: format!("fake-mount: {} is not faked", other.unwrap_or("")),
        },
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{name}.log")))?;
    for line in log {
        writeln!(file, "{line}")?;
    }
    let mut text = mounted.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    std::fs::write(&table, text)?;
    Ok(outcome)
}
