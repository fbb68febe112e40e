//! Tests of `wire.rs`: the URI byte for byte as Python writes it, and every reading rule.

use super::*;

const XID: &str = "d0erdgfmp25c762i8np0";

fn ceph(auth: CephfsAuth, rev: Option<u32>) -> EndpointUri {
    EndpointUri::Cephfs(CephfsEndpoint {
        fsid: "123-abc".into(),
        name: "fs1".into(),
        path: "/vol/a b".into(),
        monitor_hosts: vec!["10.0.0.1:6789".into(), "10.0.0.2:6789".into()],
        user: "fsuser".into(),
        auth,
        auth_rev: rev,
    })
}

fn secret() -> CephfsAuth {
    CephfsAuth::Secret(SecretId::parse(&format!("secret:{XID}")).unwrap())
}

fn nfs(hostname: &str, port: Option<u16>, path: &str) -> EndpointUri {
    EndpointUri::Nfs(NfsInfo {
        hostname: hostname.into(),
        port,
        path: path.into(),
    })
}

fn lustre() -> EndpointUri {
    EndpointUri::Lustre(LustreInfo {
        mgs_nids: vec!["192.168.227.11@tcp1".into(), "192.168.227.12@tcp1".into()],
        fs_name: "lustre".into(),
    })
}

fn err(uri: &str) -> WireError {
    match EndpointUri::parse(uri) {
        Ok(parsed) => panic!("{uri:?} parsed as {parsed:?}"),
        Err(e) => e,
    }
}

#[test]
fn the_spec_examples_are_written_byte_for_byte() {
    assert_eq!(
        nfs("192.168.1.1", Some(2049), "/srv/export").to_uri(),
        "nfs://(192.168.1.1%3A2049)/srv/export"
    );
    assert_eq!(
        nfs("fe80::1", Some(2049), "/srv").to_uri(),
        "nfs://(%5Bfe80%3A%3A1%5D%3A2049)/srv"
    );
    assert_eq!(
        nfs("nfs.example.com", None, "/srv/my export").to_uri(),
        "nfs://(nfs.example.com)/srv/my%20export"
    );
    assert_eq!(
        ceph(secret(), Some(1)).to_uri(),
        "cephfs://fsuser@(10.0.0.1%3A6789%2C10.0.0.2%3A6789)/vol/a%20b?fsid=123-abc&name=fs1&auth=secret%3Ad0erdgfmp25c762i8np0&auth-rev=1"
    );
    assert_eq!(
        lustre().to_uri(),
        "lustre://(192.168.227.11%40tcp1%2C192.168.227.12%40tcp1)/?fs-name=lustre"
    );
}

#[test]
fn writer_edge_cases_match_python() {
    // Port 0 is "no port"; an empty path is `/`; a relative one gets its slash.
    assert_eq!(nfs("10.0.0.5", Some(0), "").to_uri(), "nfs://(10.0.0.5)/");
    assert_eq!(
        nfs("10.0.0.5", Some(2049), "srv/data").to_uri(),
        "nfs://(10.0.0.5%3A2049)/srv/data"
    );
    // A scoped IPv6 address is bracketed, as Python's IPv6Address takes it.
    assert_eq!(
        nfs("fe80::1%eth0", None, "/x").to_uri(),
        "nfs://(%5Bfe80%3A%3A1%25eth0%5D)/x"
    );
    // plain: keys are urlencoded (`/`, `=`, `+` escaped) and carry no auth-rev.
    assert_eq!(
        ceph(CephfsAuth::Plain(Key::new("R//a+ppd qz==")), None).to_uri(),
        "cephfs://fsuser@(10.0.0.1%3A6789%2C10.0.0.2%3A6789)/vol/a%20b?fsid=123-abc&name=fs1&auth=plain%3AR%2F%2Fa%2Bppd+qz%3D%3D"
    );
    // Non-ASCII and reserved characters: UTF-8 bytes, upper-case hex, `/` kept in the path.
    let odd = EndpointUri::Cephfs(CephfsEndpoint {
        fsid: "f".into(),
        name: "n".into(),
        path: "/é~#?%".into(),
        monitor_hosts: vec!["h".into()],
        user: "ü s/er~".into(),
        auth: secret(),
        auth_rev: Some(12),
    });
    assert_eq!(
        odd.to_uri(),
        "cephfs://%C3%BC%20s/er~@(h)/%C3%A9~%23%3F%25?fsid=f&name=n&auth=secret%3Ad0erdgfmp25c762i8np0&auth-rev=12"
    );
    assert_eq!(quote_plus("a b/c~é"), "a+b%2Fc~%C3%A9");
}

#[test]
fn what_is_written_reads_back() {
    for uri in [
        nfs("192.168.1.1", Some(2049), "/srv/export"),
        nfs("fe80::1", Some(2049), "/srv"),
        nfs("nfs.example.com", None, "/srv/my export"),
        ceph(secret(), Some(1)),
        ceph(CephfsAuth::Plain(Key::new("R//a+ppd qz==")), None),
        lustre(),
    ] {
        assert_eq!(
            EndpointUri::parse(&uri.to_uri()),
            Ok(uri.clone()),
            "{uri:?}"
        );
    }
    let long = EndpointUri::Cephfs(CephfsEndpoint {
        auth: CephfsAuth::Secret(
            SecretId::parse(&format!(
                "secret://0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/{XID}"
            ))
            .unwrap(),
        ),
        ..match ceph(secret(), Some(3)) {
            EndpointUri::Cephfs(c) => c,
            _ => unreachable!(),
        }
    });
    assert_eq!(EndpointUri::parse(&long.to_uri()), Ok(long));
}

#[test]
fn reader_follows_urlparse() {
    // Hostnames are lower-cased up to the first `%`; the rest keeps its case.
    assert_eq!(
        EndpointUri::parse("nfs://(NFS.Example.COM%3A2049)/x"),
        Ok(nfs("nfs.example.com", Some(2049), "/x"))
    );
    let EndpointUri::Cephfs(c) = EndpointUri::parse(&format!(
        "cephfs://u@(MON1%2CMON2)/?fsid=f&name=n&auth=secret%3A{XID}"
    ))
    .unwrap() else {
        panic!()
    };
    assert_eq!(c.monitor_hosts, ["mon1", "MON2"]);
    // The user is before the last `@`, cut at `:`; a raw `,` separates hosts too.
    let EndpointUri::Cephfs(c) = EndpointUri::parse(&format!(
        "cephfs://u:pw@x@(a,b%2Cc)?fsid=f&name=n&auth=secret:{XID}"
    ))
    .unwrap() else {
        panic!()
    };
    assert_eq!((c.user.as_str(), c.path.as_str()), ("u", "/"));
    assert_eq!(c.monitor_hosts, ["a", "b", "c"]);
    // A raw `:` after the parentheses is a port Python drops.
    assert_eq!(
        EndpointUri::parse("nfs://(h):12/x"),
        Ok(nfs("h", None, "/x"))
    );
    // Percent-encoded parentheses are parentheses once decoded.
    assert_eq!(
        EndpointUri::parse("nfs://%28h%29/x"),
        Ok(nfs("h", None, "/x"))
    );
    // No fragments: `#` is path (or query) text; tabs and line breaks are dropped.
    assert_eq!(
        EndpointUri::parse("nfs://(h)/p#q?r=1"),
        Ok(nfs("h", None, "/p#q"))
    );
    assert_eq!(
        EndpointUri::parse("nfs://(h)/s\trv\n"),
        Ok(nfs("h", None, "/srv"))
    );
    // nfs: first host only, user and options ignored, IPv6 in brackets, Python int() ports.
    assert_eq!(
        EndpointUri::parse("nfs://me@(%5Bfe80%3A%3A1%5D%3A%202049%20,other)/srv?x=1"),
        Ok(nfs("fe80::1", Some(2049), "/srv"))
    );
    for (port, value) in [("+80", 80), ("20_49", 2049), ("-0", 0), ("0065535", 65535)] {
        assert_eq!(
            EndpointUri::parse(&format!("nfs://(h%3A{port})/")),
            Ok(nfs("h", Some(value), "/"))
        );
    }
}

#[test]
fn options_are_parsed_strictly() {
    let parse = |query: &str| {
        EndpointUri::parse(&format!("cephfs://u@(h)/p?{query}")).map(|u| match u {
            EndpointUri::Cephfs(c) => (c.fsid, c.name, c.auth, c.auth_rev),
            _ => unreachable!(),
        })
    };
    // Repeated keys are joined with `,`; empty values dropped; `+` is a space; order free.
    let (fsid, name, auth, rev) = parse(&format!(
        "auth-rev=7&name=a+b&fsid=x&fsid=y&empty=&auth=secret%3A{XID}"
    ))
    .unwrap();
    assert_eq!((fsid.as_str(), name.as_str(), rev), ("x,y", "a b", Some(7)));
    assert_eq!(auth, secret());
    // auth-rev is ignored when it is not a number.
    assert_eq!(
        parse(&format!("fsid=f&name=n&auth=secret%3A{XID}&auth-rev=two"))
            .unwrap()
            .3,
        None
    );
    // A plain key written without encoding loses its `+` (Python's parse_qs does the same).
    let (_, _, auth, _) = parse("fsid=f&name=n&auth=plain:ab+c==").unwrap();
    assert_eq!(auth, CephfsAuth::Plain(Key::new("ab c==")));
    for bad in ["fsid", "fsid=f&&name=n", "fsid=f&name=n&auth=plain:k&"] {
        assert_eq!(parse(bad), Err(WireError::InvalidOptions), "{bad}");
    }
}

#[test]
fn what_python_rejects_is_rejected() {
    // The spec's own examples: raw `:` and `@` inside the parentheses, `filesystem=` for `name=`.
    assert_eq!(
        err("nfs://(192.168.1.1:65535)/export"),
        WireError::InvalidHosts
    );
    assert_eq!(
        err("lustre://(192.168.227.11@tcp1,192.168.227.12@tcp1)/export"),
        WireError::InvalidHosts
    );
    assert_eq!(
        err(
            "cephfs://fsuser@(192.168.1.1,192.168.1.2)/export?fsid=asdf1234&auth=plain:QWERTY1234&filesystem=fs_name"
        ),
        WireError::MissingOption(NAME)
    );
    assert_eq!(
        err("lustre://(192.168.227.11%40tcp1)/export"),
        WireError::MissingOption(FS_NAME)
    );
    // The scheme is matched on the raw text, case and all.
    assert_eq!(
        err("CEPHFS://u@(h)/"),
        WireError::UnsupportedScheme("CEPHFS".into())
    );
    assert_eq!(
        err(" nfs://(h)/"),
        WireError::UnsupportedScheme(" nfs".into())
    );
    assert_eq!(
        err("smb://(h)/"),
        WireError::UnsupportedScheme("smb".into())
    );
    assert_eq!(err("nfs"), WireError::InvalidHosts);
    assert_eq!(err("nfs://h/x"), WireError::InvalidHosts);
    assert_eq!(err("nfs://(h/x)"), WireError::InvalidHosts);
    // urlparse's netloc checks.
    assert!(matches!(err("nfs://(h[)/x"), WireError::InvalidNetloc(_)));
    assert!(matches!(
        err("nfs://([1.2.3.4])/x"),
        WireError::InvalidNetloc(_)
    ));
    assert!(matches!(
        err("nfs://([vz.1])/x"),
        WireError::InvalidNetloc(_)
    ));
    assert!(matches!(
        err("nfs://(h\u{ff20}x)/x"),
        WireError::InvalidNetloc(_)
    ));
    // Valid brackets still leave a host part that is not `(...)`.
    assert_eq!(err("nfs://([fe80::1]:2049)/x"), WireError::InvalidHosts);
    // nfs host rules.
    assert_eq!(err("nfs://()/x"), WireError::EmptyValue("nfs host"));
    assert_eq!(err("nfs://(%5Bfe80%3A%3A1)/x"), WireError::UnclosedBracket);
    assert_eq!(err("nfs://(%5B%3A%3A1%5Dx)/x"), WireError::ExpectedColon);
    for port in ["", "0x10", "_1", "1__0", "%E0%A5%A8"] {
        assert_eq!(
            err(&format!("nfs://(h%3A{port})/x")),
            WireError::BadPort,
            "{port}"
        );
    }
    // cephfs requirements, in Python's order.
    let q = format!("auth=secret%3A{XID}");
    assert_eq!(
        err(&format!("cephfs://(h)/?fsid=f&name=n&{q}")),
        WireError::MissingUser
    );
    assert_eq!(
        err(&format!("cephfs://@(h)/?fsid=f&name=n&{q}")),
        WireError::MissingUser
    );
    assert_eq!(
        err(&format!("cephfs://u@(h)/?fsid=f&{q}")),
        WireError::MissingOption(NAME)
    );
    assert_eq!(
        err(&format!("cephfs://u@(h)/?name=n&{q}")),
        WireError::MissingOption(FSID)
    );
    assert_eq!(
        err("cephfs://u@(h)/?fsid=f&name=n&auth="),
        WireError::MissingOption(AUTH)
    );
    assert_eq!(
        err("cephfs://u@(h)/?fsid=f&name=n&auth=abc"),
        WireError::AuthWithoutKind
    );
    assert_eq!(
        err("cephfs://u@(h)/?fsid=f&name=n&auth=Secret%3Ax"),
        WireError::AuthUnknownKind("Secret".into())
    );
}

#[test]
fn this_port_also_rejects_what_cannot_be_mounted_safely() {
    let q = format!("fsid=f&name=n&auth=secret%3A{XID}");
    let shaped = |what| WireError::OptionShaped {
        what,
        value: "-oexec".into(),
    };
    assert_eq!(err("nfs://(-oexec)/x"), shaped("nfs host"));
    assert_eq!(
        err(&format!("cephfs://-oexec@(h)/?{q}")),
        shaped("ceph user")
    );
    assert_eq!(
        err(&format!("cephfs://u@(h,-oexec)/?{q}")),
        shaped("monitor host")
    );
    assert_eq!(
        err(&format!(
            "cephfs://u@(h)/?fsid=-oexec&name=n&auth=secret%3A{XID}"
        )),
        shaped("fsid")
    );
    assert_eq!(
        err(&format!(
            "cephfs://u@(h)/?fsid=f&name=-oexec&auth=secret%3A{XID}"
        )),
        shaped("filesystem name")
    );
    assert_eq!(err("lustre://(-oexec)/?fs-name=l"), shaped("MGS NID"));
    assert_eq!(err("lustre://(n)/?fs-name=-oexec"), shaped("fs-name"));
    assert_eq!(
        err(&format!("cephfs://u@(h,)/?{q}")),
        WireError::EmptyValue("monitor host")
    );
    assert_eq!(err("nfs://(h)/a%00b"), WireError::ControlCharacter("path"));
    assert_eq!(
        err("nfs://(h%0Ax)/a"),
        WireError::ControlCharacter("nfs host")
    );
    assert_eq!(
        err("nfs://(h%3A65536)/"),
        WireError::PortOutOfRange("65536".into())
    );
    assert_eq!(
        err("nfs://(h%3A-1)/"),
        WireError::PortOutOfRange("-1".into())
    );
    for id in [
        "secret:",
        "secret:short",
        "secret:d0erdgfmp25c762i8npz",
        "secret:--label=x",
        "secret://not-a-uuid/d0erdgfmp25c762i8np0",
        "secret:d0erdgfmp25c762i8np0 --reveal",
    ] {
        let e = err(&format!(
            "cephfs://u@(h)/?fsid=f&name=n&auth={}",
            quote_plus(id)
        ));
        assert_eq!(e, WireError::BadSecretId, "{id}");
    }
}

#[test]
fn errors_never_show_a_key_and_stay_short() {
    let key = "AQBzYmFyYmF6cXV4c2VjcmV0a2V5MQ==";
    for uri in [
        format!("cephfs://u@(h)/?fsid=f&name=n&auth={key}"),
        format!("cephfs://u@(h)/?fsid=f&name=n&auth={key}:x"),
        format!("cephfs://u@(h)/?fsid=f&name=n&auth=secret:{key}"),
    ] {
        let text = err(&uri).to_string();
        assert!(!text.contains(key), "{text}");
    }
    let long = format!("nfs://(-{})/", "x".repeat(5000));
    let text = err(&long).to_string();
    assert!(text.len() < 120, "{text}");
    let plain = ceph(CephfsAuth::Plain(Key::new(key)), None);
    assert!(!format!("{plain:?}").contains(key));
}

#[test]
fn secret_ids() {
    let short = SecretId::parse(&format!("secret:{XID}")).unwrap();
    assert_eq!(
        (short.as_str(), short.unique()),
        (format!("secret:{XID}").as_str(), XID)
    );
    let bare = SecretId::parse(XID).unwrap();
    assert_eq!(bare, short);
    let long = format!("secret://0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/{XID}");
    let parsed = SecretId::parse(&long).unwrap();
    assert_eq!((parsed.as_str(), parsed.unique()), (long.as_str(), XID));
    for bad in [
        "",
        "secret:",
        "secret://",
        "secret:D0ERDGFMP25C762I8NP0",
        "secret://0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0/d0erdgfmp25c762i8np0",
        "secret://0f1e2d3c4b5a69788796a5b4c3d2e1f0/d0erdgfmp25c762i8np0",
        "-d0erdgfmp25c762i8np",
        "secret:d0erdgfmp25c762i8np0/x",
    ] {
        assert_eq!(SecretId::parse(bad).ok(), None, "{bad}");
    }
}

#[test]
fn unquote_matches_python() {
    assert_eq!(unquote("a%20b%2Fc"), "a b/c");
    // Invalid escapes stay; invalid UTF-8 becomes U+FFFD; raw non-ASCII passes through.
    assert_eq!(unquote("%zz%4"), "%zz%4");
    assert_eq!(unquote("%FF%C3"), "\u{fffd}\u{fffd}");
    assert_eq!(unquote("%41%e9"), "A\u{fffd}");
    assert_eq!(unquote("%C3%A9é%C3"), "éé\u{fffd}");
    assert_eq!(quote("a b/c,d:e@f[g]"), "a%20b/c%2Cd%3Ae%40f%5Bg%5D");
}

#[test]
fn providers_cannot_publish_what_clients_reject() {
    let ok = FilesystemInfo::Lustre(LustreInfo {
        mgs_nids: vec!["10.0.0.1@tcp".into()],
        fs_name: "lustre".into(),
    });
    assert_eq!(ok.check(), Ok(()));
    let no_hosts = FilesystemInfo::Lustre(LustreInfo {
        mgs_nids: vec![],
        fs_name: "lustre".into(),
    });
    assert_eq!(no_hosts.check(), Err(WireError::EmptyValue("MGS NID")));
    let ceph = |user: &str, key: &str| {
        FilesystemInfo::Cephfs(CephfsInfo {
            fsid: "f".into(),
            name: "n".into(),
            path: "/".into(),
            monitor_hosts: vec!["h:6789".into()],
            user: user.into(),
            key: Key::new(key),
        })
    };
    assert_eq!(ceph("u", "k").check(), Ok(()));
    assert_eq!(ceph("", "k").check(), Err(WireError::MissingUser));
    assert_eq!(
        ceph("u", "").check(),
        Err(WireError::EmptyValue("cephx key"))
    );
    let nfs = FilesystemInfo::Nfs(NfsInfo {
        hostname: "-x".into(),
        port: None,
        path: "/".into(),
    });
    assert!(matches!(nfs.check(), Err(WireError::OptionShaped { .. })));
}

#[test]
fn bags_and_secret_content() {
    let bag = charm::databag::encode(&ProviderAppBag {
        endpoint: Some("nfs://(h)/".into()),
    })
    .unwrap();
    assert_eq!(bag[ENDPOINT], "nfs://(h)/");
    let content = AuthSecret::content(&Key::new("k3y"));
    assert_eq!(content.get(KEY_FIELD), Some("k3y"));
    assert_eq!(AuthSecret::key(&content), Some(Key::new("k3y")));
    assert!(!format!("{:?}", AuthSecret { key: "k3y".into() }).contains("k3y"));
    assert!(
        charm::databag::decode::<RequirerBag>(&[("x".to_string(), "y".to_string())].into())
            .is_err()
    );
}
