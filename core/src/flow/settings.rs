//! The settings of the onboarding service: weak-security opt-ins, the time limit of each step,
//! status polling, the backend URL given to devices, password retries.

use std::time::Duration;

use url::Url;

use super::FlowStep;
use crate::device::{SecurityPolicy, StatusPolling};

/// Settings of the flow.
#[derive(Debug, Clone)]
pub struct OnboardingSettings {
    /// Which weak device security to accept.
    pub policy: SecurityPolicy,
    /// Time limit of each step.
    pub timeouts: StepTimeouts,
    /// How to follow the device while it joins.
    pub polling: StatusPolling,
    /// The backend URL sent to the device with the claim (`None` = the firmware's default).
    pub device_backend_url: Option<Url>,
    /// How many times to ask for the Wi-Fi password after the first attempt.
    pub max_password_retries: u32,
}

impl Default for OnboardingSettings {
    fn default() -> Self {
        Self {
            policy: SecurityPolicy::default(),
            timeouts: StepTimeouts::default(),
            polling: StatusPolling::default(),
            device_backend_url: None,
            max_password_retries: 3,
        }
    }
}

/// Limits for each step; a step that takes longer fails with a timeout error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StepTimeouts {
    /// Signing in (a person is typing in a browser).
    pub sign_in: Duration,
    /// Backend calls (create claim, confirm).
    pub backend: Duration,
    /// Joining the access point or connecting over Bluetooth.
    pub connect: Duration,
    /// One exchange-bound device step (session, scan, push).
    pub device: Duration,
    /// The device joining the home network.
    pub device_online: Duration,
    /// Leaving the device's network.
    pub leave: Duration,
    /// The device redeeming its claim.
    pub redemption: Duration,
}

impl Default for StepTimeouts {
    fn default() -> Self {
        Self {
            sign_in: Duration::from_secs(300),
            backend: Duration::from_secs(60),
            connect: Duration::from_secs(45),
            device: Duration::from_secs(45),
            device_online: Duration::from_secs(90),
            leave: Duration::from_secs(20),
            redemption: Duration::from_secs(180),
        }
    }
}

impl StepTimeouts {
    /// The limit of `step`.
    pub fn of(&self, step: FlowStep) -> Duration {
        match step {
            FlowStep::SignIn => self.sign_in,
            FlowStep::CreateClaim | FlowStep::Confirm => self.backend,
            FlowStep::ConnectDevice => self.connect,
            FlowStep::SecureSession | FlowStep::ScanWifi | FlowStep::PushClaim | FlowStep::PushWifi => {
                self.device
            }
            FlowStep::WaitDeviceOnline => self.device_online,
            FlowStep::LeaveDevice => self.leave,
            FlowStep::WaitRedemption => self.redemption,
        }
    }
}
