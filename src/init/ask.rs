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
    }
}

struct Questions<'a> {
    args: &'a InitArgs,
    survey: &'a Survey,
    interactive: bool,
    /// Flags that would have answered an unanswered question.
    missing: Vec<String>,
}

impl Questions<'_> {
    /// Prompt only on a terminal, and only when `--yes` did not ask for defaults.
    fn prompt(&self) -> bool {
        self.interactive && !self.args.yes
    }

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
        if let Some(word) = &self.args.server_type {
            return match ServerType::parse(word.trim(), "--server-type")? {
                Some(t) => Ok((Some(t), Some(t))),
                None => match self.detected_type() {
                    Some(t) => Ok((None, Some(t))),
                    None => Err(Error::bad(format!(
                        "--server-type auto: {}",
                        self.no_detection()
                    ))),
                },
            };
        }
        let detected = self.detected_type();
        if self.args.yes {
            return match detected {
                Some(t) => Ok((Some(t), Some(t))),
                None => Err(Error::bad(format!(
                    "{}; or pass --server-type TYPE",
                    self.no_detection()
                ))),
            };
        }
        if !self.interactive {
            self.missing.push(match detected {
                Some(t) => format!("--server-type TYPE (detected: {})", t.name()),
                None => "--server-type TYPE".to_string(),
            });
            return Ok((detected, detected));
        }
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
                    if let Ok(a) = &self.survey.auto {
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
            (None, None) => Err(Error::bad(format!("auto: {}", self.no_detection()))),
        }
    }

    fn entry_point(&mut self, t: ServerType) -> Result<Option<EntryPoint>, Error> {
        if let Some(text) = &self.args.entry_point {
            return entry_point(text, "--entry-point").map(Some);
        }
        let default = self.survey.app.as_ref().and_then(|a| a.entry_point.clone());
        if self.args.yes || !self.interactive {
            if default.is_none() || !self.args.yes {
                self.missing.push(match &default {
                    Some(e) => format!("--entry-point MODULE:CALLABLE (detected: {})", e.spec()),
                    None => format!(
                        "--entry-point MODULE:CALLABLE (none detected for {})",
                        t.name()
                    ),
                });
            }
            return Ok(default);
        }
        let mut input = Input::<String>::new()
            .with_prompt("WSGI entry point (module:callable)")
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

    fn static_files(&mut self) -> Result<Option<(String, PathBuf)>, Error> {
        let a = self.args;
        if a.no_static {
            return Ok(None);
        }
        let detected = self.detected_static();
        if a.static_url.is_some() || a.static_root.is_some() {
            let url = match (&a.static_url, &detected) {
                (Some(u), _) => static_url(u, "--static-url")?,
                (None, Some((u, _))) => u.clone(),
                (None, None) => "/static/".to_string(),
            };
            let root = match &a.static_root {
                Some(r) => static_root(&self.survey.app_root, r, "--static-root")?,
                None => match detected {
                    Some((_, root)) => root?,
                    None => {
                        return Err(Error::bad(
                            "--static-url needs --static-root DIR: no STATIC_ROOT was detected",
                        ))
                    }
                },
            };
            return Ok(Some((url, root)));
        }
        if a.yes {
            return match detected {
                Some((url, root)) => Ok(Some((
                    url,
                    root.map_err(|e| {
                        Error::bad(format!("{e}; pass --static-root DIR or --no-static"))
                    })?,
                ))),
                None => Ok(None),
            };
        }
        if !self.interactive {
            self.missing.push(match &detected {
                Some((u, _)) => {
                    format!("--static-url URL --static-root DIR or --no-static (detected: {u})")
                }
                None => "--static-url URL --static-root DIR or --no-static".to_string(),
            });
            return Ok(None);
        }
        let url = Input::<String>::new()
            .with_prompt("Static files URL (empty for none)")
            .default(
                detected
                    .as_ref()
                    .map(|(u, _)| u.clone())
                    .unwrap_or_default(),
            )
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
        let app_root = self.survey.app_root.clone();
        let default_root = match &detected {
            Some((_, Ok(root))) => relative(&app_root, root),
            _ => "static".to_string(),
        };
        let root = Input::<String>::new()
            .with_prompt("Static files directory (relative to the app)")
            .default(default_root)
            .validate_with(move |s: &String| -> Result<(), String> {
                static_root(&app_root, s, "static directory")
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
            .interact_text()?;
        Ok(Some((
            url,
            static_root(&self.survey.app_root, &root, "static directory")?,
        )))
    }

    fn proxy_headers(&mut self, t: ServerType) -> Result<Vec<String>, Error> {
        let headers = self.proxy_headers_answer(t)?;
        Ok(warn_forwarded(headers))
    }

    fn proxy_headers_answer(&mut self, t: ServerType) -> Result<Vec<String>, Error> {
        let a = self.args;
        if !a.trust_proxy_header.is_empty() {
            let mut out: Vec<String> = Vec::new();
            for h in &a.trust_proxy_header {
                let h = proxy_header(h, t)?;
                if !out.contains(&h) {
                    out.push(h);
                }
            }
            return Ok(out);
        }
        if a.no_proxy_headers || a.yes {
            return Ok(Vec::new());
        }
        if !self.interactive {
            self.missing
                .push("--trust-proxy-header NAME (repeatable) or --no-proxy-headers".to_string());
            return Ok(Vec::new());
        }
        let offered: Vec<&str> = OFFERED_HEADERS
            .iter()
            .copied()
            .filter(|h| !(is_mod_wsgi_family(t) && MOD_WSGI_UNTRUSTABLE.contains(h)))
            .collect();
        let labels: Vec<String> = offered
            .iter()
            .map(|h| match *h {
                "Forwarded" => format!("{h} (RFC 7239: recorded, but not applied yet; see README)"),
                _ => h.to_string(),
            })
            .collect();
        let chosen = MultiSelect::new()
            .with_prompt("Proxy headers to trust (space toggles, enter accepts)")
            .items(&labels)
            .interact()?;
        Ok(chosen.into_iter().map(|i| offered[i].to_string()).collect())
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
        if let Some(n) = flag {
            return parse(&n.to_string(), &flag_name).map(Some);
        }
        if !self.prompt() {
            return Ok(None);
        }
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
    }

    fn deploy_hook(&mut self) -> Result<bool, Error> {
        if self.args.deploy_hook {
            return Ok(true);
        }
        let exists = self.survey.app_root.join(HOOK_DIR).join("deploy").exists();
        if exists || !self.prompt() {
            return Ok(false);
        }
        Ok(Confirm::new()
            .with_prompt(
                "Write a commented action_hooks/deploy skeleton (runs before every start)?",
            )
            .default(false)
            .interact()?)
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

/// Asks every question that applies and validates the answers.
pub fn answers(args: &InitArgs, survey: &Survey, interactive: bool) -> Result<Answers, Error> {
    let mut q = Questions {
        args,
        survey,
        interactive,
        missing: Vec::new(),
    };
    let (written_type, server_type) = q.server_type()?;
    let Some(t) = server_type else {
        return Err(missing_error(args, &q.missing));
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
    if !q.missing.is_empty() {
        return Err(missing_error(args, &q.missing));
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
