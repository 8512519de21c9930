//! The server types.

use super::error::Error;

/// The server types. `auto` resolves to one of the others before a plan exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ServerType {
    #[serde(rename = "shell")]
    Shell,
    #[serde(rename = "python")]
    Python,
    #[serde(rename = "paste")]
    Paste,
    #[serde(rename = "django")]
    Django,
    #[serde(rename = "gunicorn")]
    Gunicorn,
    #[serde(rename = "mod_wsgi")]
    ModWsgi,
    #[serde(rename = "waitress")]
    Waitress,
    #[serde(rename = "uwsgi")]
    Uwsgi,
}

/// The words accepted for a server type, in documentation order.
pub const SERVER_TYPE_NAMES: &[&str] = &[
    "auto", "shell", "python", "paste", "django", "gunicorn", "mod_wsgi", "waitress", "uwsgi",
];

impl ServerType {
    pub const ALL: [ServerType; 8] = [
        ServerType::Shell,
        ServerType::Python,
        ServerType::Paste,
        ServerType::Django,
        ServerType::Gunicorn,
        ServerType::ModWsgi,
        ServerType::Waitress,
        ServerType::Uwsgi,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ServerType::Shell => "shell",
            ServerType::Python => "python",
            ServerType::Paste => "paste",
            ServerType::Django => "django",
            ServerType::Gunicorn => "gunicorn",
            ServerType::ModWsgi => "mod_wsgi",
            ServerType::Waitress => "waitress",
            ServerType::Uwsgi => "uwsgi",
        }
    }

    /// Parses a server type word; `Ok(None)` is `auto`.
    pub fn parse(word: &str, origin: &str) -> Result<Option<ServerType>, Error> {
        if word == "auto" {
            return Ok(None);
        }
        ServerType::ALL
            .into_iter()
            .find(|t| t.name() == word)
            .map(Some)
            .ok_or_else(|| {
                Error::bad(format!(
                    "{origin}: unknown server type {word:?}; valid types are {}",
                    SERVER_TYPE_NAMES.join(", ")
                ))
            })
    }

    /// True for the types whose app is a WSGI callable the launcher may wrap.
    pub fn is_wsgi_server(self) -> bool {
        matches!(
            self,
            ServerType::Gunicorn | ServerType::ModWsgi | ServerType::Waitress | ServerType::Uwsgi
        )
    }
}
