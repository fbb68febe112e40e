//! Tests of `cli.rs`.

use super::*;
use std::cell::RefCell;

const LIST: &str = r#"[
      {"name": "n2", "address": "10.0.0.2:6443", "role": "voter", "fingerprint": "ab", "status": "ONLINE"},
      {"name": "n1", "address": "10.0.0.1:6443", "role": "voter", "status": "UNREACHABLE"},
      {"name": "n3", "address": "10.0.0.3:6443", "role": "stand-by", "status": "ONLINE"},
      {"name": "n0", "address": "10.0.0.4:6443", "role": "spare", "status": "NEEDS UPGRADE"}
    ]"#;

#[test]
fn list_output_parses_into_members() {
    let m = Members::parse(LIST).unwrap();
    assert_eq!(m.0.len(), 4);
    assert_eq!(m.0[0].address.as_deref(), Some("10.0.0.2:6443"));
    assert_eq!(m.0[3].status, MemberStatus::NeedsUpgrade);
    // n1 is a voter but unreachable; n0 and n3 are not voters.
    assert_eq!(m.communicator(), Some("n2"));
    assert!(!m.any_pending());
    assert!(Members::parse("[]").unwrap().communicator().is_none());
}

#[test]
fn bad_list_output_is_a_typed_error() {
    for (text, needle) in [
        ("Error: daemon not ready", "not JSON"),
        ("{\"name\": \"n1\"}", "not a JSON array"),
        (
            r#"[{"role": "voter", "status": "ONLINE"}]"#,
            "missing field `name`",
        ),
        (
            r#"[{"name": "n1", "status": "ONLINE"}]"#,
            "missing field `role`",
        ),
        (
            r#"[{"name": "n1", "role": "voter"}]"#,
            "missing field `status`",
        ),
        (
            r#"[{"name": "n1", "role": "leader", "status": "ONLINE"}]"#,
            "unknown variant `leader`",
        ),
        (
            r#"[{"name": 7, "role": "voter", "status": "ONLINE"}]"#,
            "entry 0",
        ),
        ("", "not JSON"),
    ] {
        let err = Members::parse(text).unwrap_err();
        assert!(
            matches!(
                err,
                CliError::BadOutput {
                    subcommand: "list",
                    ..
                }
            ),
            "{text}"
        );
        assert!(err.to_string().contains(needle), "{text}: {err}");
        assert_eq!(err.outcome(), Outcome::Blocked);
    }
}

type Calls = std::rc::Rc<RefCell<Vec<Vec<String>>>>;

fn recorder(
    replies: Vec<CommandOutput>,
) -> (impl Fn(&[String]) -> std::io::Result<CommandOutput>, Calls) {
    let calls = std::rc::Rc::new(RefCell::new(Vec::new()));
    let replies = RefCell::new(replies.into_iter());
    let seen = calls.clone();
    let run = move |argv: &[String]| {
        seen.borrow_mut().push(argv.to_vec());
        Ok(replies
            .borrow_mut()
            .next()
            .unwrap_or_else(|| CommandOutput::failed(99, "no more replies")))
    };
    (run, calls)
}

#[test]
fn commands_are_built_from_the_prefix() {
    let cmd = vec!["microovn".to_string(), "cluster".to_string()];
    let (run, calls) = recorder(vec![
        CommandOutput::ok("TOKEN-1\n"),
        CommandOutput::ok(""),
        CommandOutput::ok(""),
        CommandOutput::ok(""),
    ]);
    let cli = Cli::new(&cmd, &run);
    assert_eq!(cli.add("n2").unwrap().expose(), "TOKEN-1");
    cli.join(&Token::new("TOKEN-1"), &["--config".into(), "x=1".into()])
        .unwrap();
    cli.bootstrap(&[]).unwrap();
    cli.remove("n2").unwrap();
    let calls = calls.borrow();
    assert_eq!(calls[0], ["microovn", "cluster", "add", "n2"]);
    assert_eq!(
        calls[1],
        ["microovn", "cluster", "join", "TOKEN-1", "--config", "x=1"]
    );
    assert_eq!(calls[2], ["microovn", "cluster", "bootstrap"]);
    assert_eq!(calls[3], ["microovn", "cluster", "remove", "n2"]);
}

#[test]
fn failures_are_typed_and_tokens_masked() {
    let cmd = vec!["mc".to_string()];
    let (run, _) = recorder(vec![
        CommandOutput::failed(1, "Error: token SECRET-T is expired\n"),
        CommandOutput::ok("\n"),
        CommandOutput::ok("empty"),
    ]);
    let cli = Cli::new(&cmd, &run);
    let err = cli.join(&Token::new("SECRET-T"), &[]).unwrap_err();
    assert!(!err.to_string().contains("SECRET-T"), "{err}");
    assert!(err.to_string().contains("<redacted> is expired"), "{err}");
    assert_eq!(err.outcome(), Outcome::Fail);
    assert!(matches!(
        cli.add("n1"),
        Err(CliError::BadOutput {
            subcommand: "add",
            ..
        })
    ));
    assert!(matches!(cli.add("n1"), Err(CliError::BadOutput { .. })));
    // A node name or token that looks like an option is never passed to the CLI.
    let (run, calls) = recorder(vec![]);
    let cli = Cli::new(&cmd, &run);
    for bad in ["--help", "-o", "--output=/tmp/x"] {
        let err = cli.add(bad).unwrap_err();
        assert!(
            matches!(
                err,
                CliError::BadArgument {
                    subcommand: "add",
                    ..
                }
            ),
            "{bad}: {err:?}"
        );
        assert_eq!(err.outcome(), Outcome::Blocked);
        assert!(
            err.to_string().contains("is not a valid node name"),
            "{err}"
        );
        assert!(matches!(
            cli.remove(bad),
            Err(CliError::BadArgument {
                subcommand: "remove",
                ..
            })
        ));
        let err = cli.join(&Token::new(bad), &[]).unwrap_err();
        assert!(
            matches!(
                err,
                CliError::BadArgument {
                    subcommand: "join",
                    ..
                }
            ),
            "{bad}: {err:?}"
        );
        assert!(!err.to_string().contains(bad), "{err}");
    }
    assert!(calls.borrow().is_empty(), "{:?}", calls.borrow());
    let empty: Vec<String> = Vec::new();
    assert_eq!(Cli::new(&empty, &run).list(), Err(CliError::NoCommand));
}

#[test]
fn spawn_and_timeout_errors() {
    let cmd = vec!["/nonexistent/mc".to_string()];
    let runner = ProcessRunner::new();
    let err = Cli::new(&cmd, &runner).list().unwrap_err();
    assert!(matches!(err, CliError::Spawn { .. }), "{err}");
    assert_eq!(err.outcome(), Outcome::Blocked);
    let runner = ProcessRunner::new().timeout(Duration::from_millis(200));
    let out = runner.run(&["sleep".to_string(), "5".to_string()]);
    assert_eq!(out.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
    // A timeout maps to its own error, which a retry can help with.
    let cmd = vec!["sh".to_string(), "-c".to_string(), "sleep 5".to_string()];
    let err = Cli::new(&cmd, &runner).list().unwrap_err();
    assert!(
        matches!(
            err,
            CliError::TimedOut {
                subcommand: "list",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.outcome(), Outcome::Fail);
}

#[test]
fn the_token_is_masked_before_the_output_is_bounded() {
    // A token straddling the stderr bound: cutting first would keep its first bytes.
    let token = "TOKEN-0123456789abcdefghijklmnopqrstuvwxyz";
    let pad = MAX_STDERR - 10;
    let script = format!("printf '%0{pad}d {token} tail' 0 >&2; exit 1");
    let cmd = vec!["sh".to_string(), "-c".to_string(), script];
    let runner = ProcessRunner::new();
    let out = runner.run_redacted(&cmd, Some(token)).unwrap();
    assert!(
        out.stderr.ends_with(" <redacted>"),
        "{}",
        &out.stderr[pad - 5..]
    );
    assert!(!out.stderr.contains("TOKEN-"));
    let out = runner.run(&cmd).unwrap();
    assert!(
        out.stderr.ends_with(" TOKEN-012"),
        "bounded to {MAX_STDERR} bytes"
    );
}

#[test]
fn the_process_runner_captures_output_and_exit_codes() {
    let runner = ProcessRunner::new();
    let sh = |script: &str| {
        runner
            .run(&["sh".to_string(), "-c".to_string(), script.to_string()])
            .unwrap()
    };
    let out = sh("echo out; echo err >&2; exit 3");
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (Some(3), "out\n", "err\n")
    );
    assert!(!format!("{out:?}").contains("out\\n"));
}

#[test]
fn every_call_logs_one_debug_line_without_the_token() {
    let cmd = vec!["mc".to_string(), "cluster".to_string()];
    let (run, calls) = recorder(vec![
        CommandOutput::ok("[]"),
        CommandOutput::ok("SECRET-T\n"),
        CommandOutput::failed(1, "Error: SECRET-T expired"),
        CommandOutput::ok(""),
        CommandOutput::ok(""),
    ]);
    let ((), lines) = charm_testing::capture_logs(|| {
        let cli = Cli::new(&cmd, &run);
        cli.list().unwrap();
        let token = cli.add("n1").unwrap();
        cli.join(&token, &["--x".into()]).unwrap_err();
        cli.bootstrap(&[]).unwrap();
        cli.remove("n1").unwrap();
    });
    assert_eq!(lines.len(), calls.borrow().len());
    let texts: Vec<String> = lines
        .iter()
        .map(|(level, text)| {
            assert_eq!(*level, charm::LogLevel::Debug, "{text}");
            assert!(!text.contains("SECRET-T"), "{text}");
            // Drop the timing, which varies.
            text.split(" (").next().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        texts,
        [
            "cluster CLI: mc cluster list -f json -> exit 0",
            "cluster CLI: mc cluster add n1 -> exit 0",
            "cluster CLI: mc cluster join <token>",
            "cluster CLI: mc cluster bootstrap -> exit 0",
            "cluster CLI: mc cluster remove n1 -> exit 0",
        ]
    );
    assert!(
        lines[2].1.contains("(+1 argument) -> exit 1"),
        "{:?}",
        lines[2]
    );
}

#[test]
fn the_pending_wait_is_bounded() {
    let pending = r#"[{"name": "n1", "role": "voter", "status": "ONLINE"},
                          {"name": "n2", "role": "PENDING", "status": "ONLINE"}]"#;
    let cmd = vec!["mc".to_string()];
    let wait = PendingWait {
        attempts: 3,
        interval: Duration::ZERO,
    };
    let (run, calls) = recorder(vec![CommandOutput::ok(pending); 5]);
    let err = Cli::new(&cmd, &run).wait_for_pending(wait).unwrap_err();
    assert_eq!(
        err,
        WaitError::StillPending {
            attempts: 3,
            names: "n2".into()
        }
    );
    assert_eq!(calls.borrow().len(), 3);
    let (run, calls) = recorder(vec![CommandOutput::ok(pending), CommandOutput::ok(LIST)]);
    let members = Cli::new(&cmd, &run).wait_for_pending(wait).unwrap();
    assert_eq!(members.communicator(), Some("n2"));
    assert_eq!(calls.borrow().len(), 2);
    let (run, _) = recorder(vec![CommandOutput::failed(1, "down")]);
    assert!(matches!(
        Cli::new(&cmd, &run).wait_for_pending(wait),
        Err(WaitError::Cli(CliError::Failed { .. }))
    ));
}
