//! `.warpdrive/server_args`: extra options for the server.
//!
//! The text is split by shell-word rules (single quotes, double quotes,
//! backslashes, `#` comments) and `$VAR`, `${VAR}` and `${VAR:-default}` are
//! expanded from the environment, outside single quotes. Nothing else of the
//! shell exists here: `$(cmd)` and backticks stay literal text, there is no
//! globbing and no field splitting of expanded values. The original
//! warpdrive fed this file through `sh`, which executed `$(cmd)`; this never
//! runs a shell.
//!
//! `shlex` splits words but cannot tell which `$` was quoted, so the splitter
//! and the expansion are one small state machine here.

use std::collections::BTreeMap;

/// A problem in the text; the caller adds the file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    #[error("line {line}: unterminated {what} quote (close it, or escape it with a backslash)")]
    Unterminated { what: &'static str, line: usize },
    #[error("line {line}: variable {name} is not set (set it, or write ${{{name}:-default}})")]
    Unset { name: String, line: usize },
    #[error(
        "line {line}: bad variable reference {text:?} (use $NAME, ${{NAME}} or ${{NAME:-default}})"
    )]
    BadReference { text: String, line: usize },
    #[error("line {line}: the value is {count} words; quote it (KEY=\"a b\") to keep the spaces")]
    Words { count: usize, line: usize },
}

impl ArgsError {
    /// The message without its `line N: ` start, for a caller that names
    /// the line itself.
    pub fn without_line(&self) -> String {
        let text = self.to_string();
        match text.split_once(": ") {
            Some((_, rest)) => rest.to_string(),
            None => text,
        }
    }
}

/// One value (the right-hand side of a `KEY=VALUE` line in
/// `.warpdrive/environment`): the same quoting and expansion as
/// [`split_and_expand`], and it must come out as one word (or none: an
/// empty value).
pub fn expand_value(text: &str, env: &BTreeMap<String, String>) -> Result<String, ArgsError> {
    let mut words = split_and_expand(text, env)?;
    match words.len() {
        0 => Ok(String::new()),
        1 => Ok(words.remove(0)),
        count => Err(ArgsError::Words { count, line: 1 }),
    }
}

/// Splits and expands `text`. `env` is the process environment.
pub fn split_and_expand(
    text: &str,
    env: &BTreeMap<String, String>,
) -> Result<Vec<String>, ArgsError> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' | ' ' | '\t' | '\r' => {
                if c == '\n' {
                    line += 1;
                }
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
                i += 1;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' => {
                match chars.get(i + 1) {
                    Some('\n') => line += 1, // line continuation: no word
                    Some(&next) => {
                        in_word = true;
                        word.push(next);
                    }
                    None => {
                        in_word = true;
                        word.push('\\');
                    }
                }
                i += 2;
            }
            '\'' | '"' => {
                in_word = true;
                i = quoted(&chars, i, env, &mut line, &mut word)?;
            }
            '$' => {
                in_word = true;
                i = expand(&chars, i, env, line, &mut word)?;
            }
            _ => {
                in_word = true;
                word.push(c);
                i += 1;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Reads the quoted text opening at `chars[i]` (`'` or `"`) into `word` and
/// returns the index after the closing quote. Inside double quotes, `\`
/// escapes `"`, `\\`, `$` and backquote, and variables expand; inside single
/// quotes everything is literal.
fn quoted(
    chars: &[char],
    mut i: usize,
    env: &BTreeMap<String, String>,
    line: &mut usize,
    word: &mut String,
) -> Result<usize, ArgsError> {
    let quote = chars[i];
    let start_line = *line;
    let double = quote == '"';
    i += 1;
    loop {
        match chars.get(i) {
            None => {
                return Err(ArgsError::Unterminated {
                    what: if double { "double" } else { "single" },
                    line: start_line,
                })
            }
            Some(&c) if c == quote => return Ok(i + 1),
            Some('\\') if double && matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`')) => {
                word.push(chars[i + 1]);
                i += 2;
            }
            Some('$') if double => i = expand(chars, i, env, *line, word)?,
            Some(&c) => {
                if c == '\n' {
                    *line += 1;
                }
                word.push(c);
                i += 1;
            }
        }
    }
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// Expands the reference starting at `chars[i] == '$'`, appending to `out`.
/// Returns the index after the reference. A `$` not followed by a name or
/// `{` is literal (so `$(cmd)` stays as written).
fn expand(
    chars: &[char],
    i: usize,
    env: &BTreeMap<String, String>,
    line: usize,
    out: &mut String,
) -> Result<usize, ArgsError> {
    let lookup = |name: &str| -> Result<String, ArgsError> {
        env.get(name).cloned().ok_or_else(|| ArgsError::Unset {
            name: name.to_string(),
            line,
        })
    };
    match chars.get(i + 1) {
        Some(&c) if is_name_start(c) => {
            let mut j = i + 1;
            while j < chars.len() && is_name_char(chars[j]) {
                j += 1;
            }
            let name: String = chars[i + 1..j].iter().collect();
            out.push_str(&lookup(&name)?);
            Ok(j)
        }
        Some('{') => {
            let close = chars[i + 2..]
                .iter()
                .position(|&c| c == '}')
                .map(|p| i + 2 + p);
            let Some(close) = close else {
                return Err(ArgsError::BadReference {
                    text: chars[i..].iter().take(20).collect(),
                    line,
                });
            };
            let inner: String = chars[i + 2..close].iter().collect();
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner.as_str(), None),
            };
            let valid =
                name.chars().next().is_some_and(is_name_start) && name.chars().all(is_name_char);
            if !valid {
                return Err(ArgsError::BadReference {
                    text: chars[i..=close].iter().collect(),
                    line,
                });
            }
            match (env.get(name).filter(|v| !v.is_empty()), default) {
                (Some(v), _) => out.push_str(v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => out.push_str(&lookup(name)?),
            }
            Ok(close + 1)
        }
        _ => {
            out.push('$');
            Ok(i + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn splits_quotes_comments_and_continuations() {
        let text =
            "--url-alias /static/ 'my static/'  # comment here\n--name \"a b\" c\\ d \\\n  --x\n";
        let words = split_and_expand(text, &env(&[])).unwrap();
        assert_eq!(
            words,
            [
                "--url-alias",
                "/static/",
                "my static/",
                "--name",
                "a b",
                "c d",
                "--x"
            ]
        );
    }

    #[test]
    fn expands_variables_outside_single_quotes() {
        let e = env(&[("PORT", "9000"), ("EMPTY", ""), ("SP", "a b")]);
        let words = split_and_expand(
            "--port $PORT ${PORT}x ${MISSING:-d} ${EMPTY:-e} '$PORT' \"$SP\" $SP",
            &e,
        )
        .unwrap();
        assert_eq!(
            words,
            ["--port", "9000", "9000x", "d", "e", "$PORT", "a b", "a b"]
        );
    }

    #[test]
    fn command_substitution_stays_literal() {
        let words =
            split_and_expand("$(touch /tmp/x) `touch /tmp/y` \"$(id)\"", &env(&[])).unwrap();
        assert_eq!(words, ["$(touch", "/tmp/x)", "`touch", "/tmp/y`", "$(id)"]);
    }

    #[test]
    fn one_value() {
        let e = env(&[("HOME", "/h")]);
        assert_eq!(expand_value("", &e).unwrap(), "");
        assert_eq!(expand_value("\"\"", &e).unwrap(), "");
        assert_eq!(expand_value("'a b' # note", &e).unwrap(), "a b");
        assert_eq!(expand_value("${HOME}/x:${NO:-d}", &e).unwrap(), "/h/x:d");
        assert_eq!(
            expand_value("a b", &e).unwrap_err(),
            ArgsError::Words { count: 2, line: 1 }
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let e = split_and_expand("--a\n--b $NOPE", &env(&[])).unwrap_err();
        assert_eq!(
            e,
            ArgsError::Unset {
                name: "NOPE".into(),
                line: 2
            }
        );
        assert!(e.to_string().contains("${NOPE:-default}"), "{e}");
        let e = split_and_expand("--a 'oops", &env(&[])).unwrap_err();
        assert_eq!(
            e,
            ArgsError::Unterminated {
                what: "single",
                line: 1
            }
        );
        assert!(split_and_expand("${1bad}", &env(&[])).is_err());
        assert!(split_and_expand("${OPEN", &env(&[])).is_err());
    }
}
