//! The files `init` writes, built from the answers.

use std::path::{Path, PathBuf};

use super::answers::{is_mod_wsgi_family, relative, takes_entry_point, Answers};
use super::error::Error;
use crate::launcher::detect::{self, AppInfo};
use crate::launcher::resolve;
use crate::launcher::server_type::{self, ServerType};

/// A file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Absolute path.
    pub path: PathBuf,
    /// Path relative to the app, for messages (`.warpdrive/server_type`).
    pub rel: String,
    pub text: String,
    /// Permission bits: 0644, or 0755 for a hook. The container may run
    /// under an arbitrary UID, which must be able to read them.
    pub mode: u32,
}

/// The program whose options server_args holds, for its header.
fn program(t: ServerType) -> &'static str {
    match t {
        ServerType::Shell => "app.sh",
        ServerType::Python => "app.py",
        ServerType::Paste | ServerType::Django | ServerType::ModWsgi => "mod_wsgi-express",
        ServerType::Gunicorn => "gunicorn",
        ServerType::Waitress => "waitress-serve",
        ServerType::Uwsgi => "uwsgi",
        ServerType::Uvicorn => "uvicorn",
    }
}

/// One option per line, each word shell-quoted when needed (server_args
/// is split by shell-word rules, with `$VAR` expansion outside single quotes).
fn line(words: &[&str]) -> Result<String, Error> {
    shlex::try_join(words.iter().copied())
        .map_err(|_| Error::bad("a value contains a NUL byte; choose another value"))
}

/// The options for server_args: only what the user chose, in the chosen
/// server's own syntax. Static files, the entry point and (for gunicorn,
/// waitress, uwsgi) proxy headers go to the `application` record instead,
/// which the launcher turns into the right options for each server.
pub fn server_options(a: &Answers, app_root: &Path) -> Result<Vec<String>, Error> {
    let t = a.server_type;
    let mut out = Vec::new();
    if t == ServerType::Paste {
        if let Some((url, root)) = &a.static_files {
            let dir = format!("{}/", relative(app_root, root));
            out.push(line(&["--url-alias", url, &dir])?);
        }
    }
    if is_mod_wsgi_family(t) {
        for h in &a.proxy_headers {
            out.push(line(&["--trust-proxy-header", h])?);
        }
    }
    if let Some(n) = a.processes {
        let flag = match t {
            ServerType::Gunicorn | ServerType::Uvicorn => "--workers",
            _ => "--processes",
        };
        out.push(line(&[flag, &n.to_string()])?);
    }
    if let Some(n) = a.threads.filter(|_| t != ServerType::Uvicorn) {
        out.push(line(&["--threads", &n.to_string()])?);
    }
    Ok(out)
}

fn server_args_text(a: &Answers, options: &[String]) -> String {
    let t = a.server_type;
    let what = match t {
        ServerType::Shell | ServerType::Python => "arguments",
        _ => "options",
    };
    let mut text = format!(
        "# Extra {what} for {} (server type {}).\n\
         # `warpdrive exec` adds them to the command it builds. One option per line,\n\
         # split by shell-word rules; $VAR and ${{VAR:-default}} are expanded, and\n\
         # nothing is ever run through a shell. Written by `kubectl warpdrive init`.\n",
        program(t),
        t.name()
    );
    for o in options {
        text.push_str(o);
        text.push('\n');
    }
    text
}

/// The `application` record, for the types that read it.
pub fn record(a: &Answers, app_root: &Path) -> Result<Option<String>, Error> {
    if !takes_entry_point(a.server_type) {
        return Ok(None);
    }
    let info = AppInfo {
        entry_point: a.entry_point.clone(),
        asgi_entry_point: None,
        recorded: false,
        static_url: a.static_files.as_ref().map(|(u, _)| u.clone()),
        static_root: a.static_files.as_ref().map(|(_, r)| r.clone()),
        django_settings: a.django_settings.clone(),
        trust_proxy_headers: if a.server_type.is_app_server() && !is_mod_wsgi_family(a.server_type)
        {
            a.proxy_headers.clone()
        } else {
            Vec::new()
        },
        source: String::new(),
    };
    Ok(Some(detect::format_record(&info, app_root)?))
}

/// The deploy hook skeleton: a shell script that does nothing yet.
pub fn deploy_hook(a: &Answers) -> String {
    let examples = if a.django_settings.is_some() {
        "# python manage.py migrate --noinput\n"
    } else {
        "# python -m myapp.migrate\n"
    };
    format!(
        "#!/bin/sh\n\
         # .warpdrive/action_hooks/deploy: run by `warpdrive exec` before every start of\n\
         # the app, in the app directory, with the container's environment. A non-zero\n\
         # exit stops the start with that status. For work that must run only once per\n\
         # container, use .warpdrive/action_hooks/deploy-cfg instead.\n\
         #\n\
         # Uncomment or add what your app needs, for example:\n\
         {examples}\
         set -e\n"
    )
}

/// Every file for the answers, in the order they are shown and written.
pub fn files(a: &Answers, app_root: &Path, wd: &Path) -> Result<Vec<File>, Error> {
    let file = |rel_in_wd: &str, text: String, mode: u32| File {
        path: wd.join(rel_in_wd),
        rel: format!(".warpdrive/{rel_in_wd}"),
        text,
        mode,
    };
    let mut out = vec![file(
        "server_type",
        format!(
            "{}\n",
            a.written_type
                .map(ServerType::name)
                .unwrap_or(server_type::AUTO)
        ),
        0o644,
    )];
    let args_path = resolve::server_args_path(wd, a.server_type);
    let args_rel = args_path.strip_prefix(wd).unwrap_or(&args_path);
    let options = server_options(a, app_root)?;
    out.push(file(
        &args_rel.to_string_lossy(),
        server_args_text(a, &options),
        0o644,
    ));
    if let Some(text) = record(a, app_root)? {
        out.push(file(detect::RECORD_FILE, text, 0o644));
    }
    if a.deploy_hook {
        out.push(file("action_hooks/deploy", deploy_hook(a), 0o755));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::launcher::detect::EntryPoint;

    fn answers(t: ServerType) -> Answers {
        Answers {
            written_type: Some(t),
            server_type: t,
            entry_point: EntryPoint::parse("app:wsgi"),
            static_files: None,
            proxy_headers: vec!["X-Forwarded-For".into()],
            processes: Some(2),
            threads: Some(4),
            deploy_hook: false,
            django_settings: None,
        }
    }

    #[test]
    fn each_server_gets_options_it_understands() {
        let root = Path::new("/app");
        let opts = |t| server_options(&answers(t), root).unwrap().join(" | ");
        let mod_wsgi = "--trust-proxy-header X-Forwarded-For | --processes 2 | --threads 4";
        assert_eq!(opts(ServerType::Django), mod_wsgi);
        assert_eq!(opts(ServerType::ModWsgi), mod_wsgi);
        assert_eq!(opts(ServerType::Paste), mod_wsgi);
        assert_eq!(opts(ServerType::Gunicorn), "--workers 2 | --threads 4");
        assert_eq!(opts(ServerType::Uwsgi), "--processes 2 | --threads 4");
        // Proxy headers for the middleware servers go to the record.
        let rec = record(&answers(ServerType::Waitress), root)
            .unwrap()
            .unwrap();
        assert!(
            rec.contains("\ntrust_proxy_headers = X-Forwarded-For\n"),
            "{rec}"
        );
        let rec = record(&answers(ServerType::ModWsgi), root)
            .unwrap()
            .unwrap();
        assert!(!rec.contains("trust_proxy_headers"), "{rec}");
        assert!(record(&answers(ServerType::Paste), root).unwrap().is_none());
    }
}
