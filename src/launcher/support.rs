//! The embedded Python support module (`warpdrive_wsgi`): proxy-header
//! middleware and the WhiteNoise wrapper for gunicorn, waitress and uWSGI.
//!
//! [`install`] writes `warpdrive_wsgi.py` into `<runtime dir>/python/`; the
//! server plans put that directory first on `PYTHONPATH` and serve
//! `warpdrive_wsgi:application`, configured by environment variables:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `WARPDRIVE_WSGI_TARGET` | the app: `module:callable`, `module` (callable `application`), or a factory `module:create_app(LITERALS…)` called once at start-up |
//! | `WARPDRIVE_STATIC_URL`, `WARPDRIVE_STATIC_ROOT` | serve that directory under that URL with WhiteNoise |
//! | `WARPDRIVE_TRUST_PROXY_HEADERS` | comma list of trusted proxy headers |
//! | `WARPDRIVE_TRUST_PROXY` | peer addresses/CIDRs allowed to send them (unset: any) |
//!
//! Order: proxy headers outermost, then WhiteNoise, then the app. A missing
//! whitenoise is a one-line error on stderr naming `pip install whitenoise`.
//!
//! # Reference: mod_wsgi-express 6.1.1, observed on this machine
//!
//! `--trust-proxy-header X-Forwarded-For/-Proto/-Host/-Port`, request from
//! 127.0.0.1 carrying `X-Forwarded-For: 1.1.1.1,2.2.2.2`, `X-Forwarded-Proto:
//! https`, `X-Forwarded-Host: evil.example:444`, `X-Forwarded-Port: 9999` and
//! the untrusted `X-Real-IP`, `X-Client-IP`, `X-Host`, `X-Forwarded-Scheme`,
//! `X-Scheme`, `X-Forwarded-SSL`, `X-Forwarded-HTTPS`, `X-HTTPS`,
//! `X-Forwarded-Server`, `X-Url-Scheme`, `X-Script-Name`, `Forwarded`:
//!
//! | | no `--trust-proxy` | `--trust-proxy 127.0.0.1` | `--trust-proxy 10.9.8.7` (peer untrusted) |
//! | --- | --- | --- | --- |
//! | REMOTE_ADDR | 1.1.1.1 (first element) | 2.2.2.2 (rightmost untrusted element) | 127.0.0.1 |
//! | HTTP_X_FORWARDED_FOR | `1.1.1.1,2.2.2.2` (kept as sent) | `2.2.2.2` (rewritten) | removed |
//! | wsgi.url_scheme | https (no `HTTPS` key added) | https | http |
//! | HTTP_HOST | evil.example:444 | evil.example:444 | 127.0.0.1:port |
//! | SERVER_NAME | unchanged | unchanged | unchanged |
//! | SERVER_PORT | 9999 | 9999 | the real port |
//! | trusted X-Forwarded-* headers | kept | kept | removed |
//! | X-Real-IP, X-Client-IP, X-Host, X-Forwarded-Scheme, X-Scheme, X-Forwarded-SSL, X-Forwarded-HTTPS, X-HTTPS | removed | removed | removed |
//! | X-Forwarded-Server, X-Script-Name, X-Forwarded-Script-Name (family not trusted) | kept | kept | kept |
//! | X-Url-Scheme, Forwarded, X-Forwarded-Prefix (unknown to mod_wsgi) | kept | kept | kept |
//!
//! More observations: `--trust-proxy 10.0.0.0/8 --trust-proxy 127.0.0.0/8` with
//! `X-Forwarded-For: 1.1.1.1 , ,10.1.2.3, 127.0.0.5` gives REMOTE_ADDR 1.1.1.1
//! and the header `1.1.1.1, 10.1.2.3, 127.0.0.5`; `10.0.0.1, 127.0.0.5` (all
//! trusted) gives 10.0.0.1; `1.1.1.1, garbage, 10.0.0.1` gives `garbage`.
//! `X-Forwarded-Proto: HTTPS` counts as https, `ftp` changes nothing. Trusting
//! `X-Forwarded-Scheme` and `Forwarded` only: the scheme family (Proto, SSL,
//! HTTPS, …) is scrubbed, the client/host/port families are left as sent,
//! and `Forwarded` is ignored entirely. Trusting `X-Forwarded-SSL: on`,
//! `X-Host`, `X-Forwarded-Server`, `X-Script-Name` sets the scheme, HTTP_HOST,
//! SERVER_NAME and SCRIPT_NAME. The Python module's docstring states the
//! rules these follow; `tests/integration/middleware.rs` compares it with a
//! live mod_wsgi-express.

use std::path::{Path, PathBuf};

use super::dirs;
use super::error::Error;
use super::proxy::PROXY_FAMILY;

/// The module's file name (and `warpdrive_wsgi` its import name).
pub const MODULE_FILE: &str = "warpdrive_wsgi.py";

/// What the servers load: `warpdrive_wsgi:application`.
pub const ENTRY_POINT: &str = "warpdrive_wsgi:application";

/// The module's source, embedded in the binary.
pub const SOURCE: &str = include_str!("support/warpdrive_wsgi.py");

/// Its ASGI twin (`warpdrive_asgi.py`, beside it) for uvicorn and gunicorn
/// with an ASGI worker: the same proxy rules (it imports `warpdrive_wsgi`),
/// WhiteNoise's file index for static files. Configured by
/// `WARPDRIVE_ASGI_TARGET` instead of `WARPDRIVE_WSGI_TARGET`.
pub const ASGI_MODULE_FILE: &str = "warpdrive_asgi.py";

/// What uvicorn loads: `warpdrive_asgi:application`.
pub const ASGI_ENTRY_POINT: &str = "warpdrive_asgi:application";

/// The ASGI twin's source, embedded in the binary.
pub const ASGI_SOURCE: &str = include_str!("support/warpdrive_asgi.py");

/// The variable holding the Apache expression that is true for a peer
/// outside the trusted list (`! -R '10.0.0.0/8' && …`), read by the
/// Apache include ([`apache_conf`]) when mod_wsgi-express starts httpd.
pub const UNTRUSTED_PEER_VAR: &str = "WARPDRIVE_UNTRUSTED_PEER";

/// Where the Apache include for mod_wsgi is written.
pub fn apache_conf_path(runtime_dir: &Path) -> PathBuf {
    runtime_dir
        .join("apache")
        .join("warpdrive-untrusted-peers.conf")
}

/// The Apache include: every header of [`PROXY_FAMILY`] unset when the
/// request comes from a peer outside the trusted list.
pub fn apache_conf() -> String {
    let mut text = format!(
        "# Written by `warpdrive exec` for mod_wsgi-express (--include-file): from a\n\
         # peer outside WARPDRIVE_TRUST_PROXY no proxy header reaches the app.\n\
         <If \"${{{UNTRUSTED_PEER_VAR}}}\">\n"
    );
    for h in PROXY_FAMILY {
        text.push_str(&format!("RequestHeader unset {h}\n"));
    }
    text.push_str("</If>\n");
    text
}

/// Whether a plan with this environment needs [`install`] before it runs.
pub fn needed(plan_env: &std::collections::BTreeMap<String, String>) -> bool {
    plan_env.contains_key("WARPDRIVE_WSGI_TARGET")
        || plan_env.contains_key("WARPDRIVE_ASGI_TARGET")
        || plan_env.contains_key(UNTRUSTED_PEER_VAR)
}

/// Writes the module into `<runtime_dir>/python/` and the Apache include
/// ([`apache_conf_path`]), each only if its content differs, atomically via
/// rename, and returns the module's directory, for `PYTHONPATH`. The
/// directories and files are world-readable, so that a server running as
/// another user (Apache's worker) can read them.
pub fn install(runtime_dir: &Path) -> Result<PathBuf, Error> {
    let dir = dirs::support_dir(runtime_dir);
    write_if_changed(&dir.join(MODULE_FILE), SOURCE)?;
    write_if_changed(&dir.join(ASGI_MODULE_FILE), ASGI_SOURCE)?;
    write_if_changed(&apache_conf_path(runtime_dir), &apache_conf())?;
    Ok(dir)
}

fn write_if_changed(target: &Path, text: &str) -> Result<(), Error> {
    let dir = target.parent().unwrap_or(Path::new("."));
    dirs::ensure_dir(dir)?;
    if std::fs::read(target).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".warpdrive")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io(format!("cannot write in {}", dir.display()), e))?;
    use std::io::Write;
    tmp.write_all(text.as_bytes())
        .map_err(|e| Error::io(format!("cannot write {}", tmp.path().display()), e))?;
    use std::os::unix::fs::PermissionsExt;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(|e| Error::io(format!("cannot chmod {}", tmp.path().display()), e))?;
    tmp.persist(target)
        .map_err(|e| Error::io(format!("cannot write {}", target.display()), e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_once_and_repairs() {
        let rt = tempfile::tempdir().unwrap();
        let dir = install(rt.path()).unwrap();
        let file = dir.join(MODULE_FILE);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), SOURCE);
        use std::os::unix::fs::MetadataExt;
        let before = std::fs::metadata(&file).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        install(rt.path()).unwrap();
        // Not rewritten: a rewrite renames a new file (a new inode) into place.
        let after = std::fs::metadata(&file).unwrap();
        assert_eq!(after.ino(), before.ino());
        assert_eq!(after.modified().unwrap(), before.modified().unwrap());
        std::fs::write(&file, "stale").unwrap();
        install(rt.path()).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), SOURCE);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        assert_eq!(
            std::fs::read_to_string(dir.join(ASGI_MODULE_FILE)).unwrap(),
            ASGI_SOURCE
        );
        // No temp files left behind: the two modules only.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
        let conf = std::fs::read_to_string(apache_conf_path(rt.path())).unwrap();
        assert!(
            conf.contains("RequestHeader unset X-Forwarded-Prefix\n"),
            "{conf}"
        );
    }

    #[test]
    fn the_module_and_the_launcher_know_the_same_proxy_family() {
        let start = SOURCE
            .find("PROXY_FAMILY = (")
            .expect("PROXY_FAMILY in the module");
        let list = &SOURCE[start..];
        let list = &list[..list.find(')').expect("end of the tuple")];
        let names: Vec<&str> = list.split('"').skip(1).step_by(2).collect();
        assert_eq!(names, PROXY_FAMILY);
    }
}
