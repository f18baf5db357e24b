//! The device's proto-ver reply (plaintext, before any handshake), read through a scripted link
//! as `DeviceSession::read_info` does; an accepted reply is written as JSON and read back equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unbox_core::device::{DeviceInfo, DeviceSession, SecurityPolicy};
use unbox_fuzz::{Replies, Scheme, ScriptedDevice, runtime};

fuzz_target!(|data: &[u8]| {
    let device = ScriptedDevice::new(Scheme::Sec0, vec![data.to_vec()], Replies::Raw);
    let Ok(info) = runtime().block_on(DeviceSession::read_info(device.as_ref())) else { return };
    let _ = (info.can_scan_wifi(), info.uses_network_provisioning(), info.lacks_pop());
    for scheme in [Scheme::Sec0, Scheme::Sec1, Scheme::Sec2Patch1] {
        let _ = SecurityPolicy::default().check(&info, &scheme.client_credentials());
    }
    let json = info.to_json();
    let reread = DeviceInfo::parse(json.as_bytes())
        .unwrap_or_else(|error| panic!("{json} does not read back: {error}"));
    // Writing names a version for very old firmware that sent none (as the firmware the
    // simulator plays does); everything else reads back as it was, and writing again is stable.
    let expected = DeviceInfo { prov_version: reread.prov_version.clone(), ..info.clone() };
    assert_eq!(reread, expected, "written as {json}");
    if info.prov_version.is_some() {
        assert_eq!(reread.prov_version, info.prov_version, "written as {json}");
    }
    assert_eq!(reread.to_json(), json);
});
