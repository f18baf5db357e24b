//! Every scanned-code parser: `qr::parse` and each kind's own parser. A code that is accepted is
//! written again and must read back to the same payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unbox_core::qr::{
    self, DppUri, EspressifQr, MatterCode, OnboardingPayload, UnboxPayload, WifiNetworkCode,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Each kind's parser on its own, whatever the prefix.
    let _ = EspressifQr::parse(text);
    let _ = WifiNetworkCode::parse(text);
    let _ = MatterCode::parse(text);
    let _ = DppUri::parse(text);
    let _ = UnboxPayload::parse(text);
    let Ok(payload) = qr::parse(text) else { return };
    let _ = payload.summary(false);
    let _ = payload.device_credentials();
    let rewritten = match &payload {
        OnboardingPayload::Espressif(code) => code.to_qr_text().map(|text| text.expose().to_owned()),
        OnboardingPayload::WifiNetwork(network) => network.to_qr_text().map(|text| text.expose().to_owned()),
        OnboardingPayload::Unbox(code) => code.to_qr_text().map(|text| text.expose().to_owned()),
        OnboardingPayload::Matter(code) => code.to_text(),
        OnboardingPayload::Dpp(uri) => Ok(uri.uri.clone()),
    };
    // A payload read from a code can always be written again.
    let rewritten =
        rewritten.unwrap_or_else(|error| panic!("{payload:?} read from {text:?} cannot be written: {error}"));
    let reread = qr::parse(&rewritten)
        .unwrap_or_else(|error| panic!("{rewritten:?} (written from {text:?}) does not read back: {error}"));
    assert_eq!(reread, payload, "{text:?} was written as {rewritten:?}");
});
