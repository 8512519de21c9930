//! The in-container launcher behind `warpdrive exec`.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadInput(String),
}

impl crate::error::ExitCode for Error {
    fn exit_code(&self) -> i32 {
        2
    }
}
