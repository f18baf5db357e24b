//! The device's handshake replies of security 0, 1 and 2 (patch versions 0, 1 and an unknown
//! one). Input: frame 0 = [scheme, step], frame 1 = the reply. At step 0 the fuzzer answers the
//! first request; at step 1 the real device answers it and the fuzzer answers the second.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unbox_core::security::{HandshakeStep, client_handshake, device_security};
use unbox_fuzz::{Scheme, frames};

fuzz_target!(|data: &[u8]| {
    let frames = frames(data);
    let (Some(selector), Some(reply)) = (frames.first(), frames.get(1)) else { return };
    let pick = |index: usize| selector.get(index).copied().unwrap_or(0);
    let scheme = Scheme::from_byte(pick(0));
    let credentials = scheme.client_credentials();
    // Past the first four selectors, security 2 runs with a patch version this library does not know.
    let patch_version = if pick(0) >= 4 && matches!(scheme, Scheme::Sec2Patch0 | Scheme::Sec2Patch1) {
        u32::from(pick(0))
    } else {
        scheme.patch_version()
    };
    let mut client = client_handshake(&credentials, patch_version);
    let Ok(mut request) = client.start() else { return };
    if pick(1) % 2 == 1 {
        let mut device = device_security(&scheme.device_credentials());
        let Ok(answer) = device.on_session_request(&request) else { return };
        match client.on_reply(&answer) {
            Ok(HandshakeStep::Send(next)) => request = next,
            _ => return,
        }
    }
    let _ = request;
    if let Ok(HandshakeStep::Established(mut cipher)) = client.on_reply(reply) {
        // A forged reply must never establish a session that needs a proof.
        assert!(matches!(scheme, Scheme::Sec0), "a forged reply established a {scheme:?} session");
        let _ = cipher.decrypt(reply);
    }
});
