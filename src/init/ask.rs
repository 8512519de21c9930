//! The questions. Each one is answered by its flag, else (with `--yes`) by
//! the detected default, else by a prompt on a terminal. Without a terminal
//! an unanswered question is collected, and [`answers`] fails with one line
//! naming every flag that is missing. Nothing here prompts without a terminal.

use std::path::PathBuf;

use dialoguer::{Confirm, Input, MultiSelect, Select};

use super::answers::{
    entry_point, is_mod_wsgi_family, proxy_header, relative, static_root, static_url,
    takes_entry_point, takes_server_options, Answers, OFFERED_HEADERS,
};
use super::error::Error;
use super::survey::Survey;
use crate::cli::InitArgs;
use crate::knobs;
use crate::launcher::detect::EntryPoint;
use crate::launcher::hooks::HOOK_DIR;
use crate::launcher::proxy::MOD_WSGI_UNTRUSTABLE;
use crate::launcher::server_type::{self, ServerType};

/// One line per server type for the select list.
pub fn describe(t: Option<ServerType>) -> &'static str {
    match t {
        None => "detect the layout again at every start",
        Some(ServerType::Shell) => "run the executable app.sh",
        Some(ServerType::Python) => "run python app.py",
        Some(ServerType::Paste) => "mod_wsgi-express hosting the app described by paste.ini",
        Some(ServerType::Django) => {
            "mod_wsgi-express hosting the Django project, static files by Apache"
        }
        Some(ServerType::Gunicorn) => "gunicorn with the WSGI entry point",
        Some(ServerType::ModWsgi) => "mod_wsgi-express (Apache) with the WSGI entry point",
        Some(ServerType::Waitress) => {
            "waitress (one process, many threads) with the WSGI entry point"
        }
        Some(ServerType::Uwsgi) => "uWSGI with the WSGI entry point",
        Some(ServerType::Uvicorn) => {
            "uvicorn with the ASGI entry point (static files by WhiteNoise)"
        }
    }
}

/// How a question is answered, without its flag, when no prompt may be shown.
enum Unprompted<T> {
    /// This value.
    Value(T),
    /// Unanswered: the flag that would answer it (all of them end up in one
    /// error), and the value to carry on with meanwhile.
    Missing(String, T),
}

/// The order every question follows: its flag, else with `--yes` the
/// detected default, else without a terminal a missing flag, else a prompt.
struct Ladder {
    yes: bool,
    interactive: bool,
    /// Flags that would have answered an unanswered question.
    missing: Vec<String>,
}

impl Ladder {
    /// Answers one question: `flag` is the answer its flag gave (if given),
    /// `with_yes` what `--yes` accepts, `without_terminal` what stands in
    /// when nobody can be asked, `prompt` asks on the terminal.
    fn ask<T>(
        &mut self,
        flag: Option<Result<T, Error>>,
        with_yes: impl FnOnce() -> Result<Unprompted<T>, Error>,
        without_terminal: impl FnOnce() -> Unprompted<T>,
        prompt: impl FnOnce() -> Result<T, Error>,
    ) -> Result<T, Error> {
        if let Some(answer) = flag {
            return answer;
        }
        let unprompted = if self.yes {
            with_yes()?
        } else if !self.interactive {
            without_terminal()
        } else {
            return prompt();
        };
        Ok(match unprompted {
            Unprompted::Value(v) => v,
            Unprompted::Missing(flag, v) => {
                self.missing.push(flag);
                v
            }
        })
    }
}

struct Questions<'a> {
    args: &'a InitArgs,
    survey: &'a Survey,
    ladder: Ladder,
}

impl Questions<'_> {
    fn detected_type(&self) -> Option<ServerType> {
        self.survey.auto.as_ref().ok().map(|c| c.server_type)
    }

    fn no_detection(&self) -> String {
        match &self.survey.auto {
            Ok(_) => String::new(),
            Err(e) => e.clone(),
        }
    }

    /// `(what to write, what runs)`; `what runs` is `None` only when the
    /// question is unanswered and nothing was detected.
    fn server_type(&mut self) -> Result<(Option<ServerType>, Option<ServerType>), Error> {
        let detected = self.detected_type();
        let no_detection = self.no_detection();
        let flag = self.args.server_type.as_ref().map(|word| {
            match ServerType::parse(word.trim(), "--server-type")? {
                Some(t) => Ok((Some(t), Some(t))),
                None => match detected {
                    Some(t) => Ok((None, Some(t))),
                    None => Err(Error::bad(format!("--server-type auto: {no_detection}"))),
                },
            }
        });
        let survey = self.survey;
        self.ladder.ask(
            flag,
            || match detected {
                Some(t) => Ok(Unprompted::Value((Some(t), Some(t)))),
                None => Err(Error::bad(format!(
                    "{no_detection}; or pass --server-type TYPE"
                ))),
            },
            || {
                let flag = match detected {
                    Some(t) => format!("--server-type TYPE (detected: {})", t.name()),
                    None => "--server-type TYPE".to_string(),
                };
                Unprompted::Missing(flag, (detected, detected))
            },
            || {
                let mut choices: Vec<Option<ServerType>> = Vec::new();
                if let Some(t) = detected {
                    choices.push(Some(t));
                }
                choices.extend(
                    ServerType::ALL
                        .iter()
                        .copied()
                        .filter(|t| Some(*t) != detected)
                        .map(Some),
                );
                choices.push(None);
                let items: Vec<String> = choices
                    .iter()
                    .map(|c| {
                        let name = c.map(ServerType::name).unwrap_or(server_type::AUTO);
                        let mut line = format!("{name:<9} {}", describe(*c));
                        if c.is_some() && *c == detected {
                            if let Ok(a) = &survey.auto {
                                line.push_str(&format!(
                                    " (detected: {})",
                                    a.reason.trim_start_matches("auto: ")
                                ));
                            }
                        }
                        line
                    })
                    .collect();
                let i = Select::new()
                    .with_prompt("Server type")
                    .items(&items)
                    .default(0)
                    .interact()?;
                match (choices[i], detected) {
                    (Some(t), _) => Ok((Some(t), Some(t))),
                    (None, Some(t)) => Ok((None, Some(t))),
                    (None, None) => Err(Error::bad(format!("auto: {no_detection}"))),
                }
            },
        )
    }

    fn entry_point(&mut self, t: ServerType) -> Result<Option<EntryPoint>, Error> {
        let flag = self
            .args
            .entry_point
            .as_ref()
            .map(|text| entry_point(text, "--entry-point").map(Some));
        let default = self.survey.app.as_ref().and_then(|a| {
            if t == ServerType::Uvicorn {
                a.asgi_entry_point.clone()
            } else {
                a.entry_point.clone()
            }
        });
        let missing = |default: &Option<EntryPoint>| match default {
            Some(e) => format!("--entry-point MODULE:CALLABLE (detected: {})", e.spec()),
            None => format!(
                "--entry-point MODULE:CALLABLE (none detected for {})",
                t.name()
            ),
        };
        self.ladder.ask(
            flag,
            || {
                Ok(match &default {
                    Some(_) => Unprompted::Value(default.clone()),
                    None => Unprompted::Missing(missing(&default), None),
                })
            },
            || Unprompted::Missing(missing(&default), default.clone()),
            || {
                let mut input = Input::<String>::new()
                    .with_prompt(if t == ServerType::Uvicorn {
                        "ASGI entry point (module:callable)"
                    } else {
                        "WSGI entry point (module:callable)"
                    })
                    .validate_with(|s: &String| -> Result<(), String> {
                        entry_point(s, "entry point")
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                    });
                if let Some(e) = &default {
                    input = input.default(e.spec());
                }
                let text = input.interact_text()?;
                entry_point(&text, "entry point").map(Some)
            },
        )
    }

    /// The detected static files, validated; an invalid one is an error only
    /// when it would be used.
    fn detected_static(&self) -> Option<(String, Result<PathBuf, Error>)> {
        let app = self.survey.app.as_ref()?;
        let (url, root) = app.static_files()?;
        let root = static_root(
            &self.survey.app_root,
            &root.display().to_string(),
            "detected STATIC_ROOT",
        );
        Some((url.to_string(), root))
    }

    /// `--no-static`, or `--static-url`/`--static-root` (each completed
    /// from detection, or a default), if given.
    fn static_flags(
        &self,
        detected: &Option<(String, Result<PathBuf, Error>)>,
    ) -> Option<Result<Option<(String, PathBuf)>, Error>> {
        let a = self.args;
        if a.no_static {
            return Some(Ok(None));
        }
        if a.static_url.is_none() && a.static_root.is_none() {
            return None;
        }
        let answer = || {
            let url = match (&a.static_url, detected) {
                (Some(u), _) => static_url(u, "--static-url")?,
                (None, Some((u, _))) => u.clone(),
                (None, None) => "/static/".to_string(),
            };
            let root = match &a.static_root {
                Some(r) => static_root(&self.survey.app_root, r, "--static-root")?,
                None => match detected {
                    Some((_, Ok(root))) => root.clone(),
                    Some((_, Err(e))) => return Err(Error::bad(e.to_string())),
                    None => {
                        return Err(Error::bad(
                            "--static-url needs --static-root DIR: no STATIC_ROOT was detected",
                        ))
                    }
                },
            };
            Ok(Some((url, root)))
        };
        Some(answer())
    }

    fn static_files(&mut self) -> Result<Option<(String, PathBuf)>, Error> {
        if self.args.no_static {
            return Ok(None);
        }
        let detected = self.detected_static();
        let flag = self.static_flags(&detected);
        let app_root = self.survey.app_root.clone();
        let missing = match &detected {
            Some((u, _)) => {
                format!("--static-url URL --static-root DIR or --no-static (detected: {u})")
            }
            None => "--static-url URL --static-root DIR or --no-static".to_string(),
        };
        let default_url = detected
            .as_ref()
            .map(|(u, _)| u.clone())
            .unwrap_or_default();
        let default_root = match &detected {
            Some((_, Ok(root))) => relative(&app_root, root),
            _ => "static".to_string(),
        };
        self.ladder.ask(
            flag,
            || match detected {
                Some((url, root)) => Ok(Unprompted::Value(Some((
                    url,
                    root.map_err(|e| {
                        Error::bad(format!("{e}; pass --static-root DIR or --no-static"))
                    })?,
                )))),
                None => Ok(Unprompted::Value(None)),
            },
            || Unprompted::Missing(missing, None),
            || {
                let url = Input::<String>::new()
                    .with_prompt("Static files URL (empty for none)")
                    .default(default_url)
                    .allow_empty(true)
                    .validate_with(|s: &String| -> Result<(), String> {
                        if s.trim().is_empty() {
                            return Ok(());
                        }
                        static_url(s, "static URL")
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                    })
                    .interact_text()?;
                if url.trim().is_empty() {
                    return Ok(None);
                }
                let url = static_url(&url, "static URL")?;
                let root = Input::<String>::new()
                    .with_prompt("Static files directory (relative to the app)")
                    .default(default_root)
                    .validate_with(|s: &String| -> Result<(), String> {
                        static_root(&app_root, s, "static directory")
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                    })
                    .interact_text()?;
                Ok(Some((
                    url,
                    static_root(&app_root, &root, "static directory")?,
                )))
            },
        )
    }

    fn proxy_headers(&mut self, t: ServerType) -> Result<Vec<String>, Error> {
        let headers = self.proxy_headers_answer(t)?;
        Ok(warn_forwarded(headers))
    }

    fn proxy_headers_answer(&mut self, t: ServerType) -> Result<Vec<String>, Error> {
        let a = self.args;
        let flag = if !a.trust_proxy_header.is_empty() {
            let given = || {
                let mut out: Vec<String> = Vec::new();
                for h in &a.trust_proxy_header {
                    let h = proxy_header(h, t)?;
                    if !out.contains(&h) {
                        out.push(h);
                    }
                }
                Ok(out)
            };
            Some(given())
        } else if a.no_proxy_headers {
            Some(Ok(Vec::new()))
        } else {
            None
        };
        self.ladder.ask(
            flag,
            || Ok(Unprompted::Value(Vec::new())),
            || {
                Unprompted::Missing(
                    "--trust-proxy-header NAME (repeatable) or --no-proxy-headers".to_string(),
                    Vec::new(),
                )
            },
            || {
                let offered: Vec<&str> = OFFERED_HEADERS
                    .iter()
                    .copied()
                    .filter(|h| !(is_mod_wsgi_family(t) && MOD_WSGI_UNTRUSTABLE.contains(h)))
                    .collect();
                let labels: Vec<String> = offered
                    .iter()
                    .map(|h| match *h {
                        "Forwarded" => {
                            format!("{h} (RFC 7239: recorded, but not applied yet; see README)")
                        }
                        _ => h.to_string(),
                    })
                    .collect();
                let chosen = MultiSelect::new()
                    .with_prompt("Proxy headers to trust (space toggles, enter accepts)")
                    .items(&labels)
                    .interact()?;
                Ok(chosen.into_iter().map(|i| offered[i].to_string()).collect())
            },
        )
    }

    /// An optional count: the flag, else a prompt (empty: leave to the environment).
    fn count(&mut self, flag: Option<u32>, knob: &str, label: &str) -> Result<Option<u64>, Error> {
        let knob = knobs::find(knob).expect("knob in table");
        let parse = |raw: &str, origin: &str| -> Result<u64, Error> {
            match knob.parse(raw) {
                Ok(knobs::Value::Int(n)) => Ok(n),
                Ok(_) => Err(Error::bad(format!("{origin} {raw:?}: expected a number"))),
                Err(e) => Err(Error::bad(format!(
                    "{origin} {raw:?}: expected {}",
                    e.expected
                ))),
            }
        };
        let flag_name = format!("--{}", label.to_lowercase());
        let flag = flag.map(|n| parse(&n.to_string(), &flag_name).map(Some));
        self.ladder.ask(
            flag,
            || Ok(Unprompted::Value(None)),
            || Unprompted::Value(None),
            || {
                let text = Input::<String>::new()
                    .with_prompt(format!(
                        "{label} (empty: leave to {}, default {})",
                        knob.name,
                        if label == "Processes" {
                            knobs::DEFAULT_PROCESSES
                        } else {
                            knobs::DEFAULT_THREADS
                        }
                    ))
                    .allow_empty(true)
                    .validate_with(|s: &String| -> Result<(), String> {
                        if s.trim().is_empty() {
                            return Ok(());
                        }
                        parse(s, label).map(|_| ()).map_err(|e| e.to_string())
                    })
                    .interact_text()?;
                if text.trim().is_empty() {
                    Ok(None)
                } else {
                    parse(&text, label).map(Some)
                }
            },
        )
    }

    fn deploy_hook(&mut self) -> Result<bool, Error> {
        let exists = self.survey.app_root.join(HOOK_DIR).join("deploy").exists();
        // An existing hook answers "no": it is never overwritten.
        let flag = if self.args.deploy_hook {
            Some(Ok(true))
        } else if exists {
            Some(Ok(false))
        } else {
            None
        };
        self.ladder.ask(
            flag,
            || Ok(Unprompted::Value(false)),
            || Unprompted::Value(false),
            || {
                Ok(confirm(
                    "Write a commented action_hooks/deploy skeleton (runs before every start)?",
                    false,
                )
                .interact()?)
            },
        )
    }
}

/// `Forwarded` is accepted (the launcher takes it in
/// `WARPDRIVE_TRUST_PROXY_HEADERS`), but its middleware follows mod_wsgi,
/// which does not apply it: say so.
fn warn_forwarded(headers: Vec<String>) -> Vec<String> {
    if headers.iter().any(|h| h == "Forwarded") {
        eprintln!(
            "warpdrive: warning: Forwarded is recorded, but the launcher's middleware, like \
             mod_wsgi, does not apply it yet (it warns at start); trust the X-Forwarded-* headers"
        );
    }
    headers
}

/// Flags given for a server type they do not apply to are errors.
fn check_flags_apply(a: &InitArgs, t: ServerType) -> Result<(), Error> {
    let why = match t {
        ServerType::Shell => "app.sh starts the app itself",
        ServerType::Python => "app.py starts the app itself",
        _ => "paste.ini names the app",
    };
    if a.entry_point.is_some() && !takes_entry_point(t) {
        return Err(Error::bad(format!(
            "--entry-point does not apply to server type {} ({why}); drop it or choose a WSGI server type",
            t.name()
        )));
    }
    let server_flags = [
        (a.static_url.is_some(), "--static-url"),
        (a.static_root.is_some(), "--static-root"),
        (!a.trust_proxy_header.is_empty(), "--trust-proxy-header"),
        (a.processes.is_some(), "--processes"),
        (a.threads.is_some(), "--threads"),
    ];
    if !takes_server_options(t) {
        if let Some((_, flag)) = server_flags.iter().find(|(given, _)| *given) {
            return Err(Error::bad(format!(
                "{flag} does not apply to server type {} ({why}); drop it or choose a WSGI server type",
                t.name()
            )));
        }
    }
    if t == ServerType::Waitress && a.processes.is_some_and(|n| n > 1) {
        return Err(Error::bad(
            "--processes: waitress is single-process; raise --threads, scale with replicas, \
             or choose gunicorn, uwsgi or mod_wsgi",
        ));
    }
    Ok(())
}

/// `Confirm` as every y/N question of `init` asks it: `[y/N]` shows the
/// default, a `y` or `n` is only taken with Enter (a lone key once
/// answered, and the Enter that followed answered the next question), and
/// Enter alone takes the default.
pub fn confirm(prompt: impl Into<String>, default: bool) -> Confirm<'static> {
    Confirm::new()
        .with_prompt(prompt)
        .default(default)
        .show_default(true)
        .wait_for_newline(true)
}

/// The escape sequence that shows the terminal cursor again (the select,
/// multi-select and confirm prompts hide it while they are drawn).
const SHOW_CURSOR: &[u8] = b"\x1b[?25h\r\n";

extern "C" fn show_cursor_and_die(sig: nix::libc::c_int) {
    // Only async-signal-safe calls here: write(2), then the signal again
    // with its default action (SA_RESETHAND put it back), so the shell sees
    // a death by SIGINT (`$?` 130), as it does for any Ctrl-C.
    unsafe {
        nix::libc::write(2, SHOW_CURSOR.as_ptr().cast(), SHOW_CURSOR.len());
        nix::libc::raise(sig);
    }
}

/// Ctrl-C (SIGINT; also SIGTERM and SIGHUP) during the prompts: show the
/// cursor again and end as the signal would. dialoguer reads keys in raw
/// mode, and console turns a Ctrl-C into SIGINT after restoring the terminal
/// modes; nothing is written before the last answer, so nothing has changed.
pub fn restore_cursor_on_interrupt() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let action = SigAction::new(
        SigHandler::Handler(show_cursor_and_die),
        SaFlags::SA_RESETHAND,
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // Failing to install it only leaves the cursor as dialoguer leaves it.
        let _ = unsafe { sigaction(sig, &action) };
    }
}

/// Asks every question that applies and validates the answers.
pub fn answers(args: &InitArgs, survey: &Survey, interactive: bool) -> Result<Answers, Error> {
    let mut q = Questions {
        args,
        survey,
        ladder: Ladder {
            yes: args.yes,
            interactive,
            missing: Vec::new(),
        },
    };
    let (written_type, server_type) = q.server_type()?;
    let Some(t) = server_type else {
        return Err(missing_error(args, &q.ladder.missing));
    };
    check_flags_apply(args, t)?;
    let entry_point = if takes_entry_point(t) {
        q.entry_point(t)?
    } else {
        None
    };
    let (static_files, proxy_headers, processes, threads) = if takes_server_options(t) {
        let s = q.static_files()?;
        let p = q.proxy_headers(t)?;
        let processes = if t == ServerType::Waitress {
            None
        } else {
            q.count(args.processes, "MOD_WSGI_PROCESSES", "Processes")?
        };
        let threads = q.count(args.threads, "MOD_WSGI_THREADS", "Threads")?;
        (s, p, processes, threads)
    } else {
        (None, Vec::new(), None, None)
    };
    let deploy_hook = q.deploy_hook()?;
    if !q.ladder.missing.is_empty() {
        return Err(missing_error(args, &q.ladder.missing));
    }
    Ok(Answers {
        written_type,
        server_type: t,
        entry_point,
        static_files,
        proxy_headers,
        processes,
        threads,
        deploy_hook,
        django_settings: survey.app.as_ref().and_then(|a| a.django_settings.clone()),
    })
}

fn missing_error(args: &InitArgs, missing: &[String]) -> Error {
    if args.yes {
        Error::bad(format!(
            "--yes: nothing detected to answer {}; pass them as flags",
            missing.join(", ")
        ))
    } else {
        Error::bad(format!(
            "stdin is not a terminal, so init cannot ask: pass {}, or --yes to accept the detected defaults",
            missing.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder(yes: bool, interactive: bool) -> Ladder {
        Ladder {
            yes,
            interactive,
            missing: Vec::new(),
        }
    }

    /// One question through the ladder: which rung answered, and what it
    /// left in `missing`.
    fn ask(l: &mut Ladder, flag: Option<&'static str>) -> Result<&'static str, Error> {
        l.ask(
            flag.map(Ok),
            || Ok(Unprompted::Value("yes")),
            || Unprompted::Missing("--flag".into(), "fallback"),
            || Ok("prompt"),
        )
    }

    #[test]
    fn flag_then_yes_then_missing_then_prompt() {
        for (yes, interactive) in [(false, false), (false, true), (true, false), (true, true)] {
            let mut l = ladder(yes, interactive);
            assert_eq!(ask(&mut l, Some("flag")).unwrap(), "flag");
            assert!(l.missing.is_empty());
        }
        let mut l = ladder(true, true);
        assert_eq!(ask(&mut l, None).unwrap(), "yes");
        let mut l = ladder(false, true);
        assert_eq!(ask(&mut l, None).unwrap(), "prompt");
        assert!(l.missing.is_empty());
        let mut l = ladder(false, false);
        assert_eq!(ask(&mut l, None).unwrap(), "fallback");
        assert_eq!(ask(&mut l, None).unwrap(), "fallback");
        assert_eq!(l.missing, ["--flag", "--flag"]);
    }

    #[test]
    fn a_missing_default_with_yes_is_collected_and_errors_stop() {
        let mut l = ladder(true, false);
        let got = l.ask(
            None,
            || Ok(Unprompted::Missing("--entry-point".into(), None::<u8>)),
            || unreachable!("--yes does not fall through"),
            || unreachable!("--yes does not prompt"),
        );
        assert_eq!(got.unwrap(), None);
        assert_eq!(l.missing, ["--entry-point"]);
        let err = l.ask::<u8>(
            Some(Err(Error::bad("bad flag"))),
            || unreachable!(),
            || unreachable!(),
            || unreachable!(),
        );
        assert_eq!(err.unwrap_err().to_string(), "bad flag");
        let err = l.ask::<u8>(
            None,
            || Err(Error::bad("nothing detected")),
            || unreachable!(),
            || unreachable!(),
        );
        assert_eq!(err.unwrap_err().to_string(), "nothing detected");
    }
}
