//! The files API under the container root: push and pull multipart exactly as ops speaks it,
//! list, make-dirs, remove, per-path errors, and escapes from the root refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;
use serde_json::{Value, json};

const BOUNDARY: &str = "0123456789abcdef0123456789abcdef";

/// A push body as ops builds it.
fn push_body(meta: &Value, files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Type: application/json\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n{meta}\r\n"
    )
    .into_bytes();
    for (path, content) in files {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Type: application/octet-stream\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{path}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn push(p: &Pebble, meta: &Value, files: &[(&str, &[u8])]) -> (u16, Value) {
    let r = request(
        &p.socket,
        "POST",
        "/v1/files",
        &[(
            "Content-Type",
            &format!("multipart/form-data; boundary=\"{BOUNDARY}\""),
        )],
        &push_body(meta, files),
    );
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

/// Pulls one path: the file parts and the response part's result.
fn pull(p: &Pebble, path: &str) -> (Vec<(String, Vec<u8>)>, Value) {
    let r = request(
        &p.socket,
        "GET",
        &format!("/v1/files?action=read&path={path}"),
        &[("Accept", "multipart/form-data")],
        b"",
    );
    assert_eq!(r.status, 200);
    let ct = r.header("Content-Type").unwrap().to_string();
    let boundary = ct
        .split("boundary=")
        .nth(1)
        .unwrap()
        .trim_matches('"')
        .to_string();
    let delim = format!("--{boundary}");
    let text = r.body;
    let mut parts = Vec::new();
    let mut response = Value::Null;
    let s = String::from_utf8_lossy(&text).into_owned();
    for chunk in s.split(&delim).skip(1) {
        if chunk.starts_with("--") {
            break;
        }
        let (head, body) = chunk.split_once("\r\n\r\n").unwrap();
        let body = body.strip_suffix("\r\n").unwrap();
        if head.contains("name=\"response\"") {
            assert!(head.contains("Content-Type: application/json"));
            response = serde_json::from_str(body).unwrap();
        } else {
            assert!(head.contains("name=\"files\""), "{head}");
            let filename = head
                .split("filename=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            parts.push((filename.to_string(), body.as_bytes().to_vec()));
        }
    }
    // The response part comes last and is a normal sync envelope.
    assert_eq!(response["type"], "sync");
    (parts, response["result"].clone())
}

#[test]
fn push_writes_under_the_root_with_permissions_and_pull_reads_it_back() {
    let p = start("push");
    let (status, body) = push(
        &p,
        &json!({"action": "write", "files": [{"permissions": "600", "path": "/etc/app.conf", "make-dirs": true}]}),
        &[("/etc/app.conf", b"key: value\n")],
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], json!([{"path": "/etc/app.conf"}]));
    let host = p.host("/etc/app.conf");
    assert_eq!(std::fs::read(&host).unwrap(), b"key: value\n");
    assert_eq!(
        std::fs::metadata(&host).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(p.host("/etc"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755
    );
    let (parts, result) = pull(&p, "/etc/app.conf");
    assert_eq!(
        parts,
        vec![("/etc/app.conf".to_string(), b"key: value\n".to_vec())]
    );
    assert_eq!(result, json!([{"path": "/etc/app.conf"}]));
    // Overwrite with the default mode.
    let (_, body) = push(
        &p,
        &json!({"action": "write", "files": [{"path": "/etc/app.conf"}]}),
        &[("/etc/app.conf", b"new")],
    );
    assert_eq!(body["result"][0].get("error"), None);
    assert_eq!(
        std::fs::metadata(&host).unwrap().permissions().mode() & 0o777,
        0o644
    );
}

#[test]
fn a_push_onto_a_directory_names_both_paths_of_the_rename() {
    let p = start("pushdir");
    let (status, body) = push(
        &p,
        &json!({"action": "write", "files": [{"path": "/etc/conf", "make-dirs": true}]}),
        &[("/etc/conf", b"x")],
    );
    assert_eq!(status, 200, "{body}");
    std::fs::remove_file(p.root.join("etc/conf")).unwrap();
    std::fs::create_dir_all(p.root.join("etc/conf/inner")).unwrap();
    let (status, body) = push(
        &p,
        &json!({"action": "write", "files": [{"path": "/etc/conf"}]}),
        &[("/etc/conf", b"x")],
    );
    assert_eq!(status, 200, "{body}");
    let message = body["result"][0]["error"]["message"]
        .as_str()
        .unwrap_or_default();
    // Go's LinkError: `rename <old> <new>: <errno text>`, as an ops charm sees it from Pebble.
    assert!(
        message.starts_with("rename /etc/conf.") && message.contains("~ /etc/conf: "),
        "{message}"
    );
    assert!(
        !p.root.join("etc").read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with('~')),
        "the temporary file is removed"
    );
}

#[test]
fn push_and_pull_errors_are_per_path() {
    let p = start("pusherr");
    let (status, body) = push(
        &p,
        &json!({"action": "write", "files": [
            {"path": "/no/parent/f"},
            {"path": "/ok", "permissions": "0644"},
            {"path": "relative"},
            {"path": "/missing-content"}
        ]}),
        &[("/no/parent/f", b"x"), ("/ok", b"x"), ("relative", b"x")],
    );
    assert_eq!(status, 200, "{body}");
    let r = &body["result"];
    assert_eq!(r[0]["error"]["kind"], "not-found", "{body}");
    // Pebble names its temporary file: `<path>.<12 random characters>~`.
    let message = r[0]["error"]["message"].as_str().unwrap_or_default();
    let temp = message
        .strip_prefix("open /no/parent/f.")
        .and_then(|m| m.strip_suffix("~: no such file or directory"))
        .unwrap_or_else(|| panic!("{message}"));
    assert_eq!(temp.len(), 12, "{message}");
    assert!(temp.bytes().all(|b| b.is_ascii_alphanumeric()), "{message}");
    assert_eq!(
        r[1]["error"],
        json!({"kind": "generic-file-error", "message": "permissions must be a 3-digit octal string, got \"0644\""})
    );
    assert_eq!(
        r[2]["error"]["message"],
        "paths must be absolute, got \"relative\""
    );
    assert_eq!(
        r[3]["error"]["message"],
        "no file content for path \"/missing-content\""
    );
    // Pull: always 200, failed paths get no part.
    let (parts, result) = pull(&p, "/nope");
    assert!(parts.is_empty());
    assert_eq!(
        result,
        json!([{"path": "/nope", "error": {"kind": "not-found", "message": "stat /nope: no such file or directory"}}])
    );
    std::fs::create_dir_all(p.host("/dir")).unwrap();
    let (_, result) = pull(&p, "/dir");
    assert_eq!(
        result[0]["error"]["message"],
        "can only read a regular file: \"/dir\""
    );
    // Whole-request errors.
    let r = request(&p.socket, "GET", "/v1/files?action=read&path=/x", &[], b"");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("must accept multipart/form-data"));
    let r = request(
        &p.socket,
        "POST",
        "/v1/files",
        &[("Content-Type", "multipart/form-data; boundary=short")],
        b"",
    );
    assert!(
        r.text().contains("invalid boundary \\\"short\\\""),
        "{}",
        r.text()
    );
    let (status, body) = p.post("/v1/files", &json!({"action": "write", "files": []}));
    assert_eq!(
        (status, body["result"]["message"].as_str()),
        (400, Some("must use multipart with \"write\" action"))
    );
    let r = request(
        &p.socket,
        "POST",
        "/v1/files",
        &[("Content-Type", "text/plain")],
        b"x",
    );
    assert!(r.text().contains("invalid media type \\\"text/plain\\\""));
    // A file part without metadata is a bad request.
    let (status, body) = push(
        &p,
        &json!({"action": "write", "files": [{"path": "/a"}]}),
        &[("/b", b"x")],
    );
    assert_eq!(
        (status, body["result"]["message"].as_str()),
        (400, Some("no metadata for path \"/b\""))
    );
}

#[test]
fn escapes_from_the_root_are_refused() {
    let p = start("escape");
    let outside = p.dir.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret"), "top secret").unwrap();
    std::os::unix::fs::symlink(&outside, p.host("/link")).unwrap();
    // Through a symlink pointing outside: refused for read, write, list, mkdir.
    let (parts, result) = pull(&p, "/link/secret");
    assert!(parts.is_empty());
    assert_eq!(result[0]["error"]["kind"], "permission-denied", "{result}");
    let (_, body) = push(
        &p,
        &json!({"action": "write", "files": [{"path": "/link/planted"}]}),
        &[("/link/planted", b"x")],
    );
    assert_eq!(body["result"][0]["error"]["kind"], "permission-denied");
    assert!(!outside.join("planted").exists());
    let (status, _) = p.get("/v1/files?action=list&path=/link");
    assert_eq!(status, 403);
    let (_, body) = p.post(
        "/v1/files",
        &json!({"action": "make-dirs", "dirs": [{"path": "/link/sub", "make-parents": true}]}),
    );
    assert_eq!(body["result"][0]["error"]["kind"], "permission-denied");
    assert!(!outside.join("sub").exists());
    // `..` never climbs out.
    let (parts, result) = pull(&p, "/../outside/secret");
    assert!(parts.is_empty());
    assert_eq!(result[0]["error"]["kind"], "permission-denied");
    let (_, body) = p.post(
        "/v1/files",
        &json!({"action": "remove", "paths": [{"path": "/../outside", "recursive": true}]}),
    );
    assert_eq!(body["result"][0]["error"]["kind"], "permission-denied");
    assert!(outside.join("secret").exists());
    // Removing the link removes the link, not what it points to.
    let (_, body) = p.post(
        "/v1/files",
        &json!({"action": "remove", "paths": [{"path": "/link"}]}),
    );
    assert_eq!(body["result"][0].get("error"), None, "{body}");
    assert!(outside.join("secret").exists());
}

#[test]
fn list_describes_entries_with_pattern_and_itself() {
    let p = start("list");
    std::fs::create_dir_all(p.host("/etc/conf.d")).unwrap();
    std::fs::write(p.host("/etc/a.conf"), "12345").unwrap();
    std::fs::write(p.host("/etc/b.yaml"), "").unwrap();
    let (status, body) = p.get("/v1/files?action=list&path=/etc");
    assert_eq!(status, 200);
    let names: Vec<&str> = body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a.conf", "b.yaml", "conf.d"]);
    let a = &body["result"][0];
    assert_eq!(a["path"], "/etc/a.conf");
    assert_eq!(a["type"], "file");
    assert_eq!(a["size"], 5);
    assert!(a["permissions"].as_str().unwrap().len() == 3);
    assert!(a["last-modified"].as_str().unwrap().ends_with('Z'));
    assert!(a["user-id"].is_u64() && a["group-id"].is_u64());
    assert!(
        body["result"][2].get("size").is_none(),
        "no size for directories"
    );
    let (_, body) = p.get("/v1/files?action=list&path=/etc&pattern=*.conf");
    assert_eq!(body["result"].as_array().unwrap().len(), 1);
    let (_, body) = p.get("/v1/files?action=list&path=/etc&itself=true");
    assert_eq!(body["result"], json!([body["result"][0].clone()]));
    assert_eq!(body["result"][0]["name"], "etc");
    assert_eq!(body["result"][0]["type"], "directory");
    let (_, body) = p.get("/v1/files?action=list&path=/etc/a.conf");
    assert_eq!(body["result"][0]["path"], "/etc/a.conf");
    // Errors are whole-request envelopes.
    let r = request(
        &p.socket,
        "GET",
        "/v1/files?action=list&path=/nope",
        &[],
        b"",
    );
    assert_eq!(
        r.text(),
        r#"{"type":"error","status-code":404,"status":"Not Found","result":{"message":"stat /nope: no such file or directory","kind":"not-found"}}"#
    );
    for (query, status, message) in [
        (
            "action=list&path=etc",
            400,
            "path must be absolute, got \"etc\"",
        ),
        (
            "action=list&path=/etc&itself=yes",
            400,
            "itself parameter must be \"true\" or \"false\"",
        ),
        (
            "action=list&path=/etc&pattern=[",
            400,
            "syntax error in pattern",
        ),
        ("action=list", 400, "must specify path"),
        ("action=dance", 400, "invalid action \"dance\""),
    ] {
        let (s, body) = p.get(&format!("/v1/files?{query}"));
        assert_eq!(
            (s, body["result"]["message"].as_str()),
            (status, Some(message)),
            "{query}"
        );
    }
}

#[test]
fn make_dirs_and_remove_follow_pebbles_rules() {
    let p = start("dirs");
    let mk = |path: &str, parents: bool| {
        let (status, body) = p.post(
            "/v1/files",
            &json!({"action": "make-dirs", "dirs": [{"path": path, "make-parents": parents, "permissions": "700"}]}),
        );
        assert_eq!(status, 200);
        body["result"][0].clone()
    };
    assert_eq!(mk("/a/b/c", true), json!({"path": "/a/b/c"}));
    for dir in ["/a", "/a/b", "/a/b/c"] {
        assert_eq!(
            std::fs::metadata(p.host(dir)).unwrap().permissions().mode() & 0o777,
            0o700,
            "{dir}"
        );
    }
    assert_eq!(mk("/a/b/c", true), json!({"path": "/a/b/c"}));
    assert_eq!(
        mk("/a/b/c", false)["error"],
        json!({"kind": "generic-file-error", "message": "mkdir /a/b/c: file exists"})
    );
    assert_eq!(mk("/x/y", false)["error"]["kind"], "not-found");
    std::fs::write(p.host("/a/f"), "x").unwrap();
    let rm = |path: &str, recursive: bool| {
        let (_, body) = p.post(
            "/v1/files",
            &json!({"action": "remove", "paths": [{"path": path, "recursive": recursive}]}),
        );
        body["result"][0].clone()
    };
    assert_eq!(
        rm("/a", false)["error"],
        json!({"kind": "generic-file-error", "message": "remove /a: directory not empty"})
    );
    assert_eq!(rm("/nope", false)["error"]["kind"], "not-found");
    assert_eq!(rm("/nope", true), json!({"path": "/nope"}));
    assert_eq!(rm("/a", true), json!({"path": "/a"}));
    assert!(!p.host("/a").exists());
    assert!(
        rm("/", true).get("error").is_some(),
        "the root itself stays"
    );
    assert!(p.root.exists());
}
