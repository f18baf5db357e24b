//! What the flow tells the app while it runs: the step, the overall progress and a sentence a
//! person can read.

/// The steps of onboarding, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum FlowStep {
    /// Make sure the person is signed in (opens the browser when needed).
    SignIn,
    /// Ask the backend for a claim token, while the phone still has internet.
    CreateClaim,
    /// Join the device's access point or connect over Bluetooth.
    ConnectDevice,
    /// Open the secure session with the proof of possession.
    SecureSession,
    /// Let the device list the Wi-Fi networks it sees.
    ScanWifi,
    /// Hand the claim token to the device.
    PushClaim,
    /// Send the home Wi-Fi credentials.
    PushWifi,
    /// Wait until the device has joined the home network.
    WaitDeviceOnline,
    /// Leave the device's access point (or Bluetooth link) to get the internet back.
    LeaveDevice,
    /// Wait until the device has redeemed its claim at the backend.
    WaitRedemption,
    /// Confirm the binding with the device id learned over the secure session.
    Confirm,
}

impl FlowStep {
    /// Every step in order.
    pub const ALL: [FlowStep; 11] = [
        Self::SignIn,
        Self::CreateClaim,
        Self::ConnectDevice,
        Self::SecureSession,
        Self::ScanWifi,
        Self::PushClaim,
        Self::PushWifi,
        Self::WaitDeviceOnline,
        Self::LeaveDevice,
        Self::WaitRedemption,
        Self::Confirm,
    ];

    /// A sentence for the person while the step runs.
    pub fn description(self) -> &'static str {
        match self {
            Self::SignIn => "Signing you in",
            Self::CreateClaim => "Preparing your account for the new device",
            Self::ConnectDevice => "Connecting to the device",
            Self::SecureSession => "Opening a secure connection",
            Self::ScanWifi => "Looking for Wi-Fi networks near the device",
            Self::PushClaim => "Linking the device to your account",
            Self::PushWifi => "Sending your Wi-Fi details",
            Self::WaitDeviceOnline => "Waiting for the device to join your Wi-Fi",
            Self::LeaveDevice => "Reconnecting your phone to the internet",
            Self::WaitRedemption => "Waiting for the device to check in",
            Self::Confirm => "Finishing up",
        }
    }

    /// Share of the whole flow's usual duration this step takes, used for progress.
    fn weight(self) -> f32 {
        match self {
            Self::SignIn | Self::WaitDeviceOnline | Self::WaitRedemption => 3.0,
            Self::ConnectDevice | Self::SecureSession => 2.0,
            _ => 1.0,
        }
    }

    /// Overall progress (0..=1) when this step starts.
    pub fn progress_at_start(self) -> f32 {
        let total: f32 = Self::ALL.iter().map(|s| s.weight()).sum();
        let before: f32 = Self::ALL.iter().take_while(|s| **s != self).map(|s| s.weight()).sum();
        before / total
    }

    /// Overall progress (0..=1) when this step ends.
    pub fn progress_at_end(self) -> f32 {
        let total: f32 = Self::ALL.iter().map(|s| s.weight()).sum();
        self.progress_at_start() + self.weight() / total
    }
}

impl std::fmt::Display for FlowStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.description())
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum FlowEventKind {
    /// The step began.
    Started,
    /// The step is still running; the message says what it is waiting for.
    Progress,
    /// The step goes on, but the person should know something (a device without encryption).
    Warning,
    /// The step completed.
    Finished,
    /// The step was skipped (e.g. already signed in, device scan not wanted).
    Skipped,
}

/// One report from the running flow.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FlowEvent {
    /// The step concerned.
    pub step: FlowStep,
    /// What happened.
    pub kind: FlowEventKind,
    /// Overall progress, 0 to 1.
    pub fraction: f32,
    /// A sentence for the person.
    pub message: String,
}

/// Receives the flow's events. Called from the flow's task; keep it quick.
pub trait FlowObserver: Send + Sync {
    /// One event.
    fn on_event(&self, event: FlowEvent);

    /// Whether to receive the run's details too (each device exchange, each wait, each backend
    /// call), for a timeline; no by default.
    fn wants_details(&self) -> bool {
        false
    }

    /// One detail of the run, when wanted; details arrive in order, before the next event.
    fn on_detail(&self, _detail: super::FlowDetail) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_runs_from_zero_to_one_in_step_order() {
        assert_eq!(FlowStep::SignIn.progress_at_start(), 0.0);
        assert!((FlowStep::Confirm.progress_at_end() - 1.0).abs() < 1e-6);
        for pair in FlowStep::ALL.windows(2) {
            assert!((pair[0].progress_at_end() - pair[1].progress_at_start()).abs() < 1e-6);
        }
    }
}
