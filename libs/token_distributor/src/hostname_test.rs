//! Tests of `hostname.rs`.

use super::*;

#[test]
fn the_system_name_matches_uname() {
    let name = system().unwrap();
    let uname = std::process::Command::new("uname")
        .arg("-n")
        .output()
        .unwrap();
    assert_eq!(name, String::from_utf8_lossy(&uname.stdout).trim());
}

#[test]
fn files_are_trimmed_and_checked() {
    let dir = std::env::temp_dir().join(format!("td-hostname-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("h");
    std::fs::write(&f, "node-7\n").unwrap();
    assert_eq!(from_file(&f).unwrap(), "node-7");
    std::fs::write(&f, "-x\n").unwrap();
    assert!(matches!(from_file(&f), Err(HostnameError::Invalid { .. })));
    assert!(matches!(
        from_file(&dir.join("missing")),
        Err(HostnameError::Read { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_set_variable_overrides_the_system_name() {
    let system = || Ok("machine".to_string());
    let pick = |v: Option<&str>| override_or(v.map(str::to_string), "NODE", system);
    assert_eq!(pick(Some("node-2")).unwrap(), "node-2");
    assert_eq!(pick(Some(" node-2\n")).unwrap(), "node-2");
    assert_eq!(pick(Some("")).unwrap(), "machine");
    assert_eq!(pick(None).unwrap(), "machine");
    let err = pick(Some("no good")).unwrap_err();
    assert!(err.to_string().contains("$NODE"), "{err}");
}

#[test]
fn an_unset_variable_falls_back_to_the_system() {
    assert_eq!(
        from_env_or_system("TOKEN_DISTRIBUTOR_TEST_SURELY_UNSET").unwrap(),
        system().unwrap()
    );
}
