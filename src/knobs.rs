//! The `MOD_WSGI_*` capacity and behaviour knobs.
//!
//! One table, shared by the launcher (which maps each knob to the option of
//! the server it starts) and by `tune` (which validates values before it
//! writes them to a Deployment). The bounds are documented in the README.

use std::collections::BTreeMap;

/// What values a knob accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueKind {
    /// A whole number within `min..=max`.
    Int { min: u64, max: u64 },
    /// A decimal number within `min..=max` (mod_wsgi's worker fractions).
    Float { min: f64, max: f64 },
    /// On/off: `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off`, empty.
    Flag,
    /// One of a fixed list of words.
    Choice(&'static [&'static str]),
    /// Free text (a path or a Python name).
    Text,
}

/// One `MOD_WSGI_*` variable.
#[derive(Debug, Clone, Copy)]
pub struct Knob {
    /// Full variable name, e.g. `MOD_WSGI_PROCESSES`.
    pub name: &'static str,
    pub kind: ValueKind,
    /// The mod_wsgi-express option it maps to.
    pub mod_wsgi: &'static str,
    /// What it means, for help text and warnings.
    pub help: &'static str,
}

const SECONDS: ValueKind = ValueKind::Int {
    min: 0,
    max: 86_400,
};
const RATE: ValueKind = ValueKind::Int {
    min: 0,
    max: 1_000_000_000,
};
const FRACTION: ValueKind = ValueKind::Float { min: 0.0, max: 1.0 };
const BACKLOG: ValueKind = ValueKind::Int {
    min: 1,
    max: 65_535,
};

/// Default process count (as in the original warpdrive).
pub const DEFAULT_PROCESSES: u64 = 1;
/// Default thread count (as in the original warpdrive).
pub const DEFAULT_THREADS: u64 = 5;

/// Every knob the original warpdrive passed to mod_wsgi-express.
#[rustfmt::skip]
pub const KNOBS: &[Knob] = &[
    Knob { name: "MOD_WSGI_PROCESSES", kind: ValueKind::Int { min: 1, max: 256 }, mod_wsgi: "--processes", help: "worker processes (default 1)" },
    Knob { name: "MOD_WSGI_THREADS", kind: ValueKind::Int { min: 1, max: 512 }, mod_wsgi: "--threads", help: "threads per process (default 5)" },
    Knob { name: "MOD_WSGI_MAX_CLIENTS", kind: ValueKind::Int { min: 1, max: 100_000 }, mod_wsgi: "--max-clients", help: "concurrent connections Apache accepts" },
    Knob { name: "MOD_WSGI_INITIAL_WORKERS", kind: FRACTION, mod_wsgi: "--initial-workers", help: "fraction of max clients started up front" },
    Knob { name: "MOD_WSGI_MINIMUM_SPARE_WORKERS", kind: FRACTION, mod_wsgi: "--minimum-spare-workers", help: "fraction of max clients kept idle (minimum)" },
    Knob { name: "MOD_WSGI_MAXIMUM_SPARE_WORKERS", kind: FRACTION, mod_wsgi: "--maximum-spare-workers", help: "fraction of max clients kept idle (maximum)" },
    Knob { name: "MOD_WSGI_LIMIT_REQUEST_BODY", kind: ValueKind::Int { min: 0, max: 2_147_483_647 }, mod_wsgi: "--limit-request-body", help: "largest request body in bytes" },
    Knob { name: "MOD_WSGI_MAXIMUM_REQUESTS", kind: ValueKind::Int { min: 0, max: 1_000_000_000 }, mod_wsgi: "--maximum-requests", help: "restart a worker after this many requests" },
    Knob { name: "MOD_WSGI_INACTIVITY_TIMEOUT", kind: SECONDS, mod_wsgi: "--inactivity-timeout", help: "seconds" },
    Knob { name: "MOD_WSGI_REQUEST_TIMEOUT", kind: SECONDS, mod_wsgi: "--request-timeout", help: "seconds" },
    Knob { name: "MOD_WSGI_CONNECT_TIMEOUT", kind: SECONDS, mod_wsgi: "--connect-timeout", help: "seconds" },
    Knob { name: "MOD_WSGI_SOCKET_TIMEOUT", kind: SECONDS, mod_wsgi: "--socket-timeout", help: "seconds" },
    Knob { name: "MOD_WSGI_QUEUE_TIMEOUT", kind: SECONDS, mod_wsgi: "--queue-timeout", help: "seconds" },
    Knob { name: "MOD_WSGI_HEADER_TIMEOUT", kind: SECONDS, mod_wsgi: "--header-timeout", help: "seconds" },
    Knob { name: "MOD_WSGI_HEADER_MAX_TIMEOUT", kind: SECONDS, mod_wsgi: "--header-max-timeout", help: "seconds" },
    Knob { name: "MOD_WSGI_HEADER_MIN_RATE", kind: RATE, mod_wsgi: "--header-min-rate", help: "bytes per second" },
    Knob { name: "MOD_WSGI_BODY_TIMEOUT", kind: SECONDS, mod_wsgi: "--body-timeout", help: "seconds" },
    Knob { name: "MOD_WSGI_BODY_MAX_TIMEOUT", kind: SECONDS, mod_wsgi: "--body-max-timeout", help: "seconds" },
    Knob { name: "MOD_WSGI_BODY_MIN_RATE", kind: RATE, mod_wsgi: "--body-min-rate", help: "bytes per second" },
    Knob { name: "MOD_WSGI_SERVER_BACKLOG", kind: BACKLOG, mod_wsgi: "--server-backlog", help: "listen backlog" },
    Knob { name: "MOD_WSGI_DAEMON_BACKLOG", kind: BACKLOG, mod_wsgi: "--daemon-backlog", help: "daemon listen backlog" },
    Knob { name: "MOD_WSGI_SERVER_MPM", kind: ValueKind::Choice(&["event", "worker", "prefork"]), mod_wsgi: "--server-mpm", help: "Apache MPM" },
    Knob { name: "MOD_WSGI_LOG_LEVEL", kind: ValueKind::Choice(&["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"]), mod_wsgi: "--log-level", help: "log level" },
    Knob { name: "MOD_WSGI_ACCESS_LOG", kind: ValueKind::Flag, mod_wsgi: "--access-log", help: "log each request" },
    Knob { name: "MOD_WSGI_RELOAD_ON_CHANGES", kind: ValueKind::Flag, mod_wsgi: "--reload-on-changes", help: "restart when source files change" },
    Knob { name: "MOD_WSGI_ENABLE_DEBUGGER", kind: ValueKind::Flag, mod_wsgi: "--enable-debugger", help: "pdb post-mortem (implies --debug-mode)" },
    Knob { name: "MOD_WSGI_WORKING_DIRECTORY", kind: ValueKind::Text, mod_wsgi: "--working-directory", help: "directory the app runs in" },
    Knob { name: "MOD_WSGI_APPLICATION_TYPE", kind: ValueKind::Choice(&["script", "module", "paste", "static"]), mod_wsgi: "--application-type", help: "how --entry-point is read" },
    Knob { name: "MOD_WSGI_ENTRY_POINT", kind: ValueKind::Text, mod_wsgi: "--entry-point", help: "the WSGI script, module or paste file" },
    Knob { name: "MOD_WSGI_CALLABLE_OBJECT", kind: ValueKind::Text, mod_wsgi: "--callable-object", help: "name of the WSGI callable" },
    Knob { name: "MOD_WSGI_SERVER_STATUS", kind: ValueKind::Flag, mod_wsgi: "--server-status", help: "serve /server-status" },
];

/// Looks a knob up by its full variable name.
pub fn find(name: &str) -> Option<&'static Knob> {
    KNOBS.iter().find(|k| k.name == name)
}

/// A validated knob value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(u64),
    Float(f64),
    Flag(bool),
    Text(String),
}

impl Value {
    /// The value as it goes on a command line.
    pub fn to_arg(&self) -> String {
        match self {
            Value::Int(n) => n.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Flag(b) => if *b { "1" } else { "0" }.to_string(),
            Value::Text(t) => t.clone(),
        }
    }
}

/// A knob value that failed validation; the message names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{name}={} is not valid: expected {expected}",
    crate::error::quoted(value)
)]
pub struct InvalidValue {
    pub name: String,
    pub value: String,
    pub expected: String,
}

impl Knob {
    /// Validates `raw` for this knob, including where mod_wsgi-express
    /// would write it ([`crate::mod_wsgi_args::check_value`]): the launcher
    /// and `tune --set` both call this.
    pub fn parse(&self, raw: &str) -> Result<Value, InvalidValue> {
        let value = self.parse_kind(raw)?;
        if let Err(e) = crate::mod_wsgi_args::check_value(self.mod_wsgi, raw.trim()) {
            return Err(InvalidValue {
                name: self.name.to_string(),
                value: raw.to_string(),
                expected: format!("a value without {} ({})", e.found(), e.why()),
            });
        }
        Ok(value)
    }

    fn parse_kind(&self, raw: &str) -> Result<Value, InvalidValue> {
        let bad = |expected: String| InvalidValue {
            name: self.name.to_string(),
            value: raw.to_string(),
            expected,
        };
        let s = raw.trim();
        match self.kind {
            ValueKind::Int { min, max } => match s.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Value::Int(n)),
                _ => Err(bad(format!("a whole number from {min} to {max}"))),
            },
            ValueKind::Float { min, max } => match s.parse::<f64>() {
                Ok(f) if f.is_finite() && (min..=max).contains(&f) => Ok(Value::Float(f)),
                _ => Err(bad(format!("a number from {min} to {max}"))),
            },
            ValueKind::Flag => match s.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(Value::Flag(true)),
                "" | "0" | "false" | "no" | "off" => Ok(Value::Flag(false)),
                _ => Err(bad("1/true/yes/on or 0/false/no/off".to_string())),
            },
            ValueKind::Choice(words) => {
                if words.contains(&s) {
                    Ok(Value::Text(s.to_string()))
                } else {
                    Err(bad(format!("one of {}", words.join(", "))))
                }
            }
            ValueKind::Text => {
                if s.is_empty() {
                    Err(bad("a non-empty value".to_string()))
                } else {
                    Ok(Value::Text(s.to_string()))
                }
            }
        }
    }
}

/// The knobs set in an environment, validated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Knobs {
    values: BTreeMap<&'static str, Value>,
    /// `MOD_WSGI_*` names that are set but not in [`KNOBS`].
    pub unknown: Vec<String>,
}

impl Knobs {
    /// Reads every `MOD_WSGI_*` variable from `env`. Empty values count as
    /// unset (as `oc set env NAME=` leaves them), except for flags, where
    /// empty means off.
    pub fn from_env<'a>(
        env: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Knobs, InvalidValue> {
        let mut knobs = Knobs::default();
        for (name, raw) in env {
            if !name.starts_with("MOD_WSGI_") {
                continue;
            }
            match find(name) {
                Some(knob) => {
                    if raw.trim().is_empty() && knob.kind != ValueKind::Flag {
                        continue;
                    }
                    knobs.values.insert(knob.name, knob.parse(raw)?);
                }
                None => knobs.unknown.push(name.to_string()),
            }
        }
        Ok(knobs)
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    pub fn int(&self, name: &str) -> Option<u64> {
        match self.values.get(name) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn flag(&self, name: &str) -> bool {
        matches!(self.values.get(name), Some(Value::Flag(true)))
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        match self.values.get(name) {
            Some(Value::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// Sets a value (used for computed defaults such as automatic processes).
    pub fn set(&mut self, name: &'static str, value: Value) {
        self.values.insert(name, value);
    }

    /// Every knob that is set, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static Knob, &Value)> {
        KNOBS
            .iter()
            .filter_map(|k| self.values.get(k.name).map(|v| (k, v)))
    }

    pub fn processes(&self) -> u64 {
        self.int("MOD_WSGI_PROCESSES").unwrap_or(DEFAULT_PROCESSES)
    }

    pub fn threads(&self) -> u64 {
        self.int("MOD_WSGI_THREADS").unwrap_or(DEFAULT_THREADS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_numeric_and_out_of_range() {
        let err = Knobs::from_env([("MOD_WSGI_PROCESSES", "abc")]).unwrap_err();
        assert_eq!(err.name, "MOD_WSGI_PROCESSES");
        assert!(err.to_string().contains("1 to 256"), "{err}");
        assert!(Knobs::from_env([("MOD_WSGI_THREADS", "0")]).is_err());
        assert!(Knobs::from_env([("MOD_WSGI_INITIAL_WORKERS", "1.5")]).is_err());
        assert!(Knobs::from_env([("MOD_WSGI_SERVER_MPM", "threaded")]).is_err());
        assert!(Knobs::from_env([("MOD_WSGI_ACCESS_LOG", "maybe")]).is_err());
    }

    #[test]
    fn rejects_values_that_would_break_out_of_mod_wsgi_express_files() {
        let err = Knobs::from_env([("MOD_WSGI_WORKING_DIRECTORY", "/x$(touch F)")]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("MOD_WSGI_WORKING_DIRECTORY=\"/x$(touch F)\""),
            "{text}"
        );
        assert!(
            text.contains("without `$`") && text.contains("apachectl"),
            "{text}"
        );
        assert!(Knobs::from_env([("MOD_WSGI_WORKING_DIRECTORY", "/tmp\nListen 1")]).is_err());
        assert!(Knobs::from_env([("MOD_WSGI_CALLABLE_OBJECT", "app'")]).is_err());
        assert!(Knobs::from_env([("MOD_WSGI_WORKING_DIRECTORY", "/srv/my app")]).is_ok());
    }

    #[test]
    fn parses_defaults_flags_and_unknown_names() {
        let k = Knobs::from_env([
            ("MOD_WSGI_THREADS", " 15 "),
            ("MOD_WSGI_RELOAD_ON_CHANGES", "1"),
            ("MOD_WSGI_ACCESS_LOG", "off"),
            ("MOD_WSGI_PROCESSES", ""),
            ("MOD_WSGI_FROBNICATE", "1"),
            ("PATH", "/bin"),
        ])
        .unwrap();
        assert_eq!(k.threads(), 15);
        assert_eq!(k.processes(), DEFAULT_PROCESSES);
        assert!(k.flag("MOD_WSGI_RELOAD_ON_CHANGES"));
        assert!(!k.flag("MOD_WSGI_ACCESS_LOG"));
        assert_eq!(k.unknown, vec!["MOD_WSGI_FROBNICATE".to_string()]);
    }
}
