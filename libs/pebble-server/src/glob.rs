//! Shell patterns as Go's `path.Match` reads them (`*`, `?`, `[a-z]`, `[^x]`, `\` escapes),
//! matched against single file names (no `/`), in linear time.

/// Go's `path.ErrBadPattern`.
pub(crate) const BAD_PATTERN: &str = "syntax error in pattern";

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Any,
    One,
    Char(char),
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// Whether `name` matches `pattern`; a malformed pattern is an error.
pub(crate) fn matches(pattern: &str, name: &str) -> Result<bool, &'static str> {
    let tokens = parse(pattern)?;
    let name: Vec<char> = name.chars().collect();
    Ok(match_tokens(&tokens, &name))
}

fn parse(pattern: &str) -> Result<Vec<Token>, &'static str> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => {
                if out.last() != Some(&Token::Any) {
                    out.push(Token::Any);
                }
                i += 1;
            }
            '?' => {
                out.push(Token::One);
                i += 1;
            }
            '\\' => {
                let c = *chars.get(i + 1).ok_or(BAD_PATTERN)?;
                out.push(Token::Char(c));
                i += 2;
            }
            '[' => {
                i += 1;
                let negated = chars.get(i) == Some(&'^');
                if negated {
                    i += 1;
                }
                let mut ranges = Vec::new();
                let mut first = true;
                loop {
                    let c = *chars.get(i).ok_or(BAD_PATTERN)?;
                    if c == ']' && !first {
                        i += 1;
                        break;
                    }
                    first = false;
                    let (lo, next) = class_char(&chars, i)?;
                    i = next;
                    let mut hi = lo;
                    if chars.get(i) == Some(&'-') {
                        let (h, next) = class_char(&chars, i + 1)?;
                        if h < lo {
                            return Err(BAD_PATTERN);
                        }
                        hi = h;
                        i = next;
                    }
                    ranges.push((lo, hi));
                }
                out.push(Token::Class { negated, ranges });
            }
            c => {
                out.push(Token::Char(c));
                i += 1;
            }
        }
    }
    Ok(out)
}

/// One character of a class at `i` (escaped or plain); `-` and `]` must be escaped.
fn class_char(chars: &[char], i: usize) -> Result<(char, usize), &'static str> {
    match chars.get(i) {
        Some('\\') => chars.get(i + 1).map(|c| (*c, i + 2)).ok_or(BAD_PATTERN),
        Some('-') | Some(']') | None => Err(BAD_PATTERN),
        Some(c) => Ok((*c, i + 1)),
    }
}

fn token_matches(t: &Token, c: char) -> bool {
    match t {
        Token::Any => true,
        Token::One => c != '/',
        Token::Char(x) => *x == c,
        Token::Class { negated, ranges } => {
            c != '/' && ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated
        }
    }
}

/// Greedy matching with one backtrack point (the last `*`): O(pattern × name).
fn match_tokens(tokens: &[Token], name: &[char]) -> bool {
    let (mut t, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if t < tokens.len() && tokens[t] == Token::Any {
            star = Some((t, n));
            t += 1;
        } else if t < tokens.len() && token_matches(&tokens[t], name[n]) {
            t += 1;
            n += 1;
        } else if let Some((st, sn)) = star {
            if name[sn] == '/' {
                return false;
            }
            t = st + 1;
            n = sn + 1;
            star = Some((st, sn + 1));
        } else {
            return false;
        }
    }
    tokens[t..].iter().all(|x| *x == Token::Any)
}

#[cfg(test)]
#[path = "glob_test.rs"]
mod tests;
