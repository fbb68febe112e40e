//! The mount command line for each scheme: what the Python charm puts in its autofs map line,
//! as a `mount` invocation (pure functions, no I/O).
//!
//! | scheme | `-t` | source | options (sorted, with the four flags) |
//! | --- | --- | --- | --- |
//! | nfs | `nfs` | `<host>:<path>` (`[v6]:<path>`) | `port=<n>` when the port is set and non-zero |
//! | cephfs | `ceph` | `<user>@<fsid>.<name>=<path>` | `mon_addr=<monitors joined with />`, `secretfile=<key file>` (Python: `secret=<key>`) |
//! | lustre | `lustre` | `<nid>[:<nid>...]:/<fs-name>` | none |
//!
//! The four flags are always all there: `exec`/`noexec`, `suid`/`nosuid`, `dev`/`nodev`,
//! `rw`/`ro`. The command is `mount -t <type> -o <options> -- <source> <mountpoint>`; the cephx
//! key is in a file of mode 0600, never on the command line.

use filesystem_info::{FilesystemInfo, Key, Scheme};
use std::path::{Path, PathBuf};

/// The mount flags from config.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `noexec` instead of `exec`.
    pub noexec: bool,
    /// `nosuid` instead of `suid`.
    pub nosuid: bool,
    /// `nodev` instead of `dev`.
    pub nodev: bool,
    /// `ro` instead of `rw`.
    pub read_only: bool,
}

impl Flags {
    fn options(self) -> [&'static str; 4] {
        [
            if self.noexec { "noexec" } else { "exec" },
            if self.nosuid { "nosuid" } else { "suid" },
            if self.nodev { "nodev" } else { "dev" },
            if self.read_only { "ro" } else { "rw" },
        ]
    }
}

/// One mount, ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountPlan {
    /// The scheme it came from.
    pub scheme: Scheme,
    /// `mount -t` type.
    pub fstype: &'static str,
    /// What to mount.
    pub source: String,
    /// Mount options, sorted.
    pub options: Vec<String>,
    /// Where.
    pub mountpoint: String,
    /// The cephx key and the file it goes to (cephfs only).
    pub key: Option<(PathBuf, Key)>,
}

impl MountPlan {
    /// `mount -t <type> -o <options> -- <source> <mountpoint>`.
    pub fn argv(&self) -> Vec<String> {
        vec![
            "mount".into(),
            "-t".into(),
            self.fstype.into(),
            "-o".into(),
            self.options.join(","),
            "--".into(),
            self.source.clone(),
            self.mountpoint.clone(),
        ]
    }
}

/// `argv` as one line, words single-quoted for a POSIX shell when they hold anything but
/// letters, digits and `_-+./:,=@%[]`.
pub fn display(argv: &[String]) -> String {
    argv.iter()
        .map(|word| {
            let plain = !word.is_empty()
                && word.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(
                            c,
                            '_' | '-' | '+' | '.' | '/' | ':' | ',' | '=' | '@' | '%' | '[' | ']'
                        )
                });
            if plain {
                word.clone()
            } else {
                format!("'{}'", word.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `umount -- <mountpoint>`.
pub fn umount_argv(mountpoint: &str) -> Vec<String> {
    vec!["umount".into(), "--".into(), mountpoint.into()]
}

/// `mountpoint -q -- <dir>`: exits 0 when `dir` is a mount point.
pub fn mountpoint_argv(dir: &str) -> Vec<String> {
    vec!["mountpoint".into(), "-q".into(), "--".into(), dir.into()]
}

/// Letters, digits and `extra`, at least one.
fn word(value: &str, extra: &[u8]) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

/// A path for a mount source: absolute, no control characters.
fn absolute(path: &str) -> bool {
    path.starts_with('/') && !path.chars().any(char::is_control)
}

/// Why a filesystem cannot be mounted (never shows a key; values are shortened).
pub type Unmountable = String;

fn bad(what: &str, value: &str) -> Unmountable {
    format!(
        "{what} `{}` cannot go on a mount command line",
        filesystem_info::wire::shown(value)
    )
}

/// The mount of `info` at `mountpoint`; the cephx key goes to `keyfile`.
pub fn plan(
    info: &FilesystemInfo,
    mountpoint: &str,
    flags: Flags,
    keyfile: &Path,
) -> Result<MountPlan, Unmountable> {
    let mut options: Vec<String> = flags.options().iter().map(|o| o.to_string()).collect();
    let (fstype, source, key) = match info {
        FilesystemInfo::Nfs(nfs) => {
            if !word(&nfs.hostname, b".-_:%") || nfs.hostname.starts_with('-') {
                return Err(bad("nfs host", &nfs.hostname));
            }
            if !absolute(&nfs.path) {
                return Err(bad("nfs path", &nfs.path));
            }
            if let Some(port) = nfs.port.filter(|p| *p != 0) {
                options.push(format!("port={port}"));
            }
            let host = if nfs.hostname.contains(':') {
                format!("[{}]", nfs.hostname)
            } else {
                nfs.hostname.clone()
            };
            ("nfs", format!("{host}:{}", nfs.path), None)
        }
        FilesystemInfo::Cephfs(ceph) => {
            if !word(&ceph.user, b"._-") {
                return Err(bad("ceph user", &ceph.user));
            }
            // The source is `user@fsid.name=path`: no `.` in the fsid, no `=` in the name.
            if !word(&ceph.fsid, b"-") {
                return Err(bad("fsid", &ceph.fsid));
            }
            if !word(&ceph.name, b"._-") {
                return Err(bad("filesystem name", &ceph.name));
            }
            if !absolute(&ceph.path) {
                return Err(bad("path", &ceph.path));
            }
            if ceph.monitor_hosts.is_empty() {
                return Err("no monitor hosts".into());
            }
            if let Some(host) = ceph
                .monitor_hosts
                .iter()
                .find(|h| !word(h, b".-_:[]") || h.starts_with('-'))
            {
                return Err(bad("monitor host", host));
            }
            if !word(ceph.key.expose(), b"+/=") {
                return Err("the cephx key is not base64 text".into());
            }
            options.push(format!("mon_addr={}", ceph.monitor_hosts.join("/")));
            options.push(format!("secretfile={}", keyfile.display()));
            (
                "ceph",
                format!("{}@{}.{}={}", ceph.user, ceph.fsid, ceph.name, ceph.path),
                Some((keyfile.to_path_buf(), ceph.key.clone())),
            )
        }
        FilesystemInfo::Lustre(lustre) => {
            if let Some(nid) = lustre
                .mgs_nids
                .iter()
                .find(|n| !word(n, b".-_@") || n.starts_with('-'))
            {
                return Err(bad("MGS NID", nid));
            }
            if lustre.mgs_nids.is_empty() {
                return Err("no MGS NIDs".into());
            }
            if !word(&lustre.fs_name, b"_-") || lustre.fs_name.starts_with('-') {
                return Err(bad("fs-name", &lustre.fs_name));
            }
            (
                "lustre",
                format!("{}:/{}", lustre.mgs_nids.join(":"), lustre.fs_name),
                None,
            )
        }
    };
    options.sort();
    Ok(MountPlan {
        scheme: info.scheme(),
        fstype,
        source,
        options,
        mountpoint: mountpoint.to_string(),
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use filesystem_info::{CephfsInfo, LustreInfo, NfsInfo};

    const KEY: &str = "R//appdqz4NP4Bxcc5XWrg==";

    fn nfs(host: &str, port: Option<u16>) -> FilesystemInfo {
        FilesystemInfo::Nfs(NfsInfo {
            hostname: host.into(),
            port,
            path: "/srv/data".into(),
        })
    }

    fn ceph() -> CephfsInfo {
        CephfsInfo {
            fsid: "123-abc".into(),
            name: "fs1".into(),
            path: "/vol/a b".into(),
            monitor_hosts: vec!["10.0.0.1:6789".into(), "10.0.0.2:6789".into()],
            user: "fsuser".into(),
            key: Key::new(KEY),
        }
    }

    fn argv(info: &FilesystemInfo, flags: Flags) -> Vec<String> {
        plan(info, "/data", flags, Path::new("/charm/cephfs.key"))
            .unwrap()
            .argv()
    }

    #[test]
    fn the_python_map_lines_as_mount_commands() {
        // Python: `/data -dev,exec,fstype=nfs,port=2049,rw,suid 10.0.0.5:/srv/data`.
        assert_eq!(
            argv(&nfs("10.0.0.5", Some(2049)), Flags::default()).join(" "),
            "mount -t nfs -o dev,exec,port=2049,rw,suid -- 10.0.0.5:/srv/data /data"
        );
        assert_eq!(
            argv(&nfs("fe80::1", None), Flags::default()).join(" "),
            "mount -t nfs -o dev,exec,rw,suid -- [fe80::1]:/srv/data /data"
        );
        let all = Flags {
            noexec: true,
            nosuid: true,
            nodev: true,
            read_only: true,
        };
        assert_eq!(
            argv(&nfs("h", Some(0)), all)[4],
            "nodev,noexec,nosuid,ro",
            "port 0 is no port"
        );
        let argv = argv(&FilesystemInfo::Cephfs(ceph()), Flags::default());
        assert_eq!(
            argv,
            [
                "mount",
                "-t",
                "ceph",
                "-o",
                "dev,exec,mon_addr=10.0.0.1:6789/10.0.0.2:6789,rw,secretfile=/charm/cephfs.key,suid",
                "--",
                "fsuser@123-abc.fs1=/vol/a b",
                "/data"
            ]
        );
        assert!(
            !argv.iter().any(|a| a.contains(KEY)),
            "the key is never an argument"
        );
        let lustre = FilesystemInfo::Lustre(LustreInfo {
            mgs_nids: vec!["192.168.227.11@tcp1".into(), "192.168.227.12@tcp1".into()],
            fs_name: "lustre".into(),
        });
        assert_eq!(
            super::plan(&lustre, "/data", Flags::default(), Path::new("/k"))
                .unwrap()
                .argv()
                .join(" "),
            "mount -t lustre -o dev,exec,rw,suid -- 192.168.227.11@tcp1:192.168.227.12@tcp1:/lustre /data"
        );
        assert_eq!(umount_argv("/data"), ["umount", "--", "/data"]);
        let shown = display(
            &plan(
                &FilesystemInfo::Cephfs(ceph()),
                "/data",
                Flags::default(),
                Path::new("/k"),
            )
            .unwrap()
            .argv(),
        );
        assert!(
            shown.ends_with(" -- 'fsuser@123-abc.fs1=/vol/a b' /data"),
            "{shown}"
        );
        assert_eq!(
            display(&["it's".to_string(), String::new()]),
            r"'it'\''s' ''"
        );
        assert_eq!(
            mountpoint_argv("/data"),
            ["mountpoint", "-q", "--", "/data"]
        );
    }

    #[test]
    fn what_would_break_the_command_line_is_refused() {
        let keyfile = Path::new("/k");
        let refuse = |info: FilesystemInfo, expected: &str| {
            let why = plan(&info, "/data", Flags::default(), keyfile).unwrap_err();
            assert!(why.contains(expected), "{why}");
            assert!(!why.contains(KEY), "{why}");
        };
        refuse(nfs("a b", None), "nfs host");
        refuse(nfs("h,ro", None), "nfs host");
        let mut relative = match nfs("h", None) {
            FilesystemInfo::Nfs(n) => n,
            _ => unreachable!(),
        };
        relative.path = "#x".into();
        refuse(FilesystemInfo::Nfs(relative), "nfs path");
        type Change = Box<dyn Fn(&mut CephfsInfo)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|c| c.user = "u,ro".into()), "ceph user"),
            (Box::new(|c| c.fsid = "a.b".into()), "fsid"),
            (Box::new(|c| c.name = "n=x".into()), "filesystem name"),
            (Box::new(|c| c.path = "rel".into()), "path"),
            (Box::new(|c| c.monitor_hosts = vec![]), "no monitor hosts"),
            (
                Box::new(|c| c.monitor_hosts = vec!["a/b".into()]),
                "monitor host",
            ),
            (
                Box::new(|c| c.monitor_hosts = vec!["a,ro".into()]),
                "monitor host",
            ),
            (Box::new(|c| c.key = Key::new("not base64!")), "not base64"),
        ];
        for (change, expected) in cases {
            let mut c = ceph();
            change(&mut c);
            refuse(FilesystemInfo::Cephfs(c), expected);
        }
        refuse(
            FilesystemInfo::Lustre(LustreInfo {
                mgs_nids: vec!["a:b".into()],
                fs_name: "l".into(),
            }),
            "MGS NID",
        );
        refuse(
            FilesystemInfo::Lustre(LustreInfo {
                mgs_nids: vec!["n@tcp".into()],
                fs_name: "a/b".into(),
            }),
            "fs-name",
        );
    }
}
