//! What `init` finds in the app, offered as defaults: the launcher's own
//! detection (`auto`, Django settings, the `wsgi` module convention), with
//! its problems turned into warnings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::Error;
use crate::launcher::detect::{self, AppInfo, AutoChoice};

/// What the layout says, offered as defaults.
#[derive(Debug, Clone)]
pub struct Survey {
    /// The canonical app directory.
    pub app_root: PathBuf,
    /// The `auto` choice, or why there is none.
    pub auto: Result<AutoChoice, String>,
    /// Entry point and static files (Django settings or a `wsgi` module).
    pub app: Option<AppInfo>,
    /// Detection problems worth a warning (e.g. unreadable Django settings).
    pub warnings: Vec<String>,
}

/// Surveys the layout of `app_root` (already canonical) with the launcher's
/// detection code.
pub fn survey(
    app_root: &Path,
    python: &str,
    env: &BTreeMap<String, String>,
) -> Result<Survey, Error> {
    let auto = detect::auto(app_root, env).map_err(|e| e.to_string());
    let mut warnings = Vec::new();
    let app = match detect::django_settings_module(app_root, env)? {
        Some(settings) => match detect::django_info(app_root, &settings, python, env) {
            Ok(info) => Some(info),
            Err(e) => {
                warnings.push(format!("could not read the Django settings: {e}"));
                None
            }
        },
        None => detect::wsgi_module_info(app_root).or_else(|| detect::asgi_module_info(app_root)),
    };
    Ok(Survey {
        app_root: app_root.to_path_buf(),
        auto,
        app,
        warnings,
    })
}
