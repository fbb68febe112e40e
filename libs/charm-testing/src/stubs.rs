//! Stub hook tools on disk, to run a real compiled charm (or the real backend) without Juju.
//!
//! Each stub is a small `/bin/sh` script. A call appends its argv to a log, saves stdin when the
//! call reads it (`--file -`), records the mode and content of every `key#file=<path>` argument
//! (where secret content travels), prints a canned answer and exits with a chosen code.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Every hook tool the framework calls, and `unit-get` for the escape hatch's tests.
pub const HOOK_TOOLS: &[&str] = &[
    "relation-ids",
    "relation-list",
    "relation-get",
    "relation-set",
    "relation-model-get",
    "config-get",
    "is-leader",
    "status-get",
    "status-set",
    "application-version-set",
    "juju-log",
    "action-get",
    "action-set",
    "action-log",
    "action-fail",
    "state-get",
    "state-set",
    "state-delete",
    "secret-add",
    "secret-get",
    "secret-info-get",
    "secret-set",
    "secret-grant",
    "secret-revoke",
    "secret-remove",
    "secret-ids",
    "open-port",
    "close-port",
    "opened-ports",
    "goal-state",
    "network-get",
    "storage-get",
    "storage-list",
    "storage-add",
    "resource-get",
    "credential-get",
    "juju-reboot",
    "unit-get",
];

/// A directory of stub hook tools; removed when dropped.
#[derive(Debug)]
pub struct StubTools {
    dir: PathBuf,
}

impl StubTools {
    /// Creates the stubs in a fresh temporary directory.
    pub fn new() -> std::io::Result<StubTools> {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "charm-stub-tools-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["bin", "out", "err", "code"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        // Answers: out/<tool>.--app.<last arg> (calls with --app), then out/<tool>.<last arg>, then
        // out/<tool>; a `/` of the last argument is `%` in the file name.
        let script = format!(
            r#"#!/bin/sh
d='{dir}'
t=$(basename "$0")
line="$t"
last=""
for a in "$@"; do
  line="$line	$a"
  last="$a"
  case "$a" in
    *#file=*) f="${{a#*#file=}}"; printf '%s %s %s\n' "${{a%%#file=*}}" "$(stat -c %a "$f")" "$(cat "$f")" >> "$d/files" ;;
  esac
done
printf '%s\n' "$line" >> "$d/calls"
case "$*" in *"--file -"*) cat >> "$d/stdin"; printf '\n' >> "$d/stdin" ;; esac
key=$(printf '%s' "$last" | tr '/' '%')
case " $* " in *" --app "*) app="$d/out/$t.--app.$key" ;; *) app="" ;; esac
if [ -n "$app" ] && [ -f "$app" ]; then cat "$app"; elif [ -n "$last" ] && [ -f "$d/out/$t.$key" ]; then cat "$d/out/$t.$key"; elif [ -f "$d/out/$t" ]; then cat "$d/out/$t"; fi
[ -f "$d/err/$t" ] && cat "$d/err/$t" >&2
[ -f "$d/code/$t" ] && exit "$(cat "$d/code/$t")"
exit 0
"#,
            dir = dir.display()
        );
        for tool in HOOK_TOOLS {
            let path = dir.join("bin").join(tool);
            std::fs::write(&path, &script)?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
        Ok(StubTools { dir })
    }

    /// The directory holding the tools (put it first on the charm's `PATH`).
    pub fn bin(&self) -> PathBuf {
        self.dir.join("bin")
    }

    /// A scratch directory that is removed with the stubs.
    pub fn root(&self) -> &Path {
        &self.dir
    }

    /// What `tool` prints on stdout (for every call, unless a per-argument answer matches).
    pub fn answer(&self, tool: &str, stdout: &str) -> std::io::Result<()> {
        std::fs::write(self.dir.join("out").join(tool), stdout)
    }

    /// What `tool` prints when its last argument (the positional value after `--`, such as
    /// `relation-ids`' endpoint or `relation-get`'s unit) is `last_arg`.
    pub fn answer_for(&self, tool: &str, last_arg: &str, stdout: &str) -> std::io::Result<()> {
        // A unit name's `/` cannot be in a file name: the stub looks it up as `%`.
        let key = last_arg.replace('/', "%");
        std::fs::write(self.dir.join("out").join(format!("{tool}.{key}")), stdout)
    }

    /// What `tool` prints when it is called with `--app` and its last argument is `last_arg`
    /// (e.g. `relation-list --app -r db:1`, whose plain call has the same last argument).
    pub fn answer_for_app(&self, tool: &str, last_arg: &str, stdout: &str) -> std::io::Result<()> {
        let key = last_arg.replace('/', "%");
        std::fs::write(
            self.dir.join("out").join(format!("{tool}.--app.{key}")),
            stdout,
        )
    }

    /// Makes `tool` exit with `code` and print `stderr`.
    pub fn fail(&self, tool: &str, code: i32, stderr: &str) -> std::io::Result<()> {
        std::fs::write(self.dir.join("code").join(tool), code.to_string())?;
        std::fs::write(self.dir.join("err").join(tool), stderr)
    }

    /// Makes `tool` succeed again.
    pub fn heal(&self, tool: &str) {
        let _ = std::fs::remove_file(self.dir.join("code").join(tool));
        let _ = std::fs::remove_file(self.dir.join("err").join(tool));
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    /// Every call so far as argv words, tool name first.
    pub fn calls(&self) -> Vec<Vec<String>> {
        self.read("calls")
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect()
    }

    /// The last call.
    pub fn last(&self) -> Vec<String> {
        self.calls().pop().unwrap_or_default()
    }

    /// Forgets the calls recorded so far.
    pub fn clear_calls(&self) {
        for name in ["calls", "stdin", "files"] {
            let _ = std::fs::remove_file(self.dir.join(name));
        }
    }

    /// Everything written to the tools' stdin, one line per call.
    pub fn stdin(&self) -> String {
        self.read("stdin")
    }

    /// `key mode content` of every file passed as `key#file=<path>`.
    pub fn files(&self) -> String {
        self.read("files")
    }
}

impl Drop for StubTools {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
