//! A command-line parser with Go `gnuflag` semantics, as Juju's hook tools use.
//!
//! `--name value`, `--name=value`, `-r 3`, `-r3`, `-r=3`, boolean flags with `--app` or `--app=False`,
//! flags interspersed with positional arguments, and `--` ending flag parsing. Error texts match
//! gnuflag's with Juju's "option" wording (`option provided but not defined: --x`).

use std::collections::BTreeMap;

/// The declaration of one flag.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// Canonical name (what [`Parsed`] is keyed by).
    pub name: &'static str,
    /// Other accepted spellings (e.g. `r` for `relation`).
    pub aliases: &'static [&'static str],
    /// True for boolean flags (no argument unless given as `--flag=value`).
    pub boolean: bool,
}

impl Flag {
    /// A flag taking a value.
    pub const fn value(name: &'static str, aliases: &'static [&'static str]) -> Flag {
        Flag {
            name,
            aliases,
            boolean: false,
        }
    }

    /// A boolean flag.
    pub const fn boolean(name: &'static str, aliases: &'static [&'static str]) -> Flag {
        Flag {
            name,
            aliases,
            boolean: true,
        }
    }
}

/// The result of parsing.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Parsed {
    /// Values of value flags by canonical name (last one wins; all kept in order).
    pub values: BTreeMap<&'static str, Vec<String>>,
    /// Boolean flags that were given, with their value.
    pub bools: BTreeMap<&'static str, bool>,
    /// Positional arguments.
    pub positional: Vec<String>,
    /// `--help`/`-h` was given.
    pub help: bool,
}

impl Parsed {
    /// The last value of a value flag.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    /// True when a value flag was given at all.
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name) || self.bools.contains_key(name)
    }

    /// The value of a boolean flag (false when absent).
    pub fn flag(&self, name: &str) -> bool {
        self.bools.get(name).copied().unwrap_or(false)
    }
}

fn with_minus(name: &str) -> String {
    if name.chars().count() > 1 {
        format!("--{name}")
    } else {
        format!("-{name}")
    }
}

/// Parses a Go boolean (`strconv.ParseBool`).
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Parses `args` against `flags`. The error is the message without the `ERROR ` prefix.
pub fn parse(flags: &[Flag], args: &[String]) -> Result<Parsed, String> {
    let lookup = |name: &str| -> Option<&Flag> {
        flags
            .iter()
            .find(|f| f.name == name || f.aliases.contains(&name))
    };
    let mut out = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "-" || a.is_empty() || !a.starts_with('-') {
            out.positional.push(a.clone());
            continue;
        }
        if a == "--" {
            out.positional.extend(args[i..].iter().cloned());
            break;
        }
        // (name, inline value, long?)
        let mut pending: Vec<(String, Option<String>)> = Vec::new();
        if let Some(long) = a.strip_prefix("--") {
            match long.split_once('=') {
                Some(("", _)) => return Err(format!("empty option in argument {a:?}")),
                Some((n, v)) => pending.push((n.to_string(), Some(v.to_string()))),
                None => pending.push((long.to_string(), None)),
            }
        } else {
            // A run of single-rune flags; a value flag takes the rest of the token.
            for (idx, c) in a[1..].char_indices() {
                let name = c.to_string();
                let rest = &a[1 + idx + c.len_utf8()..];
                let is_bool = lookup(&name).is_some_and(|f| f.boolean);
                if !is_bool && !rest.is_empty() {
                    // gnuflag keeps a leading '=' in the value; we accept `-r=3` as `-r 3`.
                    let v = rest.strip_prefix('=').unwrap_or(rest);
                    pending.push((name, Some(v.to_string())));
                    break;
                }
                if is_bool && rest.starts_with('=') {
                    pending.push((name, Some(rest[1..].to_string())));
                    break;
                }
                pending.push((name, None));
            }
        }
        for (name, inline) in pending {
            let Some(flag) = lookup(&name) else {
                if name == "help" || name == "h" {
                    out.help = true;
                    continue;
                }
                return Err(format!(
                    "option provided but not defined: {}",
                    with_minus(&name)
                ));
            };
            if flag.boolean {
                let v = match inline {
                    None => true,
                    Some(v) => parse_go_bool(&v).ok_or_else(|| {
                        format!(
                            "invalid value {v:?} for option {}: strconv.ParseBool: parsing {v:?}: invalid syntax",
                            with_minus(&name)
                        )
                    })?,
                };
                out.bools.insert(flag.name, v);
            } else {
                let v = match inline {
                    Some(v) => v,
                    None => {
                        let Some(v) = args.get(i) else {
                            return Err(format!("option needs an argument: {}", with_minus(&name)));
                        };
                        i += 1;
                        v.clone()
                    }
                };
                out.values.entry(flag.name).or_default().push(v);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAGS: &[Flag] = &[
        Flag::value("relation", &["r"]),
        Flag::value("format", &[]),
        Flag::boolean("app", &[]),
        Flag::boolean("application", &[]),
    ];

    fn p(args: &[&str]) -> Result<Parsed, String> {
        parse(
            FLAGS,
            &args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn gnu_forms() {
        let r = p(&["-r", "db:1", "--format=json", "key", "--app", "-", "x"]).unwrap_or_default();
        assert_eq!(r.get("relation"), Some("db:1"));
        assert_eq!(r.get("format"), Some("json"));
        assert!(r.flag("app"));
        assert_eq!(r.positional, vec!["key", "-", "x"]);
        assert_eq!(p(&["-r=3"]).unwrap_or_default().get("relation"), Some("3"));
        assert_eq!(p(&["-r3"]).unwrap_or_default().get("relation"), Some("3"));
        assert_eq!(
            p(&["--format", "json"]).unwrap_or_default().get("format"),
            Some("json")
        );
        let r = p(&["--application=False", "active", "--", "-r", "msg"]).unwrap_or_default();
        assert!(!r.flag("application"));
        assert!(r.has("application"));
        assert_eq!(r.positional, vec!["active", "-r", "msg"]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            p(&["--bogus"]),
            Err("option provided but not defined: --bogus".into())
        );
        assert_eq!(
            p(&["-x"]),
            Err("option provided but not defined: -x".into())
        );
        assert_eq!(
            p(&["--format"]),
            Err("option needs an argument: --format".into())
        );
        assert!(
            p(&["--app=maybe"])
                .err()
                .unwrap_or_default()
                .contains("invalid syntax")
        );
        assert!(p(&["--help"]).unwrap_or_default().help);
    }
}
