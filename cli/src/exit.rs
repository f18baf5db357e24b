//! Exit codes of `unbox`, documented in `unbox --help` and the README, and the failure type
//! commands return.

use std::process::ExitCode;

/// What a script can tell from the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Success.
    Ok = 0,
    /// A bug or an unexpected local failure.
    Internal = 1,
    /// Bad command-line input.
    Usage = 2,
}

impl From<Code> for ExitCode {
    fn from(code: Code) -> Self {
        ExitCode::from(code as u8)
    }
}

/// A command failed: what to tell the person, and the exit status.
#[derive(Debug)]
pub struct Failure {
    /// The exit status.
    pub code: Code,
    /// An actionable message.
    pub message: String,
}

impl Failure {
    /// A failure with a code and message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}
