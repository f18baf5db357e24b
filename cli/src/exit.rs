//! Exit codes of `unbox` (listed in `unbox --help` and the README), and the failure type
//! commands return.

use std::process::ExitCode;

use unbox_core::UserAction;
use unbox_core::device::{DeviceError, PolicyRefusal};
use unbox_core::flow::FlowError;

/// What a script can tell from the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Success.
    Ok = 0,
    /// A bug or an unexpected local failure.
    Internal = 1,
    /// Bad command-line input.
    Usage = 2,
    /// A radio, a system service or a permission this command needs is unavailable.
    Unavailable = 3,
    /// Sign in first (`unbox sign-in`), or again.
    SignIn = 4,
    /// The device rejected the Wi-Fi password.
    WifiPassword = 5,
    /// The device cannot find or reach the Wi-Fi network.
    WifiNetwork = 6,
    /// The device could not be reached (range, setup mode).
    DeviceUnreachable = 7,
    /// The device's PoP / password is wrong.
    DeviceSecret = 8,
    /// The claim expired or was refused: start over.
    StartOver = 9,
    /// Cancelled (Ctrl-C).
    Cancelled = 10,
    /// A temporary failure: retry later.
    Retry = 11,
    /// Some devices of a batch failed (see the summary).
    PartialFailure = 12,
}

/// The `--help` text listing the codes.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
   0  success
   1  internal error
   2  bad command-line input
   3  Bluetooth/Wi-Fi/keyring unavailable or not permitted
   4  sign-in needed (run `unbox sign-in`)
   5  the device rejected the Wi-Fi password
   6  the device cannot find or reach the Wi-Fi network
   7  the device could not be reached (move closer, check setup mode)
   8  wrong device code (PoP / password)
   9  the link expired or was refused: start over
  10  cancelled
  11  temporary failure: retry later
  12  some devices of a batch failed";

impl From<Code> for ExitCode {
    fn from(code: Code) -> Self {
        ExitCode::from(code as u8)
    }
}

impl From<UserAction> for Code {
    fn from(action: UserAction) -> Self {
        match action {
            UserAction::Retry => Self::Retry,
            UserAction::EnterWifiPassword => Self::WifiPassword,
            UserAction::CheckWifiNetwork => Self::WifiNetwork,
            UserAction::MoveCloser => Self::DeviceUnreachable,
            UserAction::CheckDeviceCode => Self::DeviceSecret,
            UserAction::SignIn => Self::SignIn,
            UserAction::StartOver => Self::StartOver,
            UserAction::FixPhoneSettings => Self::Unavailable,
            UserAction::ContactSupport => Self::Internal,
            UserAction::None => Self::Cancelled,
        }
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

impl From<FlowError> for Failure {
    fn from(error: FlowError) -> Self {
        Self::from(&error)
    }
}

impl From<&FlowError> for Failure {
    fn from(error: &FlowError) -> Self {
        // A weak device channel is the person's call on a desktop: name the flag that accepts it.
        if let FlowError::Device(DeviceError::RefusedByPolicy(refusal)) = error {
            let flag = match refusal {
                PolicyRefusal::Unencrypted => "--allow-unencrypted",
                PolicyRefusal::Sec1WithoutPop => "--allow-no-pop",
                PolicyRefusal::Sec2StaticNonce => "--allow-sec2-static-nonce",
            };
            return Self::new(Code::Usage, format!("{error}; to accept it anyway, add {flag}"));
        }
        Self::new(error.user_action().into(), error.to_string())
    }
}
