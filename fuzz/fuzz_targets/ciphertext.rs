//! Ciphertext after a real handshake: the scripted device answers with the fuzzer's bytes as
//! they are, where an encrypted reply belongs. Input: frame 0 = [scheme, call], then one frame
//! per reply.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unbox_core::device::WifiCredentials;
use unbox_fuzz::{Replies, Scheme, frames, runtime, session};

fuzz_target!(|data: &[u8]| {
    let frames = frames(data);
    let Some((selector, replies)) = frames.split_first() else { return };
    let pick = |index: usize| selector.get(index).copied().unwrap_or(0);
    let scheme = match pick(0) % 3 {
        0 => Scheme::Sec1,
        1 => Scheme::Sec2Patch0,
        _ => Scheme::Sec2Patch1,
    };
    let replies = replies.iter().map(|reply| reply.to_vec()).collect();
    runtime().block_on(async {
        let session = session(scheme, replies, Replies::Raw).await;
        let _ = match pick(1) % 3 {
            0 => session.wifi_status().await.map(drop),
            1 => session.set_wifi_config(&WifiCredentials::new("Home", "password1")).await,
            _ => session.request("custom-data", b"hello").await.map(drop),
        };
        // Whatever came before, the session can still encrypt the next request or fail typed.
        let _ = session.wifi_status().await;
    });
});
