#![allow(clippy::unwrap_used, clippy::panic)]

use super::*;

fn sh(script: &str) -> Exec {
    Exec::new("sh").args(["-c", script])
}

#[test]
fn exit_status_and_output() {
    let out = sh("echo out; echo err >&2; exit 4").run().unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(out.stdout.text(), "out\n");
    assert_eq!(out.stderr.text(), "err\n");
    assert!(!out.stdout.truncated());
}

#[test]
fn stdin_is_fed_and_closed() {
    let out = Exec::new("cat").stdin("a\nb\n").run().unwrap();
    assert_eq!(out.stdout.text(), "a\nb\n");
    // A command that never reads a large stdin does not block the caller.
    let big = vec![b'x'; 1 << 20];
    let out = sh("exit 0").stdin(big).run().unwrap();
    assert!(out.status.success());
}

#[test]
fn a_chatty_command_is_captured_bounded_without_blocking() {
    // 4 MB on each stream: far beyond a pipe's buffer, so both must be read while it runs.
    let out = sh("head -c 4000000 /dev/zero; head -c 4000000 /dev/zero >&2; echo done >&2")
        .stdout_limit(1000)
        .stderr_limit(100)
        .timeout(Duration::from_secs(60))
        .run()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout.bytes.len(), 1000);
    assert_eq!(out.stdout.total, 4_000_000);
    assert!(out.stdout.truncated());
    assert_eq!(out.stderr.bytes.len(), 100);
    assert_eq!(out.stderr.total, 4_000_005);
}

fn dead(pid: &str) -> bool {
    // Gone, or a zombie waiting for its new parent to reap it.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn a_stuck_command_is_killed_with_its_whole_process_group() {
    let dir = std::env::temp_dir().join(format!("charm-exec-stuck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pidfile = dir.join("child.pid");
    // The shell starts a grandchild that holds stdout open, then waits forever.
    let script = format!(
        "sleep 600 & echo $! > {}; echo started >&2; wait",
        pidfile.display()
    );
    let err = sh(&script)
        .timeout(Duration::from_secs(1))
        .run()
        .unwrap_err();
    match &err {
        ExecError::TimedOut {
            program, stderr, ..
        } => {
            assert_eq!(program, "sh");
            assert!(stderr.text().contains("started"), "{stderr:?}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        err.to_string().contains("process group was killed"),
        "{err}"
    );
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let pid = pid.trim();
    // SIGKILL is delivered before killpg returns; give the kernel a moment to tear it down.
    let mut tries = 0;
    while !dead(pid) && tries < 200 {
        std::thread::sleep(Duration::from_millis(10));
        tries += 1;
    }
    assert!(dead(pid), "the grandchild {pid} survived the timeout");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn secrets_are_masked_before_the_output_is_cut() {
    let key = "AQBzYmFyYmF6cXV4c2VjcmV0a2V5MQ==";
    // The key straddles the stderr limit: cutting first would show its first bytes.
    let out = sh(&format!("printf 'error: %s rest' '{key}' >&2; exit 1"))
        .stderr_limit(10)
        .redact(key)
        .run()
        .unwrap();
    assert_eq!(out.stderr.text(), "error: <redacted>");
    assert!(!out.stderr.text().contains("AQB"));
    // And on stdout too.
    let out = sh(&format!("echo {key}{key}")).redact(key).run().unwrap();
    assert_eq!(out.stdout.text(), "<redacted>\n");
}

#[test]
fn redaction_rules() {
    let r = |raw: &str, limit, secrets: &[&str]| {
        let secrets: Vec<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
        String::from_utf8(redact_bounded(raw.as_bytes(), limit, &secrets)).unwrap()
    };
    assert_eq!(r("abc", 10, &[]), "abc");
    assert_eq!(r("abcdef", 3, &[]), "abc");
    assert_eq!(r("xx-secret-yy", 100, &["secret"]), "xx-<redacted>-yy");
    // A secret starting before the cut is masked as a whole.
    assert_eq!(r("xx-secret-yy", 4, &["secret"]), "xx-<redacted>");
    // Overlapping secrets leave no piece of either.
    assert_eq!(r("abcdef!", 100, &["abcd", "cdef"]), "<redacted>!");
    // A short secret masked early cannot pull a later, partly captured one into view.
    assert_eq!(r("k1 LONGSECR", 5, &["k1", "LONGSECRET"]), "<redacted> LO");
    assert_eq!(r("aaaa", 100, &["aa"]), "<redacted>");
    assert_eq!(r("", 5, &["x"]), "");
}

#[test]
fn oversized_arguments_are_refused_before_spawning() {
    // The program does not exist: a spawn attempt would give a Spawn error instead.
    let long = "x".repeat(MAX_ARG_STRLEN);
    let err = Exec::new("/nonexistent/tool")
        .args(["ok", long.as_str()])
        .run()
        .unwrap_err();
    assert!(
        matches!(err, ExecError::ArgumentTooLong { index: 1, bytes, .. } if bytes == MAX_ARG_STRLEN),
        "{err:?}"
    );
    assert!(err.to_string().contains("at most 131071 bytes"), "{err}");
    // One byte shorter fits (and then the missing program is what fails).
    let fits = "x".repeat(MAX_ARG_STRLEN - 1);
    assert!(matches!(
        Exec::new("/nonexistent/tool").arg(fits).run(),
        Err(ExecError::Spawn { .. })
    ));
    // Many arguments that each fit but not together.
    let chunk = "y".repeat(100_000);
    let err = Exec::new("/nonexistent/tool")
        .args(vec![chunk; 30])
        .run()
        .unwrap_err();
    assert!(
        matches!(err, ExecError::ArgumentListTooLong { limit: ARG_MAX, .. }),
        "{err:?}"
    );
}

#[test]
fn a_missing_program_is_a_spawn_error() {
    let err = Exec::new("/nonexistent/tool").run().unwrap_err();
    assert!(matches!(err, ExecError::Spawn { .. }), "{err:?}");
    assert!(err.to_string().starts_with("cannot run /nonexistent/tool"));
}

#[test]
fn debug_output_never_shows_secrets() {
    let e = Exec::new("x").redact("hunter2").stdin("hunter2");
    let shown = format!("{e:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn the_command_runs_in_its_own_process_group() {
    // `ps -o pgid= -p $$` would need procps; /proc/self/stat field 5 is the group id.
    let out = sh("cut -d' ' -f5 /proc/self/stat; echo $$").run().unwrap();
    let text = out.stdout.text();
    let lines: Vec<&str> = text.lines().collect();
    // `cut` is in the shell's group, which the shell leads.
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0], lines[1], "{text}");
    let ours = std::fs::read_to_string("/proc/self/stat").unwrap();
    let our_group = ours.rsplit(')').next().unwrap().split_whitespace().nth(2);
    assert_ne!(our_group, Some(lines[0]));
}

#[test]
fn the_argument_list_check_counts_the_environment() {
    // The environment is counted once per process; its size must still be in every check.
    let env =
        argv_bytes(OsStr::new(""), [], std::env::vars_os()) - argv_bytes(OsStr::new(""), [], []);
    assert!(env > 0, "a test process has an environment");
    assert_eq!(env_bytes(), env);
    let program = OsStr::new("/nonexistent/tool");
    // Arguments that fill ARG_MAX exactly with the environment, then one byte more.
    let per_arg = |len: usize| len + 1 + std::mem::size_of::<usize>();
    let mut left = ARG_MAX - argv_bytes(program, [], []) - env;
    let mut fits = Vec::new();
    while left > per_arg(100_000) + per_arg(1) {
        fits.push("a".repeat(100_000));
        left -= per_arg(100_000);
    }
    fits.push("b".repeat(left - per_arg(0)));
    assert!(check_argv(program, &fits).is_ok());
    let mut over = fits;
    if let Some(last) = over.last_mut() {
        last.push('b');
    }
    assert!(matches!(
        check_argv(program, &over),
        Err(ExecError::ArgumentListTooLong { bytes, .. }) if bytes == ARG_MAX + 1
    ));
}

#[test]
fn without_data_stdin_is_at_its_end_at_once_every_time() {
    // Each command gets its own duplicate of the shared /dev/null: a command closing it leaves
    // the next one's intact.
    for _ in 0..3 {
        let out = sh("exec 0<&-; echo closed").run().unwrap();
        assert_eq!(out.stdout.text(), "closed\n");
        let out = sh("cat; echo eof")
            .timeout(Duration::from_secs(10))
            .run()
            .unwrap();
        assert_eq!(out.stdout.text(), "eof\n");
    }
}

#[test]
fn stdin_at_and_past_the_inline_size_is_fed_whole_or_not_at_all_without_blocking() {
    for len in [0, 1, PIPE_BUF - 1, PIPE_BUF, PIPE_BUF + 1, 3 * PIPE_BUF] {
        let data: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        let out = Exec::new("cat").stdin(data.clone()).run().unwrap();
        assert_eq!(out.stdout.bytes, data, "{len} bytes through cat");
        // A command that never reads, and one that exits after closing its stdin.
        for script in ["exit 0", "exec 0<&-; exit 0"] {
            let out = sh(script)
                .stdin(data.clone())
                .timeout(Duration::from_secs(10))
                .run()
                .unwrap();
            assert!(out.status.success(), "{len} bytes to `{script}`");
        }
    }
}

/// One field of `/proc/<pid>/status` as a number (the signal masks are hexadecimal).
fn status_mask(status: &str, field: &str) -> u64 {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap_or_else(|| panic!("no {field} in {status}"));
    u64::from_str_radix(line.trim(), 16).unwrap()
}

#[test]
fn the_command_starts_with_default_signals_nothing_blocked_and_three_descriptors() {
    // This test process ignores SIGPIPE (std's runtime does, as charms do): the command must
    // not inherit that, nor any blocked signal, nor any descriptor beyond stdin, out and err.
    let ours = std::fs::read_to_string("/proc/self/status").unwrap();
    let sigpipe = 1u64 << (libc::SIGPIPE - 1);
    assert_ne!(status_mask(&ours, "SigIgn:") & sigpipe, 0, "{ours}");
    // A signal this thread blocks stays ours: the command starts with nothing blocked.
    let old = sys::block_all_signals();
    let out = Exec::new("cat").arg("/proc/self/status").run();
    sys::restore_signals(&old);
    let theirs = out.unwrap().stdout.text();
    assert_eq!(status_mask(&theirs, "SigBlk:"), 0, "{theirs}");
    assert_eq!(status_mask(&theirs, "SigIgn:") & sigpipe, 0, "{theirs}");
    // Besides its three, the command may only hold what this process holds without
    // close-on-exec (inherited from whoever started the tests), and the directory `ls` lists.
    let mut allowed: Vec<String> = ["0", "1", "2", "3"].map(String::from).to_vec();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let fd = entry.file_name().to_string_lossy().into_owned();
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap_or_default();
        let flags = info
            .lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .and_then(|f| u64::from_str_radix(f.trim(), 8).ok());
        if flags.is_some_and(|f| f & 0o2000000 == 0) {
            allowed.push(fd);
        }
    }
    let out = Exec::new("ls").arg("/proc/self/fd").run().unwrap();
    let text = out.stdout.text();
    for fd in text.lines() {
        assert!(
            allowed.iter().any(|a| a == fd),
            "fd {fd} leaked: {text}; allowed {allowed:?}"
        );
    }
    for fd in ["0", "1", "2"] {
        assert!(text.lines().any(|l| l == fd), "{text}");
    }
}

#[test]
fn a_program_is_looked_up_on_path_unless_it_holds_a_slash() {
    let by_name = Exec::new("sh").args(["-c", "echo $0"]).run().unwrap();
    assert_eq!(
        by_name.stdout.text(),
        "sh\n",
        "argv[0] is the name as given"
    );
    let by_path = Exec::new("/bin/sh").args(["-c", "echo $0"]).run().unwrap();
    assert_eq!(by_path.stdout.text(), "/bin/sh\n");
    // A relative path with a slash is not searched for on PATH.
    let err = Exec::new("bin/sh").run().unwrap_err();
    assert!(
        matches!(&err, ExecError::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
        "{err:?}"
    );
    let err = Exec::new("").run().unwrap_err();
    assert!(
        matches!(&err, ExecError::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
        "{err:?}"
    );
}

#[test]
fn a_file_that_is_not_executable_or_a_nul_in_an_argument_is_a_spawn_error() {
    let dir = std::env::temp_dir().join(format!("charm-exec-noexec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("script");
    std::fs::write(&script, "#!/bin/sh\necho ran\n").unwrap();
    let err = Exec::new(&script).run().unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        matches!(&err, ExecError::Spawn { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied),
        "{err:?}"
    );
    let err = Exec::new("echo").arg("a\0b").run().unwrap_err();
    assert!(
        matches!(&err, ExecError::Spawn { source, .. } if source.kind() == std::io::ErrorKind::InvalidInput),
        "{err:?}"
    );
}
