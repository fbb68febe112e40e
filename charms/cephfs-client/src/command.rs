//! The mount and unmount commands: templates from config, run without a shell, bounded by
//! [`charm_exec`] (a timeout killing the command's whole process group, bounded output, the key
//! masked before the output is cut).

use charm::{Classify, Outcome};
use charm_exec::{Exec, ExecError};
use std::time::Duration;

/// The placeholders a command template may use.
pub const PLACEHOLDERS: [&str; 7] = [
    "mons",
    "path",
    "mountpoint",
    "user",
    "secretfile",
    "fsid",
    "name",
];

/// Longest stderr excerpt kept in an error message.
const STDERR_LIMIT: usize = 400;
/// How long a mount or unmount may take (the kernel client gives up on unreachable monitors
/// after 60 s by default) before its process group is killed and the hook fails for a retry.
pub const TIMEOUT: Duration = Duration::from_secs(180);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Slot(&'static str),
}

/// A command line from config: words (split on whitespace) made of text and `{placeholders}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandTemplate {
    option: &'static str,
    words: Vec<Vec<Piece>>,
}

/// A command template that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// Nothing to run.
    #[error("config option {option} is empty")]
    Empty {
        /// The config option.
        option: &'static str,
    },
    /// A `{name}` that is not a placeholder.
    #[error(
        "config option {option}: unknown placeholder {{{name}}} (known: {{mons}}, {{path}}, {{mountpoint}}, {{user}}, {{secretfile}}, {{fsid}}, {{name}})"
    )]
    Unknown {
        /// The config option.
        option: &'static str,
        /// The unknown name.
        name: String,
    },
    /// A `{` without `}` or the reverse.
    #[error("config option {option}: unbalanced '{{' or '}}'")]
    Unbalanced {
        /// The config option.
        option: &'static str,
    },
}

impl Classify for TemplateError {
    fn outcome(&self) -> Outcome {
        Outcome::Blocked
    }
}

/// The values the placeholders stand for.
#[derive(Debug, Clone, Copy)]
pub struct Values<'a> {
    /// Monitor addresses joined with `,`.
    pub mons: &'a str,
    /// The path inside the filesystem.
    pub path: &'a str,
    /// Where to mount.
    pub mountpoint: &'a str,
    /// The Ceph user.
    pub user: &'a str,
    /// The file holding the key.
    pub secretfile: &'a str,
    /// The Ceph cluster id.
    pub fsid: &'a str,
    /// The filesystem name.
    pub name: &'a str,
}

impl Values<'_> {
    fn get(&self, slot: &str) -> &str {
        match slot {
            "mons" => self.mons,
            "path" => self.path,
            "mountpoint" => self.mountpoint,
            "user" => self.user,
            "secretfile" => self.secretfile,
            "fsid" => self.fsid,
            "name" => self.name,
            _ => "",
        }
    }
}

impl CommandTemplate {
    /// Parses the value of config option `option`.
    pub fn parse(option: &'static str, text: &str) -> Result<CommandTemplate, TemplateError> {
        let words = text
            .split_whitespace()
            .map(|word| parse_word(option, word))
            .collect::<Result<Vec<_>, _>>()?;
        if words.is_empty() {
            return Err(TemplateError::Empty { option });
        }
        Ok(CommandTemplate { option, words })
    }

    /// The config option it came from.
    pub fn option(&self) -> &'static str {
        self.option
    }

    /// The argv with the placeholders filled in (a value never splits into several arguments).
    pub fn render(&self, values: &Values<'_>) -> Vec<String> {
        self.words
            .iter()
            .map(|pieces| {
                pieces
                    .iter()
                    .map(|p| match p {
                        Piece::Text(t) => t.as_str(),
                        Piece::Slot(s) => values.get(s),
                    })
                    .collect()
            })
            .collect()
    }
}

fn parse_word(option: &'static str, word: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut rest = word;
    while !rest.is_empty() {
        match rest.find(['{', '}']) {
            None => {
                pieces.push(Piece::Text(rest.to_string()));
                break;
            }
            Some(at) => {
                if at > 0 {
                    pieces.push(Piece::Text(rest[..at].to_string()));
                }
                let tail = &rest[at..];
                if tail.starts_with('}') {
                    return Err(TemplateError::Unbalanced { option });
                }
                let Some(end) = tail.find('}') else {
                    return Err(TemplateError::Unbalanced { option });
                };
                let name = &tail[1..end];
                let Some(slot) = PLACEHOLDERS.iter().find(|p| **p == name) else {
                    return Err(TemplateError::Unknown {
                        option,
                        name: name.chars().take(32).collect(),
                    });
                };
                pieces.push(Piece::Slot(slot));
                rest = &tail[end + 1..];
            }
        }
    }
    Ok(pieces)
}

/// A mount or unmount command that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The program could not be started.
    #[error("{option}: cannot run {program:?}: {detail}")]
    Spawn {
        /// The config option of the command.
        option: &'static str,
        /// The program.
        program: String,
        /// Why.
        detail: String,
    },
    /// The program exited unsuccessfully.
    #[error("{option}: {program:?} failed ({status}): {stderr}")]
    Failed {
        /// The config option of the command.
        option: &'static str,
        /// The program.
        program: String,
        /// Exit status.
        status: String,
        /// What it printed on stderr (the key masked, then shortened).
        stderr: String,
    },
    /// The program did not finish in time; its process group was killed.
    #[error("{option}: {program:?} did not finish within {} s and was killed: {stderr}", TIMEOUT.as_secs())]
    TimedOut {
        /// The config option of the command.
        option: &'static str,
        /// The program.
        program: String,
        /// What it printed on stderr until then (the key masked, then shortened).
        stderr: String,
    },
    /// The command line does not fit in Linux's limits (checked before running anything).
    #[error("{option}: {detail}")]
    TooLong {
        /// The config option of the command.
        option: &'static str,
        /// Which argument, and the limit.
        detail: String,
    },
}

impl Classify for CommandError {
    fn outcome(&self) -> Outcome {
        match self {
            // Mounts fail for reasons a retry can fix (network, busy mountpoint, a hung server).
            CommandError::Spawn { .. }
            | CommandError::Failed { .. }
            | CommandError::TimedOut { .. } => Outcome::Fail,
            // The same values give the same command line: a human must change them.
            CommandError::TooLong { .. } => Outcome::Blocked,
        }
    }
}

/// `argv` as one line: words joined with spaces, single-quoted for a POSIX shell when they hold
/// anything but letters, digits and `_-+./:,=@%`.
pub fn display(argv: &[String]) -> String {
    argv.iter()
        .map(|word| {
            let plain = !word.is_empty()
                && word.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(c, '_' | '-' | '+' | '.' | '/' | ':' | ',' | '=' | '@' | '%')
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

/// Runs `argv` (no shell, stdin closed, [`TIMEOUT`]); `redact` is masked in what the command
/// printed before that is shortened for an error message.
pub fn run(option: &'static str, argv: &[String], redact: &str) -> Result<(), CommandError> {
    run_with(option, argv, redact, TIMEOUT)
}

/// [`run`] with another timeout.
pub fn run_with(
    option: &'static str,
    argv: &[String],
    redact: &str,
    timeout: Duration,
) -> Result<(), CommandError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(CommandError::Spawn {
            option,
            program: String::new(),
            detail: "empty command".into(),
        });
    };
    let line = display(argv);
    tracing::debug!("{option}: running {line}");
    let exec = Exec::new(program)
        .args(args.iter().cloned())
        .timeout(timeout)
        .stdout_limit(STDERR_LIMIT)
        .stderr_limit(STDERR_LIMIT)
        .redact(redact);
    let excerpt = |c: &charm_exec::Captured| {
        let text = c.text();
        let text = text.trim();
        if c.truncated() {
            format!("{text}...")
        } else {
            text.to_string()
        }
    };
    let output = exec.run().map_err(|e| match e {
        ExecError::TimedOut { stderr, .. } => CommandError::TimedOut {
            option,
            program: program.clone(),
            stderr: excerpt(&stderr),
        },
        ExecError::ArgumentTooLong { .. } | ExecError::ArgumentListTooLong { .. } => {
            CommandError::TooLong {
                option,
                detail: e.to_string(),
            }
        }
        ExecError::Spawn { source, .. } | ExecError::Wait { source, .. } => CommandError::Spawn {
            option,
            program: program.clone(),
            detail: source.to_string(),
        },
    })?;
    if output.status.success() {
        return Ok(());
    }
    Err(CommandError::Failed {
        option,
        program: program.clone(),
        status: output.status.to_string(),
        stderr: excerpt(&output.stderr),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values<'static> {
        Values {
            mons: "192.168.1.1:6789,192.168.1.2:6789",
            path: "/data",
            mountpoint: "/mnt/my share",
            user: "user",
            secretfile: "/etc/ceph/cephfs-client-0.secret",
            fsid: "123456789-0abc-defg-hijk-lmnopqrstuvw",
            name: "filesystem",
        }
    }

    #[test]
    fn the_default_mount_line() {
        let config: charm::meta::ConfigMeta = charm_yaml::from_str(crate::CONFIG).unwrap();
        let default = config.defaults()["mount-command"]
            .as_str()
            .unwrap()
            .to_string();
        let t = CommandTemplate::parse("mount-command", &default).unwrap();
        assert_eq!(
            t.render(&values()),
            vec![
                "mount",
                "-t",
                "ceph",
                "192.168.1.1:6789,192.168.1.2:6789:/data",
                "/mnt/my share",
                "-o",
                "name=user,secretfile=/etc/ceph/cephfs-client-0.secret,fsid=123456789-0abc-defg-hijk-lmnopqrstuvw,mds_namespace=filesystem",
            ]
        );
        let default = config.defaults()["umount-command"]
            .as_str()
            .unwrap()
            .to_string();
        let t = CommandTemplate::parse("umount-command", &default).unwrap();
        assert_eq!(t.render(&values()), vec!["umount", "/mnt/my share"]);
    }

    #[test]
    fn command_lines_are_shown_as_a_shell_would_read_them() {
        let argv: Vec<String> = ["mount", "/mnt/my share", "it's", "", "a=b,c:/d"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            display(&argv),
            r"mount '/mnt/my share' 'it'\''s' '' a=b,c:/d"
        );
    }

    #[test]
    fn bad_templates() {
        assert_eq!(
            CommandTemplate::parse("mount-command", "  "),
            Err(TemplateError::Empty {
                option: "mount-command"
            })
        );
        let err = CommandTemplate::parse("mount-command", "mount -o secret={key}").unwrap_err();
        assert_eq!(
            err,
            TemplateError::Unknown {
                option: "mount-command",
                name: "key".into()
            }
        );
        assert!(err.to_string().contains("unknown placeholder {key}"));
        for bad in ["mount {path", "mount path}", "mount }{"] {
            assert_eq!(
                CommandTemplate::parse("mount-command", bad),
                Err(TemplateError::Unbalanced {
                    option: "mount-command"
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn failures_are_reported_without_the_secret() {
        let argv: Vec<String> = ["sh", "-c", "echo oops s3cr3t >&2; exit 3"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let err = run("mount-command", &argv, "s3cr3t").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("oops <redacted>"), "{text}");
        assert!(text.contains("exit status: 3"), "{text}");
        assert_eq!(err.outcome(), Outcome::Fail);
        let argv = vec!["/nonexistent/mount".to_string()];
        assert!(matches!(
            run("mount-command", &argv, ""),
            Err(CommandError::Spawn { .. })
        ));
        assert!(run("mount-command", &["true".to_string()], "").is_ok());
    }

    #[test]
    fn the_key_is_masked_before_stderr_is_shortened() {
        // The key straddles the 400-byte cut: shortening first would show its first bytes.
        let key = "AQBzYmFyYmF6cXV4c2VjcmV0a2V5MQ==";
        let script = format!("printf '%0390d %s more' 0 '{key}' >&2; exit 1");
        let argv: Vec<String> = ["sh", "-c", &script]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let text = run("mount-command", &argv, key).unwrap_err().to_string();
        assert!(text.contains(" <redacted>"), "{text}");
        assert!(!text.contains("AQB"), "{text}");
    }

    #[test]
    fn a_hanging_command_is_killed_with_its_children() {
        let argv: Vec<String> = ["sh", "-c", "sleep 600 & echo waiting >&2; wait"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let err = run_with("umount-command", &argv, "", Duration::from_secs(1)).unwrap_err();
        assert!(
            matches!(&err, CommandError::TimedOut { stderr, .. } if stderr == "waiting"),
            "{err:?}"
        );
        assert_eq!(err.outcome(), Outcome::Fail);
    }

    #[test]
    fn a_command_line_too_long_for_linux_is_refused_before_running() {
        let argv = vec!["mount".to_string(), "m".repeat(200_000)];
        let err = run("mount-command", &argv, "").unwrap_err();
        assert!(matches!(err, CommandError::TooLong { .. }), "{err:?}");
        assert_eq!(err.outcome(), Outcome::Blocked);
    }
}
