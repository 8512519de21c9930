//! `mod_wsgi`: mod_wsgi-express (Apache). Also the base of `django` and
//! `paste`, which add their own entry point to [`base`].

use nix::sys::signal::Signal;
use nix::unistd::{Group, User};

use super::ctx::{Ctx, Launch};
use crate::knobs::Value;
use crate::launcher::detect::EntryPoint;
use crate::launcher::error::Error;
use crate::launcher::proxy::MOD_WSGI_UNTRUSTABLE;
use crate::launcher::support;

/// Apache's graceful stop (`apachectl -k graceful-stop`), for `mod_wsgi`,
/// `django` and `paste`: the listeners close, requests in flight finish.
/// SIGTERM, what the others take, is Apache's immediate stop.
pub const STOP_SIGNAL: Signal = Signal::SIGWINCH;

/// `mod_wsgi-express start-server` with what every container needs: logs to
/// the terminal, the port on all interfaces, a writable server root, an
/// unprivileged user when running as root, capacity and the other
/// `MOD_WSGI_*` knobs, and trusted proxy headers.
pub fn base(ctx: &Ctx) -> Result<Launch, Error> {
    let mut l = Launch::new("mod_wsgi-express");
    l.args(["start-server", "--log-to-terminal", "--startup-log"]);
    l.args(["--port", &ctx.port.to_string(), "--host", "0.0.0.0"]);
    let server_root = ctx.runtime_dir.join(format!("mod_wsgi-{}", ctx.port));
    l.arg("--server-root")
        .arg(server_root.display().to_string());
    if nix::unistd::geteuid().is_root() {
        let (user, group) = run_as(ctx)?;
        l.args(["--user", &user, "--group", &group]);
        l.notes
            .push(format!("running as root, so Apache runs as {user}:{group}"));
        warn_unwritable_sqlite(ctx.home, &user, &group);
    }
    // mod_wsgi-express takes its --locale from LC_ALL/LANG; C and POSIX
    // are "unsupported" to it (a warning at every start, and ASCII file
    // names), so they get C.UTF-8, as an unset locale does.
    let locale = ["LC_ALL", "LANG"]
        .iter()
        .find_map(|v| ctx.env.get(*v).map(|s| s.trim()).filter(|s| !s.is_empty()));
    let c_like = |s: &str| {
        matches!(
            s,
            "C" | "POSIX" | "C.UTF-8" | "C.utf8" | "C.UTF8" | "C.utf-8"
        )
    };
    if !ctx.user_has("--locale") && !ctx.user_has("--lang") && locale.is_none_or(c_like) {
        l.args(["--locale", "C.UTF-8"]);
    }
    l.args(["--processes", &ctx.knobs.processes().to_string()]);
    l.args(["--threads", &ctx.knobs.threads().to_string()]);
    for (knob, value) in ctx.knobs.iter() {
        match (knob.name, value) {
            ("MOD_WSGI_PROCESSES" | "MOD_WSGI_THREADS", _) => {}
            (_, Value::Flag(false)) => {}
            ("MOD_WSGI_ENABLE_DEBUGGER", Value::Flag(true)) => {
                l.args(["--debug-mode", "--enable-debugger"]);
            }
            (_, Value::Flag(true)) => {
                l.arg(knob.mod_wsgi);
            }
            (_, v) => {
                l.args([knob.mod_wsgi.to_string(), v.to_arg()]);
            }
        }
    }
    for header in &ctx.proxy.headers {
        // mod_wsgi cannot trust these; the launcher warns and skips them.
        if MOD_WSGI_UNTRUSTABLE.contains(&header.as_str()) {
            eprintln!("warpdrive: warning: mod_wsgi cannot trust the {header} header; ignored");
            continue;
        }
        l.args(["--trust-proxy-header", header]);
    }
    for peer in &ctx.proxy.peers {
        l.args(["--trust-proxy", peer]);
    }
    untrusted_peers(ctx, &mut l);
    Ok(l)
}

/// With a peer list (`WARPDRIVE_TRUST_PROXY`, or `--trust-proxy` in
/// server_args), Apache unsets every header of the proxy family for any
/// other peer, as the middleware does on the other servers (mod_wsgi itself
/// keeps the families no trusted header claims): the launcher's
/// `--include-file` holds `<If "${WARPDRIVE_UNTRUSTED_PEER}">`, and the
/// expression (`! -R 'PEER' && …`) goes in that variable.
fn untrusted_peers(ctx: &Ctx, l: &mut Launch) {
    let mut peers: Vec<&str> = ctx.proxy.peers.iter().map(String::as_str).collect();
    let args = ctx.user_args;
    for (i, a) in args.iter().enumerate() {
        if a == "--trust-proxy" {
            peers.extend(args.get(i + 1).map(String::as_str));
        } else if let Some(p) = a.strip_prefix("--trust-proxy=") {
            peers.push(p);
        }
    }
    peers.retain(|p| p.parse::<std::net::IpAddr>().is_ok() || p.parse::<ipnet::IpNet>().is_ok());
    if peers.is_empty() {
        return;
    }
    let expr: Vec<String> = peers.iter().map(|p| format!("! -R '{p}'")).collect();
    l.env
        .insert(support::UNTRUSTED_PEER_VAR.into(), expr.join(" && "));
    l.arg("--include-file").arg(
        support::apache_conf_path(ctx.runtime_dir)
            .display()
            .to_string(),
    );
    l.notes
        .push("proxy headers from other peers unset in Apache".into());
}

/// SQLite database files in the app (`*.sqlite3`, `*.sqlite`, `*.db`, two
/// levels down at most) that Apache's account cannot write, or whose
/// directory it cannot write (SQLite writes a journal beside the file):
/// one warning naming them and the fixes, since every write would fail
/// with "attempt to write a readonly database".
fn warn_unwritable_sqlite(home: &std::path::Path, user: &str, group: &str) {
    let Some(account) = User::from_name(user).ok().flatten() else {
        return;
    };
    let gid = Group::from_name(group)
        .ok()
        .flatten()
        .map(|g| g.gid)
        .unwrap_or(account.gid);
    let mut gids = vec![gid];
    if let Ok(name) = std::ffi::CString::new(user) {
        if let Ok(list) = nix::unistd::getgrouplist(&name, gid) {
            gids.extend(list);
        }
    }
    let mut found = Vec::new();
    sqlite_files(home, 2, &mut found);
    let blocked: Vec<String> = found
        .iter()
        .filter(|f| {
            !writable_by(f, account.uid, &gids)
                || f.parent()
                    .is_some_and(|d| !writable_by(d, account.uid, &gids))
        })
        .map(|f| f.strip_prefix(home).unwrap_or(f).display().to_string())
        .collect();
    if blocked.is_empty() {
        return;
    }
    let shown: Vec<&str> = blocked.iter().take(3).map(String::as_str).collect();
    eprintln!(
        "warpdrive: warning: Apache runs as {user}, which cannot write the SQLite database {} \
         (or its directory), so every write will fail with \"attempt to write a readonly \
         database\"; give {user} the file and its directory (`chown {user}:{group} FILE DIR` \
         in the image), set WARPDRIVE_USER to their owner, or keep the database outside the app",
        shown.join(", ")
    );
}

fn sqlite_files(dir: &std::path::Path, depth: usize, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(kind) = e.file_type() else { continue };
        if name.starts_with('.') || name == "__pycache__" || name == "node_modules" {
            continue;
        }
        if kind.is_dir() && depth > 0 {
            sqlite_files(&e.path(), depth - 1, out);
        } else if kind.is_file()
            && [".sqlite3", ".sqlite", ".db"]
                .iter()
                .any(|x| name.ends_with(x))
        {
            out.push(e.path());
        }
    }
}

/// Whether `uid` (with groups `gids`) may write `path`, by its mode bits.
fn writable_by(path: &std::path::Path, uid: nix::unistd::Uid, gids: &[nix::unistd::Gid]) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(m) = std::fs::metadata(path) else {
        return true;
    };
    if uid.is_root() {
        return true;
    }
    let mode = m.mode();
    if m.uid() == uid.as_raw() {
        mode & 0o200 != 0
    } else if gids.iter().any(|g| g.as_raw() == m.gid()) {
        mode & 0o020 != 0
    } else {
        mode & 0o002 != 0
    }
}

/// The account Apache's children run as when the launcher is root:
/// `$WARPDRIVE_USER` (default `www-data`) and `$WARPDRIVE_GROUP` (default
/// that user's primary group). Apache refuses to serve pages as root.
fn run_as(ctx: &Ctx) -> Result<(String, String), Error> {
    let name = ctx
        .env
        .get("WARPDRIVE_USER")
        .filter(|u| !u.is_empty())
        .map(String::as_str)
        .unwrap_or("www-data");
    let user = User::from_name(name).ok().flatten().ok_or_else(|| {
        Error::bad(format!(
            "WARPDRIVE_USER={name}: no such user; mod_wsgi-express cannot run Apache as root, \
             so create the user or set WARPDRIVE_USER to an existing unprivileged account"
        ))
    })?;
    let group = match ctx.env.get("WARPDRIVE_GROUP").filter(|g| !g.is_empty()) {
        Some(g) => {
            Group::from_name(g).ok().flatten().ok_or_else(|| {
                Error::bad(format!(
                    "WARPDRIVE_GROUP={g}: no such group; set it to an existing group"
                ))
            })?;
            g.clone()
        }
        None => Group::from_gid(user.gid)
            .ok()
            .flatten()
            .map(|g| g.name)
            .unwrap_or_else(|| user.gid.to_string()),
    };
    Ok((user.name, group))
}

/// Whether server_args (or MOD_WSGI_ENTRY_POINT) already name the app:
/// `--entry-point`, or a `.py`/`.wsgi` script that exists in the app.
pub fn user_entry_point(ctx: &Ctx) -> bool {
    ctx.knobs.text("MOD_WSGI_ENTRY_POINT").is_some()
        || ctx.user_has("--entry-point")
        || ctx.user_args.iter().any(|a| {
            !a.starts_with('-')
                && (a.ends_with(".py") || a.ends_with(".wsgi"))
                && ctx.home.join(a).is_file()
        })
}

/// The app as mod_wsgi-express options: `--application-type module
/// --entry-point M --callable-object C` (each left out when its
/// `MOD_WSGI_*` knob is set: [`base`] already gave it), plus `--url-alias
/// URL DIR/` when static files are known. A factory
/// (`module:create_app()`) is called by the `warpdrive_wsgi` wrapper, which
/// mod_wsgi then serves. Shared by `mod_wsgi` and `django`.
pub fn detected_app(ctx: &Ctx, l: &mut Launch) -> Result<(), Error> {
    let entry = ctx.entry_point()?;
    l.notes.push(
        format!("entry point {} {}", entry.spec(), ctx.entry_source()?)
            .trim_end()
            .to_string(),
    );
    if entry.is_factory() {
        ctx.wrap(&entry.spec(), l, true)?;
        l.args(["--application-type", "module", "--entry-point"]);
        l.args(["warpdrive_wsgi", "--callable-object", "application"]);
    } else {
        let module = entry.module.clone();
        for (option, knob, value) in [
            ("--application-type", "MOD_WSGI_APPLICATION_TYPE", "module"),
            ("--entry-point", "MOD_WSGI_ENTRY_POINT", module.as_str()),
            (
                "--callable-object",
                "MOD_WSGI_CALLABLE_OBJECT",
                &entry.callable,
            ),
        ] {
            if ctx.knobs.get(knob).is_none() {
                l.args([option, value]);
            }
        }
    }
    if let Some((url, root)) = ctx.static_files()? {
        l.args(["--url-alias", url]);
        l.arg(format!("{}/", root.display()));
    }
    Ok(())
}

/// Refuses a gunicorn-style `module:callable` word in server_args, which
/// mod_wsgi-express would take for a script file and fail on: the error
/// says the entry point is not used and which options to write.
pub fn refuse_foreign_entry(ctx: &Ctx) -> Result<(), Error> {
    for a in ctx.user_args {
        if a.starts_with('-') || !a.contains(':') || ctx.home.join(a).exists() {
            continue;
        }
        let Some(e) = EntryPoint::parse(a) else {
            continue;
        };
        let wd = ctx.src_root.join(".warpdrive");
        let file = crate::launcher::app_file::server_args_path(&wd, ctx.server_type);
        return Err(Error::bad(format!(
            "{}: {} is an entry point in gunicorn's form, which {} (mod_wsgi-express) does not \
             take; write `--entry-point {} --callable-object {}` instead, or remove it to use \
             the detected one",
            file.display(),
            crate::error::quoted(a),
            ctx.server_type.name(),
            e.module,
            e.callable
        )));
    }
    Ok(())
}

pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    refuse_foreign_entry(ctx)?;
    let mut l = base(ctx)?;
    if user_entry_point(ctx) {
        l.notes.push("entry point from server_args".into());
    } else {
        detected_app(ctx, &mut l)?;
    }
    l.args(ctx.user_args.iter().cloned());
    Ok(l)
}

/// Refuses a mod_wsgi-express command whose values would break out of the
/// files mod_wsgi-express generates from them ([`crate::mod_wsgi_args`]):
/// server_args first (the message names the file), then the whole command
/// (values the launcher built from the environment and the app), the app
/// directory (mod_wsgi-express's default working directory), and the
/// environment variables it copies into its script (`LANG` and the other
/// locale variables when no `--locale`/`--lang` is given, `HTTPD`).
pub fn check(ctx: &Ctx, launch: &Launch) -> Result<(), Error> {
    use crate::mod_wsgi_args::{check_args, check_value};
    let wd = ctx.src_root.join(".warpdrive");
    let file = crate::launcher::app_file::server_args_path(&wd, ctx.server_type);
    check_args(ctx.user_args).map_err(|e| Error::bad(format!("{}: {e}", file.display())))?;
    let args = launch.argv.get(2..).unwrap_or_default();
    check_args(args).map_err(|e| {
        Error::bad(format!(
            "the mod_wsgi-express command built from {}: {e}",
            origin(&e.option)
        ))
    })?;
    let root = ctx.home.display().to_string();
    check_value("--working-directory", &root).map_err(|e| {
        Error::bad(format!(
            "the app directory {} holds {}: it is mod_wsgi-express's working directory, and {}; \
             move the app to a directory without it",
            crate::error::quoted(&root),
            e.found(),
            e.why()
        ))
    })?;
    let has = |flag: &str| {
        args.iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
    };
    let mut from_env: Vec<(&str, &str)> = vec![("HTTPD", "--httpd-executable")];
    if !has("--locale") && !has("--lang") {
        from_env.extend(["LC_ALL", "LC_CTYPE", "LANG", "LANGUAGE"].map(|v| (v, "--locale")));
    }
    for (var, option) in from_env {
        if let Some(value) = ctx.env.get(var).filter(|v| !v.is_empty()) {
            check_value(option, value).map_err(|e| {
                Error::bad(format!(
                    "{var}={} is not valid for mod_wsgi-express: it holds {} ({}); fix the \
                     variable",
                    crate::error::quoted(value),
                    e.found(),
                    e.why()
                ))
            })?;
        }
    }
    Ok(())
}

/// Where the launcher took the value of `option` from, for messages.
fn origin(option: &str) -> &'static str {
    match option {
        "--server-root" => "the runtime directory (WARPDRIVE_RUNTIME_DIR, else TMPDIR)",
        "--user" | "--group" => "WARPDRIVE_USER and WARPDRIVE_GROUP",
        "--url-alias" => "the static files (.warpdrive/application or the Django settings)",
        "--entry-point" | "--callable-object" | "" => "the app's entry point",
        _ => "the environment",
    }
}
