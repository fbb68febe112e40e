//! Helpers of the `cephfs_share` contract tests: the Python fixtures, the two charms under test,
//! recording doubles of the mount commands, and a by-hand relation between one server unit and
//! one client unit (bags and granted secrets copied across after each run).

use charm::secret::SecretContent;
use charm::{BagData, Event};
use charm_testing::{Harness, Output, Relation, Secret, State};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The endpoint on both sides.
pub const ENDPOINT: &str = "cephfs-share";
/// The server application.
pub const SERVER_APP: &str = "cephfs-server-proxy";
/// The client application.
pub const CLIENT_APP: &str = "cephfs-client";
/// Fixture values of the Python library's unit tests.
pub const FSID: &str = "123456789-0abc-defg-hijk-lmnopqrstuvw";
/// The filesystem name.
pub const NAME: &str = "filesystem";
/// The exported path.
pub const PATH: &str = "/data";
/// The monitors.
pub const MONITOR_HOSTS: [&str; 3] = ["192.168.1.1:6789", "192.168.1.2:6789", "192.168.1.3:6789"];
/// The cephx user.
pub const USERNAME: &str = "user";
/// The cephx key.
pub const KEY: &str = "R//appdqz4NP4Bxcc5XWrg==";
/// The key after rotation.
pub const NEW_KEY: &str = "AQBzYmFyYmF6cXV4c2VjcmV0a2V5MQ==";
/// `share_info` exactly as Python's `json.dumps(asdict(share))` writes it for the values above.
pub const SHARE_INFO: &str = r#"{"fsid": "123456789-0abc-defg-hijk-lmnopqrstuvw", "name": "filesystem", "path": "/data", "monitor_hosts": ["192.168.1.1:6789", "192.168.1.2:6789", "192.168.1.3:6789"]}"#;

/// The Python provider after `set_share` (secret mode).
pub const PY_PROVIDER_SECRET: &str = include_str!("../fixtures/python-provider-secret.json");
/// The Python provider after a second `set_share` with a new key.
pub const PY_PROVIDER_ROTATED: &str = include_str!("../fixtures/python-provider-rotated.json");
/// A reactive provider sending the auth inline.
pub const PY_PROVIDER_PLAIN: &str = include_str!("../fixtures/python-provider-plain.json");
/// The Python requirer after `request_share` and one relation-changed.
pub const PY_REQUIRER: &str = include_str!("../fixtures/python-requirer.json");

/// One side's bags (and, for a provider, its auth secret) as a fixture file holds them.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The application bag.
    pub app: BagData,
    /// The (leader) unit bag.
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
        unit: bag("unit"),
        secret,
    }
}

/// The cephfs-server-proxy under test, as unit `n`.
pub fn server(n: u32) -> Harness {
    Harness::new(cephfs_server_proxy::charm(), cephfs_server_proxy::METADATA)
        .config_yaml(cephfs_server_proxy::CONFIG)
        .unit(n)
}

/// The cephfs-client under test, as unit `n`.
pub fn client(n: u32) -> Harness {
    Harness::new(cephfs_client::charm(), cephfs_client::METADATA)
        .config_yaml(cephfs_client::CONFIG)
        .unit(n)
}

/// A server leader configured with the fixture share.
pub fn configured_server() -> State {
    State::default()
        .leader(true)
        .config("fsid", FSID)
        .config("sharepoint", format!("{NAME}:{PATH}"))
        .config("monitor-hosts", MONITOR_HOSTS.join(" "))
}

/// A private directory with recording doubles of the mount and umount commands.
pub struct Sandbox {
    dir: PathBuf,
}

/// The double: `sh double.sh <log> <exit code> <mountpoint> <argv...>` appends its argv, and the
/// key file's mode and checksum (never the key), to the log; it fails while `<log>.fail` exists.
/// When it succeeds it keeps `mountinfo` (next to the log) as the kernel would: `mount.log`
/// adds the mountpoint, `umount.log` removes it.
const DOUBLE: &str = r#"log="$1"; code="$2"; mp="$3"; shift 3
[ -e "$log.fail" ] && code=1
echo "argv: $*" >> "$log"
for arg in "$@"; do
  case "$arg" in
    *secretfile=*)
      f="${arg#*secretfile=}"; f="${f%%,*}"
      echo "secretfile: $(stat -c %a "$f") $(cksum < "$f")" >> "$log";;
  esac
done
table="$(dirname "$log")/mountinfo"
if [ "$code" = 0 ]; then
  case "$(basename "$log")" in
    mount.log) echo "100 1 0:99 / $mp rw - ceph share rw" >> "$table";;
    umount.log) if [ -f "$table" ]; then grep -vF " $mp rw - " "$table" > "$table.new"; mv "$table.new" "$table"; fi;;
  esac
fi
exit "$code"
"#;

impl Sandbox {
    /// A fresh sandbox named after the test.
    pub fn new(name: &str) -> Sandbox {
        let dir =
            std::env::temp_dir().join(format!("cephfs-contract-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("double.sh"), DOUBLE);
        Sandbox { dir }
    }

    /// A path inside the sandbox.
    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// What the double logged under `name` (`mount.log`, `umount.log`).
    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    /// The client's mountpoint (also its requested share name).
    pub fn mountpoint(&self) -> String {
        self.path("mnt")
    }

    /// The client's key file (unit `cephfs-client/0`).
    pub fn secretfile(&self) -> String {
        self.secretfile_of("cephfs-client/0")
    }

    /// The key file of client unit `unit`.
    pub fn secretfile_of(&self, unit: &str) -> String {
        self.path(&format!("keys/{}.secret", unit.replace('/', "-")))
    }

    fn command(&self, log: &str, args: &str) -> String {
        format!(
            "sh {} {} 0 {{mountpoint}} {args}",
            self.path("double.sh"),
            self.path(log)
        )
    }

    /// Whether the doubles' mount table lists `mountpoint`.
    pub fn is_mounted(&self, mountpoint: &str) -> bool {
        self.log("mountinfo")
            .lines()
            .any(|l| l.contains(&format!(" {mountpoint} rw - ")))
    }

    /// Makes the double logging to `log` fail (exit 1) until [`Sandbox::heal`].
    pub fn break_command(&self, log: &str) {
        let _ = std::fs::write(self.path(&format!("{log}.fail")), "");
    }

    /// Makes the double logging to `log` succeed again.
    pub fn heal(&self, log: &str) {
        let _ = std::fs::remove_file(self.path(&format!("{log}.fail")));
    }

    /// The client config that mounts in the sandbox with the doubles (`mount.log`, `umount.log`).
    pub fn client_config(&self) -> Vec<(String, String)> {
        vec![
            ("mountpoint".into(), self.mountpoint()),
            (
                "mount-command".into(),
                self.command(
                    "mount.log",
                    "-t ceph {mons}:{path} {mountpoint} -o name={user},secretfile={secretfile},fsid={fsid},mds_namespace={name}",
                ),
            ),
            (
                "umount-command".into(),
                self.command("umount.log", "{mountpoint}"),
            ),
            ("secret-dir".into(), self.path("keys")),
            ("mount-table".into(), self.path("mountinfo")),
        ]
    }

    /// A client unit configured to mount in the sandbox with the doubles.
    pub fn client_state(&self) -> State {
        self.client_config()
            .into_iter()
            .fold(State::default(), |state, (key, value)| {
                state.config(&key, value)
            })
    }

    /// `cksum` of `text`, as the double records a key file.
    pub fn cksum(&self, text: &str) -> String {
        let file = self.dir.join("cksum-input");
        let _ = std::fs::write(&file, text);
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("cksum < {}", file.display()))
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One relation between a server unit and a client unit, with Juju's part played by hand:
/// after each run, the bags a side wrote and the secrets granted to the relation are copied
/// to the other side.
#[derive(Debug, Clone)]
pub struct Link {
    /// The relation id (the same on both sides).
    pub id: u32,
    /// The server unit's model.
    pub server: State,
    /// The client unit's model.
    pub client: State,
}

fn relation_mut(state: &mut State, id: u32) -> Option<&mut Relation> {
    state.relations.iter_mut().find(|r| r.id == id)
}

impl Link {
    /// Relates a server (unit 0 of [`SERVER_APP`]) and a client (unit 0 of [`CLIENT_APP`]).
    pub fn new(id: u32, server: State, client: State) -> Link {
        let server =
            server.relation(Relation::new(ENDPOINT, id, CLIENT_APP).remote_unit(0, BagData::new()));
        let client =
            client.relation(Relation::new(ENDPOINT, id, SERVER_APP).remote_unit(0, BagData::new()));
        Link { id, server, client }
    }

    /// The relation as the server sees it (for building its events).
    pub fn server_rel(&self) -> Relation {
        self.server
            .rel(self.id)
            .cloned()
            .unwrap_or_else(|| Relation::new(ENDPOINT, self.id, CLIENT_APP))
    }

    /// The relation as the client sees it.
    pub fn client_rel(&self) -> Relation {
        self.client
            .rel(self.id)
            .cloned()
            .unwrap_or_else(|| Relation::new(ENDPOINT, self.id, SERVER_APP))
    }

    /// Copies what the server wrote (and the secrets it granted to this relation) to the client.
    pub fn to_client(&mut self) {
        let Some(from) = self.server.rel(self.id).cloned() else {
            return;
        };
        if let Some(to) = relation_mut(&mut self.client, self.id) {
            to.remote_app_data = from.local_app_data.clone();
            let units: Vec<u32> = to.remote_units.keys().copied().collect();
            for n in units {
                to.remote_units.insert(n, from.local_unit_data.clone());
            }
        }
        let granted: Vec<Secret> = self
            .server
            .secrets
            .iter()
            .filter(|s| s.grants.contains_key(&self.id))
            .cloned()
            .collect();
        // Secrets the client had from this server but that no longer exist disappear.
        let server_ids: Vec<String> = self.server.secrets.iter().map(|s| s.id.clone()).collect();
        self.client
            .secrets
            .retain(|s| s.owner.is_some() || server_ids.contains(&s.id));
        for secret in granted {
            match self.client.secrets.iter_mut().find(|s| s.id == secret.id) {
                Some(copy) => copy.revisions = secret.revisions.clone(),
                None => {
                    let mut copy = secret.clone();
                    copy.owner = None;
                    copy.tracked = None;
                    copy.label = None;
                    copy.description = None;
                    copy.grants = BTreeMap::new();
                    self.client.secrets.push(copy);
                }
            }
        }
    }

    /// Copies what the client wrote to the server.
    pub fn to_server(&mut self) {
        let Some(from) = self.client.rel(self.id).cloned() else {
            return;
        };
        if let Some(to) = relation_mut(&mut self.server, self.id) {
            to.remote_app_data = from.local_app_data.clone();
            let units: Vec<u32> = to.remote_units.keys().copied().collect();
            for n in units {
                to.remote_units.insert(n, from.local_unit_data.clone());
            }
        }
    }

    /// Runs an event on the server unit and delivers what it wrote.
    pub fn run_server(&mut self, harness: &Harness, event: Event) -> Output {
        let out = harness.run(event, self.server.clone());
        self.server = out.state.clone();
        self.to_client();
        out
    }

    /// Runs an action on the server unit and delivers what it wrote.
    pub fn action_server(
        &mut self,
        harness: &Harness,
        name: &str,
        params: serde_json::Value,
    ) -> Output {
        let out = harness.run_action(name, params, self.server.clone());
        self.server = out.state.clone();
        self.to_client();
        out
    }

    /// Runs an event on the client unit and delivers what it wrote.
    pub fn run_client(&mut self, harness: &Harness, event: Event) -> Output {
        let out = harness.run(event, self.client.clone());
        self.client = out.state.clone();
        self.to_server();
        out
    }
}
