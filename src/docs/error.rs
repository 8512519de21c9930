//! What writing the documents can fail with.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory under the output directory could not be made.
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// clap_mangen could not render a page (into memory: not expected).
    #[error("cannot render the man page {page}: {source}")]
    Render {
        page: String,
        source: std::io::Error,
    },
}

impl Error {
    pub fn io(what: &'static str, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.to_path_buf();
        move |source| Error::Io { what, path, source }
    }
}
