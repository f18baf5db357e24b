//! Property tests of the onboarding-code parsers: no input makes them panic, and every code
//! Unbox writes reads back to the same payload.

use proptest::prelude::*;
use unbox_core::qr::{
    self, CommissioningFlow, DiscoveryCapabilities, DppUri, EspNetwork, EspressifQr, ManualPairingCode,
    MatterCode, MatterSetupPayload, OnboardingPayload, SetupPasscode, UnboxPayload, WifiNetworkCode,
    WifiSecurity,
};
use unbox_core::secret::SecretString;
use unbox_core::security::SecurityLevel;
use unbox_core::transport::TransportKind;
use url::Url;

/// Text biased towards the characters the formats treat specially.
fn tricky_text(max: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\\".to_owned()),
        Just(";".to_owned()),
        Just(":".to_owned()),
        Just(",".to_owned()),
        Just("\"".to_owned()),
        Just("%".to_owned()),
        Just("%4".to_owned()),
        Just("*".to_owned()),
        "[0-9A-F]{1,4}",
        "\\PC{1,3}",
    ];
    proptest::collection::vec(piece, 0..max).prop_map(|pieces| pieces.concat())
}

fn prefixed_junk() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        Just(""),
        Just("WIFI:"),
        Just("MT:"),
        Just("DPP:"),
        Just("UNBOX:"),
        Just("UNBOX:1;"),
        Just("{"),
        Just("{\"ver\":\"v1\","),
        Just("3497"),
    ];
    (prefix, tricky_text(12)).prop_map(|(prefix, rest)| format!("{prefix}{rest}"))
}

fn non_empty_text() -> impl Strategy<Value = String> {
    tricky_text(6).prop_filter("non-empty", |text| !text.is_empty())
}

fn optional_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(tricky_text(4))
}

fn passcode() -> impl Strategy<Value = SetupPasscode> {
    (1u32..=99_999_998).prop_filter_map("trivial passcode", |value| SetupPasscode::new(value).ok())
}

fn flow() -> impl Strategy<Value = CommissioningFlow> {
    prop_oneof![
        Just(CommissioningFlow::Standard),
        Just(CommissioningFlow::UserIntent),
        Just(CommissioningFlow::Custom),
    ]
}

fn matter_payload() -> impl Strategy<Value = MatterSetupPayload> {
    (any::<(u16, u16, u8)>(), flow(), 0u16..=0xFFF, passcode(), proptest::collection::vec(any::<u8>(), 0..12))
        .prop_map(|((vendor_id, product_id, discovery), flow, discriminator, passcode, tlv_data)| {
            MatterSetupPayload {
                vendor_id,
                product_id,
                flow,
                discovery: DiscoveryCapabilities::from_bits(discovery),
                discriminator,
                passcode,
                tlv_data,
            }
        })
}

fn wifi_security() -> impl Strategy<Value = WifiSecurity> {
    prop_oneof![
        Just(WifiSecurity::Open),
        Just(WifiSecurity::Wep),
        Just(WifiSecurity::WpaPersonal),
        Just(WifiSecurity::Sae),
        Just(WifiSecurity::WpaEnterprise),
        "X[A-Z0-9-]{0,5}".prop_map(WifiSecurity::Other),
    ]
}

fn wifi_network() -> impl Strategy<Value = WifiNetworkCode> {
    (
        (non_empty_text(), wifi_security(), optional_text(), any::<bool>()),
        (optional_text(), optional_text(), optional_text(), optional_text()),
        (
            proptest::option::of(any::<u8>()),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 1..40)),
        ),
    )
        .prop_map(
            |(
                (ssid, security, password, hidden),
                (eap_method, anonymous_identity, identity, phase2),
                (transition_disable, sae_public_key),
            )| WifiNetworkCode {
                ssid,
                security,
                password: password.map(SecretString::new),
                hidden,
                eap_method,
                anonymous_identity,
                identity,
                phase2,
                transition_disable,
                sae_public_key,
            },
        )
}

fn unbox_payload() -> impl Strategy<Value = UnboxPayload> {
    let passphrase = prop_oneof![Just(String::new()), "\\PC{8,20}"]
        .prop_filter("8 to 63 bytes", |p| p.is_empty() || (8..=63).contains(&p.len()));
    let url = proptest::option::of(
        ("(http|https)", "[a-z]{1,10}", proptest::option::of(1u16..), "[a-z0-9/]{0,8}").prop_map(
            |(scheme, host, port, path)| {
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                Url::parse(&format!("{scheme}://{host}.example{port}/{path}")).unwrap()
            },
        ),
    );
    (non_empty_text().prop_filter("at most 32 bytes", |s| s.len() <= 32), passphrase, non_empty_text(), url)
        .prop_map(|(ssid, passphrase, claim, backend_url)| UnboxPayload {
            ssid,
            passphrase: passphrase.into(),
            claim_token: claim.into(),
            backend_url,
        })
}

fn espressif_qr() -> impl Strategy<Value = EspressifQr> {
    let transport = proptest::option::of(prop_oneof![Just(TransportKind::Ble), Just(TransportKind::SoftAp)]);
    let security = proptest::option::of(prop_oneof![
        Just(SecurityLevel::Sec0),
        Just(SecurityLevel::Sec1),
        Just(SecurityLevel::Sec2),
    ]);
    let network = proptest::option::of(prop_oneof![Just(EspNetwork::Wifi), Just(EspNetwork::Thread)]);
    (
        ("\\PC{1,12}", "\\PC{0,12}", transport, security),
        (proptest::option::of("\\PC{0,8}"), proptest::option::of("\\PC{0,12}"), network),
    )
        .prop_map(|((name, pop, transport, security), (username, password, network))| EspressifQr {
            name,
            pop: pop.into(),
            transport,
            security,
            username,
            softap_password: password.map(SecretString::new),
            network,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_input_makes_a_parser_panic(text in prefixed_junk()) {
        let _ = qr::parse(&text);
        let _ = EspressifQr::parse(&text);
        let _ = WifiNetworkCode::parse(&text);
        let _ = MatterCode::parse(&text);
        let _ = ManualPairingCode::parse(&text);
        let _ = DppUri::parse(&text);
        let _ = UnboxPayload::parse(&text);
    }

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC{0,64}") {
        let _ = qr::parse(&text);
        let _ = MatterCode::parse(&format!("MT:{text}"));
        let _ = DppUri::parse(&format!("DPP:{text}"));
    }

    #[test]
    fn near_valid_matter_codes_never_panic(
        base38 in "[0-9A-Z.-]{0,40}(\\*[0-9A-Z.-]{0,25})?",
        digits in "[0-9 -]{0,25}",
    ) {
        let _ = qr::parse(&format!("MT:{base38}"));
        let _ = qr::parse(&digits);
    }

    #[test]
    fn wifi_codes_round_trip(network in wifi_network()) {
        let text = network.to_qr_text().unwrap();
        prop_assert_eq!(qr::parse(text.expose()), Ok(OnboardingPayload::WifiNetwork(network)));
    }

    #[test]
    fn unbox_codes_round_trip(payload in unbox_payload()) {
        let text = payload.to_qr_text().unwrap();
        prop_assert_eq!(qr::parse(text.expose()), Ok(OnboardingPayload::Unbox(payload)));
    }

    #[test]
    fn espressif_codes_round_trip(code in espressif_qr()) {
        let text = code.to_qr_text().unwrap();
        prop_assert_eq!(qr::parse(text.expose()), Ok(OnboardingPayload::Espressif(code)));
    }

    #[test]
    fn matter_qr_codes_round_trip(payloads in proptest::collection::vec(matter_payload(), 1..4)) {
        let code = MatterCode::QrCode(payloads);
        let text = code.to_text().unwrap();
        prop_assert_eq!(qr::parse(&text), Ok(OnboardingPayload::Matter(code)));
    }

    #[test]
    fn matter_manual_codes_round_trip(payload in matter_payload()) {
        let manual = payload.manual_code().unwrap();
        let digits = manual.to_digits().unwrap();
        prop_assert_eq!(digits.len(), if payload.flow == CommissioningFlow::Standard { 11 } else { 21 });
        prop_assert_eq!(manual.short_discriminator, payload.short_discriminator());
        prop_assert_eq!(
            qr::parse(&digits),
            Ok(OnboardingPayload::Matter(MatterCode::ManualCode(manual)))
        );
    }

    #[test]
    fn a_mistyped_manual_digit_is_caught(payload in matter_payload(), position in 0usize..21, bump in 1u8..10) {
        let digits = payload.manual_code().unwrap().to_digits().unwrap();
        let position = position % digits.len();
        let typo: String = digits
            .bytes()
            .enumerate()
            .map(|(index, digit)| {
                if index == position { char::from(b'0' + (digit - b'0' + bump) % 10) } else { char::from(digit) }
            })
            .collect();
        prop_assert!(ManualPairingCode::parse(&typo).is_err());
    }
}
