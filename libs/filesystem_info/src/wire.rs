//! The whole wire contract of the `filesystem_info` interface: bags, keys, the endpoint URI and
//! the auth secret.
//!
//! | bag | key | encoding | written by |
//! | --- | --- | --- | --- |
//! | provider app | `endpoint` | the endpoint URI (grammar below) | provider leader |
//! | provider peer app (`server-peers`) | `endpoint` | the same URI: the durable copy sent to relations that join later | provider leader |
//! | requirer app, every unit bag | — | nothing: the requirer never writes | — |
//!
//! Auth secret (cephfs only): owned by the provider application, label `auth`, content
//! `{"key": <cephx key>}`, description "Cephx key to authenticate against the CephFS share";
//! one secret for every relation, granted to each.
//!
//! # The endpoint URI
//!
//! `scheme "://" [user "@"] "(" hosts ")" path ["?" options]`
//!
//! | scheme | user | hosts | path | options, in this order |
//! | --- | --- | --- | --- | --- |
//! | `nfs` | none | one: the hostname, `[v6]` for an IPv6 literal, plus `:port` when the port is non-zero | the export | none |
//! | `cephfs` | the Ceph user (required) | the monitors (`ip:port`) | the path inside the filesystem | `fsid`, `name` (filesystem), `auth` (`secret:<id>` or `plain:<key>`), `auth-rev` (the secret's revision; not with `plain:`) |
//! | `lustre` | none | the MGS NIDs | always `/` | `fs-name` |
//!
//! Written as Python's `quote`/`urlencode` write it, byte for byte: the user, the hosts joined
//! with `,` **as one string**, and the path keep `A-Z a-z 0-9 _ . - ~ /` and encode every other
//! UTF-8 byte as `%XX` (upper-case hex), so the separator is `%2C`, a port colon `%3A`, a NID
//! `@` `%40`; an empty path is `/` and a relative one gets a leading `/`. Options are
//! `key=value` joined with `&`, each part encoded like `quote_plus` (space is `+`, `/` is
//! `%2F`); no options, no `?`. Example:
//! `cephfs://fsuser@(10.0.0.1%3A6789%2C10.0.0.2%3A6789)/vol/a%20b?fsid=123-abc&name=fs1&auth=secret%3Ad0erdgfmp25c762i8np0&auth-rev=1`.
//!
//! Read as the Python library reads it (`urlparse(uri, allow_fragments=False)`, then checks):
//! the scheme is the raw text before the first `://` (exactly `nfs`, `cephfs` or `lustre`);
//! leading spaces and control characters are dropped and tabs and line breaks removed; the
//! netloc ends at the first `/`, `?` or `#`; the user is the text before the last `@`, cut at
//! the first `:`; the host part is the text after it, cut at the first raw `:`, lower-cased up
//! to its first `%`, percent-decoded, and must be `(...)`, whose inside is split on `,`; the
//! path runs to the first `?` (a `#` is part of it); the options are parsed strictly (a field
//! without `=` fails, an empty value is dropped, `+` is a space, a repeated key is joined with
//! `,`). nfs takes the first host (`host`, `host:port` or `[v6]:port`), cephfs needs the user,
//! `name`, `fsid` and `auth` and ignores `auth-rev`, lustre needs `fs-name`.
//!
//! This port also rejects what cannot be mounted safely (Python accepts it): a port outside
//! 0..=65535, an empty host, a value beginning with `-` where it becomes a command-line word
//! (hosts, user, `fsid`, `name`, `fs-name`), a control character in any decoded value, and an
//! `auth` secret id that is not `secret:<20-character id>` or `secret://<model uuid>/<id>`.
//! Errors never echo an `auth` value, and echo other values shortened.

use charm::secret::SecretContent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fmt::Write as _;
use std::net::Ipv6Addr;

/// Provider app bag key (and peer app bag key): the endpoint URI.
pub const ENDPOINT: &str = "endpoint";
/// Label of the provider's auth secret.
pub const AUTH_SECRET_LABEL: &str = "auth";
/// Description of the auth secret, as the Python provider sets it.
pub const AUTH_SECRET_DESCRIPTION: &str = "Cephx key to authenticate against the CephFS share";
/// Secret content key of the cephx key.
pub const KEY_FIELD: &str = "key";
/// cephfs option: the Ceph cluster id.
pub const FSID: &str = "fsid";
/// cephfs option: the filesystem name.
pub const NAME: &str = "name";
/// cephfs option: where the key is (`secret:<id>` or `plain:<key>`).
pub const AUTH: &str = "auth";
/// cephfs option: the auth secret's revision (changes the URI when the key changes).
pub const AUTH_REV: &str = "auth-rev";
/// lustre option: the filesystem name.
pub const FS_NAME: &str = "fs-name";
/// Kind prefix of an `auth` value that names a secret.
pub const SECRET_KIND: &str = "secret";
/// Kind prefix of an `auth` value that carries the key itself (reactive providers).
pub const PLAIN_KIND: &str = "plain";

/// Longest excerpt of a remote value shown in an error message.
const SHOWN: usize = 40;

// ----- schemes -----

/// The filesystem types the URI can describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// `nfs://`
    Nfs,
    /// `cephfs://`
    Cephfs,
    /// `lustre://`
    Lustre,
}

impl Scheme {
    /// The scheme as written before `://`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Nfs => "nfs",
            Scheme::Cephfs => "cephfs",
            Scheme::Lustre => "lustre",
        }
    }

    /// The scheme of this exact text (case-sensitive, as Python dispatches).
    pub fn parse(text: &str) -> Option<Scheme> {
        match text {
            "nfs" => Some(Scheme::Nfs),
            "cephfs" => Some(Scheme::Cephfs),
            "lustre" => Some(Scheme::Lustre),
            _ => None,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ----- percent-encoding, as Python's urllib.parse -----

fn always_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~')
}

fn encode(text: &str, keep: impl Fn(u8) -> bool, space_plus: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b == b' ' && space_plus {
            out.push('+');
        } else if always_safe(b) || keep(b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Python's `quote(text)`: keeps letters, digits, `_.-~` and `/`; `%XX` for every other byte.
pub fn quote(text: &str) -> String {
    encode(text, |b| b == b'/', false)
}

/// Python's `quote_plus(text, safe="")`: like [`quote`] but `/` is encoded and space is `+`.
pub fn quote_plus(text: &str) -> String {
    encode(text, |_| false, true)
}

/// Python's `unquote(text)`: `%XX` decoded (bytes read as UTF-8, invalid ones becoming
/// U+FFFD), invalid escapes and non-ASCII characters kept as they are.
pub fn unquote(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        // Python decodes runs of ASCII; other characters pass through untouched.
        let ascii = rest.bytes().take_while(u8::is_ascii).count();
        if ascii > 0 {
            out.push_str(&decode_run(&rest[..ascii]));
            rest = &rest[ascii..];
        } else {
            let other = rest
                .char_indices()
                .find(|(_, c)| c.is_ascii())
                .map_or(rest.len(), |(i, _)| i);
            out.push_str(&rest[..other]);
            rest = &rest[other..];
        }
    }
    out
}

fn decode_run(run: &str) -> String {
    let bytes = run.as_bytes();
    let mut buf = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let value = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                buf.push(u8::try_from(value).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                buf.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Python's `unquote_plus`: `+` is a space, then [`unquote`].
fn unquote_plus(text: &str) -> String {
    unquote(&text.replace('+', " "))
}

/// Python's `urlencode` of ordered pairs.
fn urlencode(options: &[(&str, String)]) -> String {
    options
        .iter()
        .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(v)))
        .collect::<Vec<_>>()
        .join("&")
}

// ----- secret ids -----

/// A Juju secret id read from a databag: the framework's checked type, so nothing else reaches a
/// hook tool (`secret:<xid>`, `secret://<model uuid>/<xid>` or a bare `<xid>`).
pub use charm::SecretId;

/// Checks a secret id from the wire.
fn secret_id(text: &str) -> Result<SecretId, WireError> {
    SecretId::parse(text).map_err(|_| WireError::BadSecretId)
}

// ----- the key -----

/// A cephx key. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Key {
        Key(key.into())
    }

    /// The key itself: only for the secret content and the key file, never for logs or argv.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key(<redacted, {} chars>)", self.0.chars().count())
    }
}

// ----- what the URI describes -----

/// An NFS export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NfsInfo {
    /// The server's hostname or address (an IPv6 address without brackets).
    pub hostname: String,
    /// The server's port; `None` (or 0) means the default.
    pub port: Option<u16>,
    /// The exported path.
    pub path: String,
}

/// A Lustre filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LustreInfo {
    /// The NIDs of the management server(s), e.g. `192.168.227.11@tcp1`.
    pub mgs_nids: Vec<String>,
    /// The filesystem name.
    pub fs_name: String,
}

/// A CephFS share with its key: what the provider publishes, and what the requirer resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CephfsInfo {
    /// The Ceph cluster id.
    pub fsid: String,
    /// The filesystem name.
    pub name: String,
    /// The exported path inside the filesystem.
    pub path: String,
    /// The monitor addresses (`host:port`), in the provider's order.
    pub monitor_hosts: Vec<String>,
    /// The Ceph user (without `client.`).
    pub user: String,
    /// The user's cephx key.
    pub key: Key,
}

/// Where the cephx key of a cephfs URI is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CephfsAuth {
    /// In this Juju secret, content key `key`.
    Secret(SecretId),
    /// In the URI itself (`plain:<key>`, reactive providers without secrets).
    Plain(Key),
}

/// A CephFS share as the URI describes it: the key may still be behind a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CephfsEndpoint {
    /// The Ceph cluster id.
    pub fsid: String,
    /// The filesystem name.
    pub name: String,
    /// The exported path inside the filesystem.
    pub path: String,
    /// The monitor addresses.
    pub monitor_hosts: Vec<String>,
    /// The Ceph user.
    pub user: String,
    /// Where the key is.
    pub auth: CephfsAuth,
    /// The secret revision the provider last wrote (`None`: absent or not a number).
    pub auth_rev: Option<u32>,
}

/// A filesystem, ready to mount (the cephfs key resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilesystemInfo {
    /// NFS.
    Nfs(NfsInfo),
    /// CephFS.
    Cephfs(CephfsInfo),
    /// Lustre.
    Lustre(LustreInfo),
}

impl FilesystemInfo {
    /// Its scheme.
    pub fn scheme(&self) -> Scheme {
        match self {
            FilesystemInfo::Nfs(_) => Scheme::Nfs,
            FilesystemInfo::Cephfs(_) => Scheme::Cephfs,
            FilesystemInfo::Lustre(_) => Scheme::Lustre,
        }
    }

    /// The URI describing it, with the key at `auth` (a secret with its revision, or plain).
    pub fn endpoint_uri(&self, auth: CephfsAuth, auth_rev: Option<u32>) -> EndpointUri {
        match self {
            FilesystemInfo::Nfs(info) => EndpointUri::Nfs(info.clone()),
            FilesystemInfo::Lustre(info) => EndpointUri::Lustre(info.clone()),
            FilesystemInfo::Cephfs(info) => EndpointUri::Cephfs(CephfsEndpoint {
                fsid: info.fsid.clone(),
                name: info.name.clone(),
                path: info.path.clone(),
                monitor_hosts: info.monitor_hosts.clone(),
                user: info.user.clone(),
                auth,
                auth_rev,
            }),
        }
    }

    /// Whether a provider may publish it: the URI it makes is one this library reads back.
    ///
    /// Checked with the key inline, so nothing touches a secret before the data is known good.
    pub fn check(&self) -> Result<(), WireError> {
        if let FilesystemInfo::Cephfs(info) = self
            && info.key.expose().is_empty()
        {
            return Err(WireError::EmptyValue("cephx key"));
        }
        let key = match self {
            FilesystemInfo::Cephfs(info) => info.key.clone(),
            _ => Key::new(""),
        };
        let uri = self.endpoint_uri(CephfsAuth::Plain(key), None).to_uri();
        EndpointUri::parse(&uri).map(|_| ())
    }
}

/// A parsed `endpoint` value: what the URI says, nothing read from Juju yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointUri {
    /// `nfs://`
    Nfs(NfsInfo),
    /// `cephfs://`
    Cephfs(CephfsEndpoint),
    /// `lustre://`
    Lustre(LustreInfo),
}

/// The URI split into its parts, percent-decoded (the Python library's `_UriData`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct UriParts {
    user: String,
    hosts: Vec<String>,
    path: String,
    /// In order of first appearance; repeated keys joined with `,`.
    options: Vec<(String, String)>,
}

impl UriParts {
    fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn to_uri(&self, scheme: Scheme, options: &[(&str, String)]) -> String {
        let hosts = quote(&self.hosts.join(","));
        let netloc = if self.user.is_empty() {
            format!("({hosts})")
        } else {
            format!("{}@({hosts})", quote(&self.user))
        };
        let path = quote(if self.path.is_empty() {
            "/"
        } else {
            &self.path
        });
        let slash = if path.starts_with('/') { "" } else { "/" };
        let query = urlencode(options);
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        format!("{scheme}://{netloc}{slash}{path}{query}")
    }
}

impl EndpointUri {
    /// Its scheme.
    pub fn scheme(&self) -> Scheme {
        match self {
            EndpointUri::Nfs(_) => Scheme::Nfs,
            EndpointUri::Cephfs(_) => Scheme::Cephfs,
            EndpointUri::Lustre(_) => Scheme::Lustre,
        }
    }

    /// The URI text, exactly as the Python provider writes it.
    pub fn to_uri(&self) -> String {
        match self {
            EndpointUri::Nfs(info) => {
                let host = if is_ipv6(&info.hostname) {
                    format!("[{}]", info.hostname)
                } else {
                    info.hostname.clone()
                };
                let host = match info.port {
                    Some(port) if port != 0 => format!("{host}:{port}"),
                    _ => host,
                };
                let parts = UriParts {
                    user: String::new(),
                    hosts: vec![host],
                    path: info.path.clone(),
                    options: Vec::new(),
                };
                parts.to_uri(Scheme::Nfs, &[])
            }
            EndpointUri::Cephfs(info) => {
                let parts = UriParts {
                    user: info.user.clone(),
                    hosts: info.monitor_hosts.clone(),
                    path: info.path.clone(),
                    options: Vec::new(),
                };
                let mut options = vec![(FSID, info.fsid.clone()), (NAME, info.name.clone())];
                match &info.auth {
                    CephfsAuth::Secret(uri) => options.push((AUTH, uri.to_string())),
                    CephfsAuth::Plain(key) => {
                        options.push((AUTH, format!("{PLAIN_KIND}:{}", key.expose())));
                    }
                }
                if let Some(rev) = info.auth_rev {
                    options.push((AUTH_REV, rev.to_string()));
                }
                parts.to_uri(Scheme::Cephfs, &options)
            }
            EndpointUri::Lustre(info) => {
                let parts = UriParts {
                    user: String::new(),
                    hosts: info.mgs_nids.clone(),
                    path: "/".into(),
                    options: Vec::new(),
                };
                parts.to_uri(Scheme::Lustre, &[(FS_NAME, info.fs_name.clone())])
            }
        }
    }

    /// Reads an `endpoint` value as the Python library does, plus this port's safety checks.
    pub fn parse(uri: &str) -> Result<EndpointUri, WireError> {
        let raw_scheme = uri.split("://").next().unwrap_or("");
        let Some(scheme) = Scheme::parse(raw_scheme) else {
            return Err(WireError::UnsupportedScheme(shown(raw_scheme)));
        };
        let parts = split_uri(uri)?;
        match scheme {
            Scheme::Nfs => parse_nfs(&parts),
            Scheme::Cephfs => parse_cephfs(&parts),
            Scheme::Lustre => parse_lustre(&parts),
        }
    }
}

fn is_ipv6(host: &str) -> bool {
    // Python's IPv6Address also takes a scope id (`fe80::1%eth0`).
    let (addr, scope) = match host.split_once('%') {
        Some((addr, scope)) => (addr, Some(scope)),
        None => (host, None),
    };
    addr.parse::<Ipv6Addr>().is_ok() && scope.is_none_or(|s| !s.is_empty() && !s.contains('%'))
}

/// Characters whose NFKC form holds one of `/?#@:`: Python refuses them in a non-ASCII netloc.
const NFKC_CONFUSABLES: [char; 19] = [
    '\u{2047}', '\u{2048}', '\u{2049}', '\u{2100}', '\u{2101}', '\u{2105}', '\u{2106}', '\u{2a74}',
    '\u{fe13}', '\u{fe16}', '\u{fe55}', '\u{fe56}', '\u{fe5f}', '\u{fe6b}', '\u{ff03}', '\u{ff0f}',
    '\u{ff1a}', '\u{ff1f}', '\u{ff20}',
];

/// `urlparse(uri, allow_fragments=False)` and the Python library's `_UriData.from_uri`.
fn split_uri(uri: &str) -> Result<UriParts, WireError> {
    let cleaned: String = uri
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    // The scheme was matched on the raw text, so `cleaned` starts with `<scheme>://`.
    let after = cleaned
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or("");
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (netloc, rest) = after.split_at(end);
    check_netloc(netloc)?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));

    let (user, hostinfo) = match netloc.rsplit_once('@') {
        Some((userinfo, hostinfo)) => (userinfo.split(':').next().unwrap_or(""), hostinfo),
        None => ("", netloc),
    };
    let hostname = match hostinfo.split_once('[') {
        Some((_, bracketed)) => bracketed.split(']').next().unwrap_or(""),
        None => hostinfo.split(':').next().unwrap_or(""),
    };
    // Python lower-cases the hostname up to its first `%` (an IPv6 zone id keeps its case).
    let hostname = match hostname.split_once('%') {
        Some((head, tail)) => format!("{}%{tail}", head.to_lowercase()),
        None => hostname.to_lowercase(),
    };
    let hostname = unquote(&hostname);
    let inner = hostname
        .strip_prefix('(')
        .and_then(|h| h.strip_suffix(')'))
        .ok_or(WireError::InvalidHosts)?;
    let options = if query.is_empty() {
        Vec::new()
    } else {
        parse_query(query)?
    };
    Ok(UriParts {
        user: unquote(user),
        hosts: inner.split(',').map(str::to_string).collect(),
        path: match unquote(path) {
            p if p.is_empty() => "/".to_string(),
            p => p,
        },
        options,
    })
}

/// The checks `urlsplit` makes of the netloc (Python raises `ValueError` for these).
fn check_netloc(netloc: &str) -> Result<(), WireError> {
    let open = netloc.contains('[');
    if open != netloc.contains(']') {
        return Err(WireError::InvalidNetloc("unbalanced '[' or ']'"));
    }
    if open {
        let bracketed = netloc
            .split_once('[')
            .map(|(_, b)| b.split(']').next().unwrap_or(""))
            .unwrap_or("");
        if let Some(future) = bracketed.strip_prefix('v') {
            let valid = future.split_once('.').is_some_and(|(hex, rest)| {
                !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) && !rest.is_empty()
            });
            if !valid {
                return Err(WireError::InvalidNetloc(
                    "invalid IPvFuture address in brackets",
                ));
            }
        } else if !is_ipv6(bracketed) {
            return Err(WireError::InvalidNetloc(
                "brackets that do not hold an IPv6 address",
            ));
        }
    }
    if !netloc.is_ascii() && netloc.contains(NFKC_CONFUSABLES) {
        return Err(WireError::InvalidNetloc(
            "characters that normalise to '/', '?', '#', '@' or ':'",
        ));
    }
    Ok(())
}

/// `parse_qs(query, strict_parsing=True)`, values of a repeated key joined with `,`.
fn parse_query(query: &str) -> Result<Vec<(String, String)>, WireError> {
    let mut options: Vec<(String, String)> = Vec::new();
    for field in query.split('&') {
        let (name, value) = field.split_once('=').ok_or(WireError::InvalidOptions)?;
        if value.is_empty() {
            continue;
        }
        let (name, value) = (unquote_plus(name), unquote_plus(value));
        match options.iter_mut().find(|(k, _)| *k == name) {
            Some((_, joined)) => {
                joined.push(',');
                joined.push_str(&value);
            }
            None => options.push((name, value)),
        }
    }
    Ok(options)
}

/// Python's `int(text)` for a port, and a range check of our own.
fn parse_port(text: &str) -> Result<u16, WireError> {
    let trimmed = text.trim();
    let (negative, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    // Digits with single underscores between them, as Python's int() takes them.
    let well_formed = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if !well_formed {
        return Err(WireError::BadPort);
    }
    let digits: String = digits.chars().filter(|c| *c != '_').collect();
    let zero = digits.bytes().all(|b| b == b'0');
    match digits.trim_start_matches('0').parse::<u16>() {
        _ if zero => Ok(0),
        Ok(port) if !negative => Ok(port),
        _ => Err(WireError::PortOutOfRange(shown(text))),
    }
}

/// The Python library's `_hostinfo`: `host`, `host:port` or `[v6]` / `[v6]:port`.
fn host_and_port(host: &str) -> Result<(String, Option<u16>), WireError> {
    if host.is_empty() {
        return Err(WireError::EmptyValue("nfs host"));
    }
    let (hostname, rest) = match host.strip_prefix('[') {
        Some(bracketed) => {
            let (inside, rest) = bracketed
                .split_once(']')
                .ok_or(WireError::UnclosedBracket)?;
            if !rest.is_empty() && !rest.starts_with(':') {
                return Err(WireError::ExpectedColon);
            }
            (inside, rest)
        }
        None => match host.find(':') {
            Some(at) => host.split_at(at),
            None => (host, ""),
        },
    };
    let port = match rest.strip_prefix(':') {
        None => None,
        Some(port) => Some(parse_port(port)?),
    };
    Ok((hostname.to_string(), port))
}

/// Values that become words of a mount command line: no control characters, no leading `-`.
fn check_word(what: &'static str, value: &str) -> Result<(), WireError> {
    if value.is_empty() {
        return Err(WireError::EmptyValue(what));
    }
    check_text(what, value)?;
    if value.starts_with('-') {
        return Err(WireError::OptionShaped {
            what,
            value: shown(value),
        });
    }
    Ok(())
}

fn check_text(what: &'static str, value: &str) -> Result<(), WireError> {
    if value.chars().any(char::is_control) {
        return Err(WireError::ControlCharacter(what));
    }
    Ok(())
}

fn parse_nfs(parts: &UriParts) -> Result<EndpointUri, WireError> {
    if !parts.user.is_empty() {
        tracing::warn!("ignoring the user of an nfs endpoint");
    }
    if parts.hosts.len() > 1 {
        tracing::info!("the nfs endpoint lists several hosts: using the first one");
    }
    if !parts.options.is_empty() {
        tracing::warn!("ignoring the options of an nfs endpoint");
    }
    let first = parts.hosts.first().map(String::as_str).unwrap_or("");
    let (hostname, port) = host_and_port(first)?;
    check_word("nfs host", &hostname)?;
    check_text("path", &parts.path)?;
    Ok(EndpointUri::Nfs(NfsInfo {
        hostname,
        port,
        path: parts.path.clone(),
    }))
}

fn required<'a>(parts: &'a UriParts, key: &'static str) -> Result<&'a str, WireError> {
    parts
        .option(key)
        .filter(|v| !v.is_empty())
        .ok_or(WireError::MissingOption(key))
}

fn parse_cephfs(parts: &UriParts) -> Result<EndpointUri, WireError> {
    if parts.user.is_empty() {
        return Err(WireError::MissingUser);
    }
    let name = required(parts, NAME)?;
    let fsid = required(parts, FSID)?;
    let auth = required(parts, AUTH)?;
    let (kind, data) = auth.split_once(':').ok_or(WireError::AuthWithoutKind)?;
    let auth = match kind {
        SECRET_KIND => CephfsAuth::Secret(secret_id(auth)?),
        PLAIN_KIND => CephfsAuth::Plain(Key::new(data)),
        other => return Err(WireError::AuthUnknownKind(shown_kind(other))),
    };
    check_word("ceph user", &parts.user)?;
    check_word("fsid", fsid)?;
    check_word("filesystem name", name)?;
    check_text("path", &parts.path)?;
    for host in &parts.hosts {
        check_word("monitor host", host)?;
    }
    Ok(EndpointUri::Cephfs(CephfsEndpoint {
        fsid: fsid.to_string(),
        name: name.to_string(),
        path: parts.path.clone(),
        monitor_hosts: parts.hosts.clone(),
        user: parts.user.clone(),
        auth,
        // Python ignores auth-rev; it only makes the URI change when the key does.
        auth_rev: parts.option(AUTH_REV).and_then(|r| r.parse().ok()),
    }))
}

fn parse_lustre(parts: &UriParts) -> Result<EndpointUri, WireError> {
    let fs_name = required(parts, FS_NAME)?;
    check_word("fs-name", fs_name)?;
    for nid in &parts.hosts {
        check_word("MGS NID", nid)?;
    }
    Ok(EndpointUri::Lustre(LustreInfo {
        mgs_nids: parts.hosts.clone(),
        fs_name: fs_name.to_string(),
    }))
}

/// A remote value for an error message: at most 40 characters, control characters escaped.
pub fn shown(value: &str) -> String {
    let mut out: String = value
        .chars()
        .take(SHOWN)
        .flat_map(char::escape_debug)
        .collect();
    if value.chars().count() > SHOWN {
        out.push('…');
    }
    out
}

/// An auth kind shown only if it looks like a word, never something that may be a key.
fn shown_kind(kind: &str) -> String {
    let wordy = kind.len() <= 16
        && kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if wordy {
        kind.to_string()
    } else {
        "<not shown>".to_string()
    }
}

/// An `endpoint` the library does not accept. Messages never include an `auth` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The scheme is not `nfs`, `cephfs` or `lustre` (exactly, in lower case).
    #[error("unsupported filesystem type `{0}`")]
    UnsupportedScheme(String),
    /// The netloc is one Python's `urlparse` refuses.
    #[error("invalid endpoint: {0} in the host part")]
    InvalidNetloc(&'static str),
    /// The host part is not `(...)`.
    #[error("invalid list of hosts (expected `(host,...)`)")]
    InvalidHosts,
    /// The options are not `key=value` pairs joined with `&`.
    #[error("invalid options (expected key=value pairs joined with `&`)")]
    InvalidOptions,
    /// An IPv6 host without its `]`.
    #[error("unclosed bracket for host")]
    UnclosedBracket,
    /// Something other than `:port` after `[v6]`.
    #[error("expected `:` after IPv6 address")]
    ExpectedColon,
    /// The port is not a number.
    #[error("expected int after `:` in host")]
    BadPort,
    /// The port is a number no port can be (this port's check).
    #[error("port {0} is out of range 0-65535")]
    PortOutOfRange(String),
    /// cephfs without a user.
    #[error("missing user in uri for cephfs")]
    MissingUser,
    /// A required option is absent or empty.
    #[error("missing {0} in uri")]
    MissingOption(&'static str),
    /// `auth` has no `<kind>:` prefix.
    #[error("could not get the kind of auth info (expected secret:<id> or plain:<key>)")]
    AuthWithoutKind,
    /// `auth` has a kind other than `secret` and `plain`.
    #[error("invalid kind `{0}` for auth info")]
    AuthUnknownKind(String),
    /// `auth=secret:...` does not name a Juju secret.
    #[error(
        "auth is not a Juju secret id (secret:<20-character id> or secret://<model uuid>/<id>)"
    )]
    BadSecretId,
    /// A value is empty where something is required.
    #[error("empty {0}")]
    EmptyValue(&'static str),
    /// A value that would read as a command-line option.
    #[error("{what} `{value}` starts with '-'")]
    OptionShaped {
        /// What the value is.
        what: &'static str,
        /// The value, shortened.
        value: String,
    },
    /// A decoded value holds a control character.
    #[error("{0} contains a control character")]
    ControlCharacter(&'static str),
}

// ----- the bags and the secret, typed (for writing and for the JSON Schemas) -----

/// The provider application's bag (written by the provider leader).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "filesystem_info provider application bag")]
pub struct ProviderAppBag {
    /// The endpoint URI: `<scheme>://[<user>@](<hosts>)<path>[?<options>]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", regex(pattern = r"^(nfs|cephfs|lustre)://"))]
    pub endpoint: Option<String>,
}

/// The provider's peer application bag: the URI last published, for relations that join later.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "filesystem_info provider peer application bag (server-peers)")]
pub struct PeerAppBag {
    /// The endpoint URI, the same text the relations get.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", regex(pattern = r"^(nfs|cephfs|lustre)://"))]
    pub endpoint: Option<String>,
}

/// The requirer's bags: it writes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "filesystem_info requirer bags (always empty)")]
pub struct RequirerBag {}

/// The content of the auth secret (label `auth`). `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "filesystem_info auth secret content")]
pub struct AuthSecret {
    /// The cephx key.
    pub key: String,
}

impl fmt::Debug for AuthSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthSecret")
            .field("key", &"<redacted>")
            .finish()
    }
}

impl AuthSecret {
    /// The secret content: `{"key": ...}`.
    pub fn content(key: &Key) -> SecretContent {
        SecretContent::new().with(KEY_FIELD, key.expose())
    }

    /// The key in a secret's content, if it has one.
    pub fn key(content: &SecretContent) -> Option<Key> {
        content.get(KEY_FIELD).map(Key::new)
    }
}

#[cfg(test)]
#[path = "wire_test.rs"]
mod tests;
