//! Every Wi-Fi reply decoder through a session: the scripted device runs a real handshake, then
//! answers the chosen call with the fuzzer's replies, encrypted with the session cipher as
//! firmware does. Input: frame 0 = [scheme, call], then one frame per reply.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use unbox_core::device::{ScanOptions, StatusPolling, WifiCredentials};
use unbox_fuzz::{Replies, Scheme, frames, runtime, session};

fuzz_target!(|data: &[u8]| {
    let frames = frames(data);
    let Some((selector, replies)) = frames.split_first() else { return };
    let pick = |index: usize| selector.get(index).copied().unwrap_or(0);
    // Security 0 and 1 keep executions fast; security 2's cipher has its own target.
    let scheme = Scheme::from_byte(pick(0) % 2);
    let replies = replies.iter().map(|reply| reply.to_vec()).collect();
    runtime().block_on(async {
        let session = session(scheme, replies, Replies::Encrypted).await;
        let credentials = WifiCredentials::new("Home", "password1");
        let _ = match pick(1) % 8 {
            0 => session
                .scan_wifi(ScanOptions { passive: false, group_channels: 5, period_ms: 0 })
                .await
                .map(drop),
            1 => session.wifi_status().await.map(drop),
            2 => session.set_wifi_config(&credentials).await,
            3 => session.apply_wifi_config().await,
            4 => session.configure_wifi(&credentials).await,
            5 => session.reset_wifi().await,
            6 => session.reprovision().await,
            _ => {
                let polling = StatusPolling {
                    initial_delay: Duration::ZERO,
                    interval: Duration::ZERO,
                    max_delay: Duration::ZERO,
                    deadline: Duration::from_millis(50),
                };
                session.wait_for_wifi(polling, |_| {}).await.map(drop)
            }
        };
        session.close().await;
    });
});
