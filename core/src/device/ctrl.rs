//! Provisioning control (`prov-ctrl`): reset the device's Wi-Fi state after a failed attempt so
//! new credentials can be tried on the same session, or re-provision a provisioned device.

use prost::Message;

use super::{DeviceError, DeviceSession, check_status, decode, unexpected};
use crate::proto::Status;
use crate::proto::{CmdCtrlReprov, CmdCtrlReset, WiFiCtrlMsgType, WiFiCtrlPayload, wi_fi_ctrl_payload};

/// The endpoint for provisioning control.
pub const CTRL_ENDPOINT: &str = "prov-ctrl";

impl DeviceSession {
    async fn ctrl_request(&self, payload: WiFiCtrlPayload) -> Result<(), DeviceError> {
        let expected = payload.msg + 1;
        let reply: WiFiCtrlPayload =
            decode(CTRL_ENDPOINT, &self.request(CTRL_ENDPOINT, &payload.encode_to_vec()).await?)?;
        if reply.msg != expected {
            return Err(unexpected(CTRL_ENDPOINT, reply.msg));
        }
        check_status(CTRL_ENDPOINT, reply.status)
    }

    /// Clears a failed Wi-Fi attempt so that new credentials can be set and applied without
    /// rebooting the device (ESP-IDF 5.1 and later).
    pub async fn reset_wifi(&self) -> Result<(), DeviceError> {
        self.ctrl_request(WiFiCtrlPayload {
            msg: WiFiCtrlMsgType::TypeCmdCtrlReset as i32,
            status: 0,
            payload: Some(wi_fi_ctrl_payload::Payload::CmdCtrlReset(CmdCtrlReset {})),
        })
        .await
    }

    /// Clears a failed Wi-Fi attempt, if the device still holds one, so that new credentials
    /// can be applied. Firmware that resets its own state machine on failure (ESP-IDF's
    /// `wifi_prov_mgr` example app calls `wifi_prov_mgr_reset_sm_state_on_failure()`) answers
    /// the reset with InternalError, "reset when not in failure state": nothing was left to
    /// clear, which is what the caller wants.
    pub async fn clear_failed_attempt(&self) -> Result<(), DeviceError> {
        match self.reset_wifi().await {
            Err(refused) if refused.is_refusal(Status::InternalError) => {
                tracing::debug!("the device had no failed attempt to clear");
                Ok(())
            }
            other => other,
        }
    }

    /// Lets an already provisioned device take new credentials.
    pub async fn reprovision(&self) -> Result<(), DeviceError> {
        self.ctrl_request(WiFiCtrlPayload {
            msg: WiFiCtrlMsgType::TypeCmdCtrlReprov as i32,
            status: 0,
            payload: Some(wi_fi_ctrl_payload::Payload::CmdCtrlReprov(CmdCtrlReprov {})),
        })
        .await
    }
}
