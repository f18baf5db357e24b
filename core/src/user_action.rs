//! What the person can do about a failure: the one classification every public error enum of
//! the core answers with `user_action()`, and that the bindings and the command only read.

/// What the app should offer the person after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserAction {
    /// Try again as is (transient trouble).
    Retry,
    /// Enter the Wi-Fi password again.
    EnterWifiPassword,
    /// Check the network name, or move the device closer to the router.
    CheckWifiNetwork,
    /// Move the phone closer to the device, check it is in setup mode, and retry.
    MoveCloser,
    /// Check the device's code (PoP) or QR code and retry.
    CheckDeviceCode,
    /// Sign in again.
    SignIn,
    /// Start over from the beginning (a new claim is needed).
    StartOver,
    /// Grant a permission or turn a radio on.
    FixPhoneSettings,
    /// Update the app or contact support.
    ContactSupport,
    /// Nothing: the person cancelled.
    None,
}
