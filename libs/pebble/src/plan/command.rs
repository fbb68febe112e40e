//! Service and check command lines: Pebble's shell-like splitting (the lexer of
//! `canonical/x-go/strutil/shlex`) and the optional trailing `[ default args ]` group.
//!
//! Rules: words are separated by space, tab, CR, LF; `'…'` is literal; `"…"` is literal except that
//! `\` takes the next character as is; `\` outside quotes does the same; a `#` at the start of a
//! word starts a comment up to the end of the line.

use std::fmt;

/// Why a command line cannot be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// A quote was not closed.
    UnclosedQuote,
    /// The text ends with an escape character.
    TrailingEscape,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SplitError::UnclosedQuote => "EOF found when expecting closing quote",
            SplitError::TrailingEscape => "EOF found after escape character",
        })
    }
}

impl std::error::Error for SplitError {}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Start,
    Word,
    Escape,
    QuotedEscape,
    Double,
    Single,
    Comment,
}

/// Splits a command line into words.
pub fn split(text: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut state = State::Start;
    for c in text.chars() {
        let space = matches!(c, ' ' | '\t' | '\r' | '\n');
        state = match state {
            State::Start => match c {
                _ if space => State::Start,
                '"' => State::Double,
                '\'' => State::Single,
                '\\' => State::Escape,
                '#' => State::Comment,
                c => {
                    word.push(c);
                    State::Word
                }
            },
            State::Word => match c {
                _ if space => {
                    words.push(std::mem::take(&mut word));
                    State::Start
                }
                '"' => State::Double,
                '\'' => State::Single,
                '\\' => State::Escape,
                c => {
                    word.push(c);
                    State::Word
                }
            },
            State::Escape => {
                word.push(c);
                State::Word
            }
            State::QuotedEscape => {
                word.push(c);
                State::Double
            }
            State::Double => match c {
                '"' => State::Word,
                '\\' => State::QuotedEscape,
                c => {
                    word.push(c);
                    State::Double
                }
            },
            State::Single => match c {
                '\'' => State::Word,
                c => {
                    word.push(c);
                    State::Single
                }
            },
            State::Comment => match c {
                '\n' => State::Start,
                _ => State::Comment,
            },
        };
    }
    match state {
        State::Start | State::Comment => {}
        State::Word => words.push(word),
        State::Escape | State::QuotedEscape => return Err(SplitError::TrailingEscape),
        State::Double | State::Single => return Err(SplitError::UnclosedQuote),
    }
    Ok(words)
}

/// A service command that cannot be used; the message is Pebble's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot parse service {service:?} command: {reason}")]
pub struct CommandError {
    service: String,
    reason: String,
}

/// Splits a service command into its base words and its `[ default args ]` group.
pub fn parse_command(
    service: &str,
    command: &str,
) -> Result<(Vec<String>, Vec<String>), CommandError> {
    let fail = |reason: &str| CommandError {
        service: service.to_string(),
        reason: reason.to_string(),
    };
    let words = split(command).map_err(|e| fail(&e.to_string()))?;
    let (mut base, mut extra) = (Vec::new(), Vec::new());
    let (mut in_group, mut had_group) = (false, false);
    for (i, word) in words.into_iter().enumerate() {
        if in_group {
            match word.as_str() {
                "[" => return Err(fail("cannot nest [ ... ] groups")),
                "]" => in_group = false,
                _ => extra.push(word),
            }
            continue;
        }
        if had_group {
            return Err(fail("cannot have any arguments after [ ... ] group"));
        }
        match word.as_str() {
            "[" if i == 0 => return Err(fail("cannot start command with [ ... ] group")),
            "[" => {
                in_group = true;
                had_group = true;
            }
            "]" => return Err(fail("cannot have ] outside of [ ... ] group")),
            _ => base.push(word),
        }
    }
    Ok((base, extra))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn splits_like_pebble() {
        let cases: &[(&str, &[&str])] = &[
            ("one two", &["one", "two"]),
            ("  one\t two \n", &["one", "two"]),
            (r#"one "two three" four"#, &["one", "two three", "four"]),
            (r#"a'b c'd"#, &["ab cd"]),
            (r#""a \" \\ \$ b""#, &[r#"a " \ $ b"#]),
            (r"a\ b c", &["a b", "c"]),
            ("'single \\ literal'", &["single \\ literal"]),
            ("a # comment\nb", &["a", "b"]),
            ("a#not-comment", &["a#not-comment"]),
            ("''", &[""]),
            ("", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(split(text).unwrap(), words(want), "{text:?}");
        }
    }

    #[test]
    fn split_errors_have_pebble_messages() {
        assert_eq!(
            split("a 'b").unwrap_err().to_string(),
            "EOF found when expecting closing quote"
        );
        assert_eq!(split("a \"b").unwrap_err(), SplitError::UnclosedQuote);
        assert_eq!(
            split("a \\").unwrap_err().to_string(),
            "EOF found after escape character"
        );
        assert_eq!(split("\"a \\").unwrap_err(), SplitError::TrailingEscape);
    }

    #[test]
    fn default_argument_group() {
        assert_eq!(
            parse_command("web", "/bin/web --port 80 [ --debug -v ]").unwrap(),
            (
                words(&["/bin/web", "--port", "80"]),
                words(&["--debug", "-v"])
            )
        );
        assert_eq!(
            parse_command("web", "/bin/web").unwrap(),
            (words(&["/bin/web"]), vec![])
        );
        let cases = [
            ("[ a ]", "cannot start command with [ ... ] group"),
            ("a [ b [ c ] ]", "cannot nest [ ... ] groups"),
            ("a [ b ] c", "cannot have any arguments after [ ... ] group"),
            ("a ] b", "cannot have ] outside of [ ... ] group"),
            ("a 'b", "EOF found when expecting closing quote"),
        ];
        for (command, reason) in cases {
            assert_eq!(
                parse_command("web", command).unwrap_err().to_string(),
                format!("cannot parse service \"web\" command: {reason}"),
                "{command}"
            );
        }
    }
}
