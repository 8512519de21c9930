//! The server types: the one list, from which the names, the order `init`
//! offers them in, the `--server-type` help and value lists, and the JSON
//! form of a plan are all derived.

use super::error::Error;

/// Defines [`ServerType`] from one table of `Variant => "name"`, in
/// documentation order, with [`ServerType::ALL`] and [`ServerType::name`].
macro_rules! server_types {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)+) => {
        /// The server types. `auto` resolves to one of the others before a plan exists.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ServerType {
            $($(#[$doc])* $variant,)+
        }

        impl ServerType {
            /// Every type, in documentation order.
            pub const ALL: &'static [ServerType] = &[$(ServerType::$variant,)+];

            /// The word for the type in `.warpdrive/server_type`, flags and output.
            pub fn name(self) -> &'static str {
                match self {
                    $(ServerType::$variant => $name,)+
                }
            }
        }
    };
}

server_types! {
    /// The executable `app.sh`.
    Shell => "shell",
    /// `python app.py`.
    Python => "python",
    /// mod_wsgi-express hosting `paste.ini`.
    Paste => "paste",
    /// mod_wsgi-express hosting a Django project.
    Django => "django",
    Gunicorn => "gunicorn",
    /// mod_wsgi-express (Apache).
    ModWsgi => "mod_wsgi",
    Waitress => "waitress",
    Uwsgi => "uwsgi",
    /// uvicorn serving an ASGI app (Django's `asgi.py`, FastAPI, Starlette).
    Uvicorn => "uvicorn",
}

/// The word for "detect the type at every start".
pub const AUTO: &str = "auto";

impl ServerType {
    /// The words accepted for a server type, in documentation order: `auto`,
    /// then every type's name.
    pub fn words() -> impl Iterator<Item = &'static str> {
        std::iter::once(AUTO).chain(ServerType::ALL.iter().map(|t| t.name()))
    }

    /// Parses a server type word; `Ok(None)` is `auto`.
    pub fn parse(word: &str, origin: &str) -> Result<Option<ServerType>, Error> {
        if word == AUTO {
            return Ok(None);
        }
        ServerType::ALL
            .iter()
            .copied()
            .find(|t| t.name() == word)
            .map(Some)
            .ok_or_else(|| {
                Error::bad(format!(
                    "{origin}: unknown server type {}; valid types are {}",
                    crate::error::quoted(word),
                    ServerType::words().collect::<Vec<_>>().join(", ")
                ))
            })
    }

    /// True for the servers that take an entry point the launcher may wrap:
    /// the WSGI servers and uvicorn.
    pub fn is_app_server(self) -> bool {
        self.is_wsgi_server() || self == ServerType::Uvicorn
    }

    /// True for the types whose app is a WSGI callable the launcher may wrap.
    pub fn is_wsgi_server(self) -> bool {
        matches!(
            self,
            ServerType::Gunicorn | ServerType::ModWsgi | ServerType::Waitress | ServerType::Uwsgi
        )
    }
}

impl serde::Serialize for ServerType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_serialize_as_themselves() {
        for &t in ServerType::ALL {
            assert_eq!(ServerType::parse(t.name(), "x").unwrap(), Some(t));
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", t.name())
            );
        }
        assert_eq!(ServerType::parse("auto", "x").unwrap(), None);
        let err = ServerType::parse("mod-wsgi", "--server-type").unwrap_err();
        assert_eq!(
            err.to_string(),
            "--server-type: unknown server type \"mod-wsgi\"; valid types are auto, shell, \
             python, paste, django, gunicorn, mod_wsgi, waitress, uwsgi, uvicorn"
        );
    }
}
