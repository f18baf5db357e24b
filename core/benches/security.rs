//! Session security costs: the client's share of a sec1 and sec2 handshake (device replies
//! are recorded once with fixed secrets, so only client computation is timed), the device's
//! share of a sec2 handshake, and encrypting plus decrypting a Wi-Fi SetConfig message.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use unbox_core::secret::SecretString;
use unbox_core::security::{
    ClientHandshake, DeviceSecurity, HandshakeStep, Sec1Client, Sec1Device, Sec2Client, Sec2Device,
    Sec2PatchVersion, Sec2Verifier, SessionCipher,
};

const CLIENT_SECRET: [u8; 32] = [0xa7; 32];
const DEVICE_SECRET: [u8; 32] = [0x3c; 32];
const NONCE: [u8; 12] = [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1];

/// A CmdSetConfig with a 32-byte SSID and a 63-byte passphrase, the largest one allowed.
fn set_config_message() -> Vec<u8> {
    let mut message = vec![0x08, 0x02, 0x62, 0x63, 0x0a, 32];
    message.extend_from_slice(&[b's'; 32]);
    message.extend_from_slice(&[0x12, 63]);
    message.extend_from_slice(&[b'p'; 63]);
    message
}

fn sent(step: HandshakeStep) -> Vec<u8> {
    match step {
        HandshakeStep::Send(bytes) => bytes,
        HandshakeStep::Established(_) => panic!("the handshake should continue"),
    }
}

fn established(step: HandshakeStep) -> Box<dyn SessionCipher> {
    match step {
        HandshakeStep::Established(cipher) => cipher,
        HandshakeStep::Send(_) => panic!("the handshake should be complete"),
    }
}

/// Runs a handshake; returns the device's two replies and the client's session cipher.
fn record(
    client: &mut dyn ClientHandshake,
    device: &mut dyn DeviceSecurity,
) -> ([Vec<u8>; 2], Box<dyn SessionCipher>) {
    let response0 = device.on_session_request(&client.start().unwrap()).unwrap();
    let command1 = sent(client.on_reply(&response0).unwrap());
    let response1 = device.on_session_request(&command1).unwrap();
    let cipher = established(client.on_reply(&response1).unwrap());
    ([response0, response1], cipher)
}

fn client_handshake(client: &mut dyn ClientHandshake, replies: &[Vec<u8>; 2]) {
    black_box(client.start().unwrap());
    black_box(sent(client.on_reply(&replies[0]).unwrap()));
    black_box(established(client.on_reply(&replies[1]).unwrap()));
}

fn pop() -> SecretString {
    SecretString::new("abcd1234")
}

fn sec2_client() -> Sec2Client {
    Sec2Client::with_fixed_secret("wifiprov".into(), pop(), 1, CLIENT_SECRET)
}

fn sec2_device(verifier: &Sec2Verifier) -> Sec2Device {
    Sec2Device::with_fixed_secrets(
        verifier.clone(),
        Sec2PatchVersion::NonceCounter,
        DEVICE_SECRET,
        NONCE.to_vec(),
    )
}

fn handshakes(c: &mut Criterion) {
    let (sec1_replies, _) = record(
        &mut Sec1Client::with_private_key(pop(), CLIENT_SECRET),
        &mut Sec1Device::with_fixed_secrets(pop(), DEVICE_SECRET, [7; 16]),
    );
    c.bench_function("sec1 client handshake", |b| {
        b.iter(|| client_handshake(&mut Sec1Client::with_private_key(pop(), CLIENT_SECRET), &sec1_replies))
    });

    let verifier = Sec2Verifier::derive("wifiprov", &pop(), vec![0x5a; 16]);
    let (sec2_replies, _) = record(&mut sec2_client(), &mut sec2_device(&verifier));
    c.bench_function("sec2 client handshake", |b| {
        b.iter(|| client_handshake(&mut sec2_client(), &sec2_replies))
    });

    let mut client = sec2_client();
    let command0 = client.start().unwrap();
    let mut device = sec2_device(&verifier);
    let response0 = device.on_session_request(&command0).unwrap();
    let command1 = sent(client.on_reply(&response0).unwrap());
    c.bench_function("sec2 device handshake", |b| {
        b.iter(|| {
            let mut device = sec2_device(&verifier);
            black_box(device.on_session_request(&command0).unwrap());
            black_box(device.on_session_request(&command1).unwrap());
        })
    });
}

/// Encrypts on the client and decrypts on the device, keeping both in step.
fn bench_cipher(
    c: &mut Criterion,
    name: &str,
    mut client: Box<dyn SessionCipher>,
    device: &mut dyn DeviceSecurity,
) {
    let message = set_config_message();
    let device_cipher = device.cipher().unwrap();
    c.bench_function(name, |b| {
        b.iter(|| {
            let encrypted = client.encrypt(black_box(&message)).unwrap();
            black_box(device_cipher.decrypt(&encrypted).unwrap())
        })
    });
}

fn ciphers(c: &mut Criterion) {
    let mut device = Sec1Device::new(pop());
    let (_, cipher) = record(&mut Sec1Client::new(pop()), &mut device);
    bench_cipher(c, "sec1 SetConfig encrypt+decrypt", cipher, &mut device);

    let verifier = Sec2Verifier::generate("wifiprov", &pop()).unwrap();
    let mut device = Sec2Device::new(verifier, Sec2PatchVersion::NonceCounter);
    let (_, cipher) = record(&mut Sec2Client::new("wifiprov".into(), pop(), 1), &mut device);
    bench_cipher(c, "sec2 SetConfig encrypt+decrypt", cipher, &mut device);
}

criterion_group!(benches, handshakes, ciphers);
criterion_main!(benches);
