//! Where mod_wsgi-express writes the value of each of its options, and the
//! check that keeps a value from breaking out of it.
//!
//! mod_wsgi-express (6.1.1, `mod_wsgi/express/{scripts,apache,server}.py`)
//! turns its options into three generated files, by plain `%` string
//! formatting, without escaping:
//!
//! * the `apachectl` shell script it then runs (`/bin/sh`): `--host`,
//!   `--user`, `--group`, `--working-directory`, `--process-name`,
//!   `--shell-executable`, `--httpd-executable`, `--modules-directory`,
//!   `--gdb-executable`, `--startup-log-name` and `--log-directory` (through
//!   `HTTPD_ARGS`) inside double quotes, where `$`, a backquote, `"` and `\`
//!   are shell syntax (`MOD_WSGI_WORKING_DIRECTORY='/x$(touch F)'` ran
//!   `touch` as root); `--lang` and `--locale` inside single quotes;
//!   `--server-root` and `--envvars-script` with no quotes at all (`. ROOT/envvars`);
//! * `handler.wsgi`, a Python script: `--application-type`, `--entry-point`
//!   (or the script given as an argument), `--callable-object`,
//!   `--mount-point`, `--working-directory`, `--server-name`/`--host` and
//!   the coverage, profiler and recorder directories, inside `'…'` (some
//!   `r'…'`), where `'` and `\` end or escape the string;
//! * `httpd.conf`: nearly every value, most of them inside `'…'` (a `'`
//!   ends the quoted value and what follows becomes more arguments, e.g.
//!   `user=` of `WSGIDaemonProcess`); the error and access log names,
//!   `--log-directory` and `--rotatelogs-executable` also go into a piped
//!   log command (`ErrorLog "|rotatelogs …"`, run by a shell) unquoted.
//!
//! So: no value (nor any other word) may hold a line break or NUL (a
//! newline in `--working-directory` added a `Listen` line to httpd.conf);
//! each option's value must also avoid what is special where it lands
//! ([`Place`]). The values the launcher builds, those from `MOD_WSGI_*`
//! ([`crate::knobs`], also for `tune --set`) and those in server_args all go
//! through [`check_value`] / [`check_args`].
//!
//! optparse accepts `--opt=value`, `--opt value` and any unambiguous prefix
//! of a long option (`--working-dir`), all handled here.

use std::fmt;

/// Where a value lands, each with the characters that are special there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Inside `"…"` in the apachectl shell script.
    Script,
    /// Inside `'…'` in the apachectl shell script (and httpd.conf).
    ScriptSingleQuoted,
    /// Unquoted in a shell command (the apachectl script, a piped log).
    ScriptBare,
    /// Inside a Python string literal in handler.wsgi.
    Python,
    /// Inside `'…'` in httpd.conf.
    Conf,
}

impl Place {
    fn describe(self) -> &'static str {
        match self {
            Place::Script | Place::ScriptSingleQuoted => {
                "its generated apachectl shell script, where it is shell syntax"
            }
            Place::ScriptBare => {
                "a shell command without quotes, where it is shell syntax (use only letters, \
                 digits and / . _ - + , : @ % =)"
            }
            Place::Python => "its generated Python handler script, where it ends the string",
            Place::Conf => "httpd.conf inside '…', where it ends the quoted value",
        }
    }

    /// Whether `c` is special here.
    fn forbids(self, c: char) -> bool {
        match self {
            Place::Script => matches!(c, '$' | '`' | '"' | '\\'),
            Place::ScriptSingleQuoted => matches!(c, '$' | '`' | '"' | '\\' | '\''),
            Place::ScriptBare => {
                c.is_ascii() && !(c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c))
            }
            Place::Python => matches!(c, '\'' | '\\'),
            Place::Conf => c == '\'',
        }
    }
}

/// Every long option of `mod_wsgi-express start-server` and how many
/// values it takes (0: a flag), for optparse's prefix matching.
#[rustfmt::skip]
const OPTIONS: &[(&str, usize)] = &[
    ("access-log", 0), ("access-log-format", 1), ("access-log-name", 1),
    ("add-handler", 2), ("allow-localhost", 0), ("allow-override", 1),
    ("application-group", 1), ("application-type", 1), ("auth-group", 1),
    ("auth-group-script", 1), ("auth-type", 1), ("auth-user-script", 1),
    ("body-max-timeout", 1), ("body-min-rate", 1), ("body-timeout", 1),
    ("callable-object", 1), ("chunked-request", 0), ("compress-responses", 0),
    ("connect-timeout", 1), ("coverage-directory", 1), ("cpu-time-limit", 1),
    ("daemon-backlog", 1), ("deadlock-timeout", 1), ("debug-mode", 0),
    ("debugger-startup", 0), ("directory-index", 1), ("directory-listing", 0),
    ("disable-reloading", 0), ("document-root", 1), ("embedded-mode", 0),
    ("enable-coverage", 0), ("enable-debugger", 0), ("enable-docs", 0),
    ("enable-gdb", 0), ("enable-profiler", 0), ("enable-recorder", 0),
    ("enable-sendfile", 0), ("enable-telemetry", 0), ("entry-point", 1),
    ("envvars-script", 1), ("error-document", 2), ("error-log-format", 1),
    ("error-log-name", 1), ("error-override", 0), ("eviction-timeout", 1),
    ("free-threading", 0), ("gdb-executable", 1), ("graceful-timeout", 1),
    ("group", 1), ("header-buffer-size", 1), ("header-max-timeout", 1),
    ("header-min-rate", 1), ("header-timeout", 1), ("help", 0),
    ("host", 1), ("host-access-script", 1), ("hsts-policy", 1),
    ("http2", 0), ("httpd-executable", 1), ("https-only", 0),
    ("https-port", 1), ("ignore-activity", 1), ("inactivity-timeout", 1),
    ("include-file", 1), ("initial-workers", 1), ("interrupt-timeout", 1),
    ("keep-alive-timeout", 1), ("lang", 1), ("limit-request-body", 1),
    ("locale", 1), ("log-directory", 1), ("log-level", 1),
    ("log-to-terminal", 0), ("map-head-to-get", 1), ("max-clients", 1),
    ("max-log-size", 1), ("maximum-requests", 1), ("maximum-spare-workers", 1),
    ("mime-types", 1), ("minimum-spare-workers", 1), ("modules-directory", 1),
    ("mount-point", 1), ("orphan-interpreter", 0), ("passenv", 1),
    ("pid-file", 1), ("port", 1), ("process-group", 1),
    ("process-name", 1), ("processes", 1), ("profiler-directory", 1),
    ("proxy-mount-point", 2), ("proxy-timeout", 1), ("proxy-url-alias", 2),
    ("proxy-virtual-host", 2), ("python-eggs", 1), ("python-path", 1),
    ("python-warnings", 1), ("queue-timeout", 1), ("receive-buffer-size", 1),
    ("recorder-directory", 1), ("reload-on-changes", 0), ("request-timeout", 1),
    ("response-buffer-size", 1), ("response-flush-delay", 1), ("response-socket-timeout", 1),
    ("restart-interval", 1), ("rewrite-rules", 1), ("rotate-logs", 0),
    ("rotatelogs-executable", 1), ("send-buffer-size", 1), ("server-alias", 1),
    ("server-backlog", 1), ("server-metrics", 0), ("server-mpm", 1),
    ("server-name", 1), ("server-root", 1), ("server-status", 0),
    ("service-group", 2), ("service-log-file", 2), ("service-script", 2),
    ("service-user", 2), ("setenv", 2), ("setup-only", 0),
    ("shell-executable", 1), ("shutdown-timeout", 1), ("slow-requests", 1),
    ("socket-prefix", 1), ("socket-timeout", 1), ("ssl-ca-certificate-file", 1),
    ("ssl-certificate", 1), ("ssl-certificate-chain-file", 1), ("ssl-certificate-file", 1),
    ("ssl-certificate-key-file", 1), ("ssl-environment", 0), ("ssl-port", 1),
    ("ssl-verify-client", 1), ("startup-log", 0), ("startup-log-name", 1),
    ("startup-timeout", 1), ("switch-interval", 1), ("telemetry-interval", 1),
    ("telemetry-options", 1), ("telemetry-service", 1), ("telemetry-ui-port", 1),
    ("threads", 1), ("trust-proxy", 1), ("trust-proxy-header", 1),
    ("url-alias", 2), ("user", 1), ("verbose-debugging", 0),
    ("with-cgi", 0), ("with-php5", 0), ("working-directory", 1),
];

/// The places of an option's value (beyond the line-break rule, which holds
/// for every word). `None` for the script or positional argument.
fn places(option: Option<&str>) -> &'static [Place] {
    use Place::*;
    match option {
        None => &[Python, Conf],
        Some(o) => match o {
            "working-directory" => &[Script, Python, Conf],
            "host" => &[Script, Python, Conf],
            "user" | "group" | "process-name" | "shell-executable" | "httpd-executable"
            | "modules-directory" | "gdb-executable" | "startup-log-name" => &[Script, Conf],
            "lang" | "locale" => &[ScriptSingleQuoted],
            "server-root"
            | "envvars-script"
            | "log-directory"
            | "error-log-name"
            | "access-log-name"
            | "rotatelogs-executable" => &[ScriptBare],
            "application-type" | "entry-point" | "callable-object" | "mount-point"
            | "coverage-directory" | "profiler-directory" | "recorder-directory"
            | "server-name" => &[Python, Conf],
            // Inside "…" in httpd.conf, where Apache's own \" escapes work.
            "access-log-format" | "error-log-format" => &[],
            _ => &[Conf],
        },
    }
}

/// A value mod_wsgi-express would write where it breaks out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsafe {
    /// `--working-directory`, or empty for the script argument.
    pub option: String,
    pub value: String,
    pub found: char,
    pub place: Option<Place>,
}

impl Unsafe {
    /// What was found: `` `$` ``, "a line break", …
    pub fn found(&self) -> String {
        match self.found {
            '\n' => "a line break".to_string(),
            '\r' => "a carriage return".to_string(),
            '\0' => "a NUL byte".to_string(),
            c => format!("`{c}`"),
        }
    }

    /// Why it cannot be passed on: where mod_wsgi-express writes the value.
    pub fn why(&self) -> String {
        match self.place {
            None => "mod_wsgi-express writes its options into httpd.conf and shell and Python \
                     scripts line by line, so it would start a new line there"
                .to_string(),
            Some(p) => format!("mod_wsgi-express writes this value into {}", p.describe()),
        }
    }
}

impl fmt::Display for Unsafe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.option.is_empty() {
            "the script argument"
        } else {
            self.option.as_str()
        };
        write!(
            f,
            "{what} {} holds {}: {}; remove it",
            crate::error::quoted(&self.value),
            self.found(),
            self.why()
        )
    }
}

/// The line-break rule, for any word given to mod_wsgi-express.
fn check_word(option: &str, word: &str) -> Result<(), Unsafe> {
    match word.chars().find(|c| matches!(c, '\n' | '\r' | '\0')) {
        Some(found) => Err(Unsafe {
            option: option.to_string(),
            value: word.to_string(),
            found,
            place: None,
        }),
        None => Ok(()),
    }
}

/// Checks `value` for `option` (`--working-directory`, or `""` for the
/// script argument).
pub fn check_value(option: &str, value: &str) -> Result<(), Unsafe> {
    check_word(option, value)?;
    let name = option.strip_prefix("--");
    let resolved = match name {
        Some(n) => resolve(n),
        None => Resolved::Positional,
    };
    let places: Vec<Place> = match resolved {
        Resolved::Positional => places(None).to_vec(),
        Resolved::Option(o, _) => places(Some(o)).to_vec(),
        // Unknown or ambiguous: mod_wsgi-express refuses it; be strict anyway.
        Resolved::Unknown(candidates) => {
            let mut all: Vec<Place> = candidates
                .iter()
                .flat_map(|c| places(Some(c)).iter().copied())
                .collect();
            all.push(Place::Conf);
            all
        }
    };
    for p in places {
        if let Some(found) = value.chars().find(|&c| p.forbids(c)) {
            return Err(Unsafe {
                option: option.to_string(),
                value: value.to_string(),
                found,
                place: Some(p),
            });
        }
    }
    Ok(())
}

enum Resolved {
    Positional,
    /// The option and how many values it takes.
    Option(&'static str, usize),
    /// No option, or several, match: the long options it could mean.
    Unknown(Vec<&'static str>),
}

/// optparse's matching of a long option name (without `--`): exact, else
/// the one option it is a prefix of.
fn resolve(name: &str) -> Resolved {
    if let Some(&(o, n)) = OPTIONS.iter().find(|(o, _)| *o == name) {
        return Resolved::Option(o, n);
    }
    let matches: Vec<&(&str, usize)> = OPTIONS
        .iter()
        .filter(|(o, _)| o.starts_with(name))
        .collect();
    match matches.as_slice() {
        [&(o, n)] => Resolved::Option(o, n),
        many => Resolved::Unknown(many.iter().map(|(o, _)| *o).collect()),
    }
}

/// Checks the words after `mod_wsgi-express start-server` (or a part of
/// them that starts at an option, such as server_args).
pub fn check_args<S: AsRef<str>>(args: &[S]) -> Result<(), Unsafe> {
    let mut i = 0;
    let mut options_done = false;
    while i < args.len() {
        let word = args[i].as_ref();
        i += 1;
        if options_done || !word.starts_with('-') || word == "-" {
            check_value("", word)?;
            continue;
        }
        if word == "--" {
            options_done = true;
            continue;
        }
        let Some(long) = word.strip_prefix("--") else {
            // Short options: mod_wsgi-express has only -h.
            check_word(word, word)?;
            continue;
        };
        let (name, inline) = match long.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (long, None),
        };
        check_word(word, name)?;
        let option = format!("--{name}");
        let nargs = match resolve(name) {
            Resolved::Option(_, n) => n,
            // mod_wsgi-express stops at it; still check what follows.
            Resolved::Unknown(_) | Resolved::Positional => usize::from(inline.is_none()),
        };
        let mut values: Vec<&str> = inline.into_iter().collect();
        while values.len() < nargs && i < args.len() {
            values.push(args[i].as_ref());
            i += 1;
        }
        for v in values {
            check_value(&option, v)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(args: &[&str]) -> Unsafe {
        check_args(args).expect_err(&format!("{args:?} should be refused"))
    }

    #[test]
    fn shell_syntax_is_refused_where_it_reaches_the_script() {
        for (args, found) in [
            (&["--working-directory", "/x$(touch F)"][..], '$'),
            (&["--working-directory=/x`id`"], '`'),
            (&["--working-dir", "/x\"y"], '"'),
            (&["--user", "a\\b"], '\\'),
            (&["--locale", "C.UTF-8'; id; '"], '\''),
            (&["--server-root", "/tmp/a b"], ' '),
            (&["--server-root", "/tmp/a;b"], ';'),
            (&["--entry-point", "x'y"], '\''),
            (&["wsgi.py'"], '\''),
            (&["--python-path", "/x' user='root"], '\''),
        ] {
            let e = bad(args);
            assert_eq!(e.found, found, "{args:?}");
        }
    }

    #[test]
    fn line_breaks_are_refused_in_every_word() {
        let e = bad(&["--working-directory", "/tmp\nListen 9999"]);
        assert_eq!(e.place, None);
        assert!(e.to_string().contains("a line break"), "{e}");
        assert!(e.to_string().contains("\"/tmp\\nListen 9999\""), "{e}");
        bad(&["--access-log-format", "%h\r%r"]);
        bad(&["--setenv", "A", "b\nc"]);
        bad(&["--frobnicate\n"]);
    }

    #[test]
    fn ordinary_values_pass() {
        check_args(&[
            "--working-directory",
            "/srv/my app",
            "--url-alias",
            "/static/",
            "/srv/app/static files/",
            "--setenv",
            "GREETING",
            "$HOME is home",
            "--access-log-format",
            "%h \\\"%r\\\"",
            "--processes=3",
            "--server-root",
            "/tmp/warpdrive-0/mod_wsgi-8080",
            "--trust-proxy-header",
            "X-Forwarded-For",
            "wsgi.py",
            "--log-to-terminal",
        ])
        .unwrap();
        // A flag does not swallow the next word: it is the script.
        assert!(check_args(&["--log-to-terminal", "x'y.py"]).is_err());
        // nargs=2 takes two words, neither is the script.
        check_args(&["--url-alias", "/a", "/b/c's", "wsgi.py"]).unwrap_err();
    }

    #[test]
    fn knob_values_are_checked_by_option() {
        assert!(check_value("--working-directory", "/srv/app").is_ok());
        assert!(check_value("--working-directory", "/x$(id)").is_err());
        assert!(check_value("--callable-object", "app'").is_err());
        assert!(check_value("--log-level", "info").is_ok());
    }
}
