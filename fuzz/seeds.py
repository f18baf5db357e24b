#!/usr/bin/env python3
"""Writes the seed corpora (corpus/<target>/) from the project's test vectors: the codes of the
QR tests, the version replies of shipping firmware (core/tests/device_replies.rs), the Wi-Fi
replies the simulator sends (protobuf, encoded here by hand from core/proto/*.proto), callback
URLs, token responses and backend documents. Run once after changing a target's input format;
the corpora are checked in. libFuzzer adds what it finds to its own working copy, not here."""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def varint(value):
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, value):
    """A protobuf field: int for varints, bytes/str for length-delimited."""
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(number << 3 | 2) + varint(len(value)) + value


def msg(*fields):
    return b"".join(fields)


def framed(*frames):
    return b"".join(struct.pack("<H", len(frame)) + frame for frame in frames)


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as out:
        out.write(data if isinstance(data, bytes) else data.encode())


# qr: core/src/qr tests and core/tests/qr_properties.rs.
QR = {
    "espressif-sec2": '{"ver":"v1","name":"PROV_1A2B3C","username":"maker","pop":"abcd1234","transport":"softap"}',
    "espressif-ble": '{"ver":"v1","name":"PROV_1A2B3C","pop":"abcd1234","transport":"ble"}',
    "espressif-sec1": '{"ver":"v1","name":"PROV_X","pop":"abcd1234","transport":"softap","security":1}',
    "espressif-sec0": '{"ver":"v1","name":"PROV_X","transport":"ble","security":0,"network":"thread"}',
    "wifi-wpa": "WIFI:T:WPA;S:home;P:secret12;;",
    "wifi-escaped": 'WIFI:S:my\\;net\\:x;T:WPA;P:"pa\\\\ss";H:true;;',
    "wifi-open": "wifi:S:home;;",
    "matter-qr": "MT:Y.K9042C00KA0648G00",
    "matter-manual": "34970112332",
    "matter-manual-dashes": "3497-011-2332",
    "dpp": "DPP:C:81/1,115/36;M:5254005828e5;I:SN=4774LH2b4044;V:2;H:example.com;K:MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgADURzxmttZoIRIPWGoQMV00XHWCAQIhXruVWOz0NjlkIA=;;",
    "unbox": "UNBOX:1;S:home;P:secret12;C:tok;;",
    "unbox-backend": "UNBOX:1;S:home;P:secret12;C:AAAAAAAAAAAAAAAAAAAAAAAA;B:https://api.example.com;;",
    "idna-reproducer": "UNBOX:1;B:http://A%C3%A9/;;",
}
for name, text in QR.items():
    write("qr", name, text)

# device_info: version replies of shipping firmware (core/tests/device_replies.rs).
INFO = {
    "sec0": '{"prov":{"ver":"v1.1","sec_ver":0,"cap":["no_sec","wifi_scan"]}}',
    "sec1": '{"prov":{"ver":"v1.1","sec_ver":1,"cap":["wifi_scan"]}}',
    "sec1-no-pop": '{"prov":{"ver":"v1.1","sec_ver":1,"cap":["no_pop","wifi_scan"]}}',
    "sec2-patch1": '{"prov":{"ver":"v1.1","sec_ver":2,"sec_patch_ver":1,"cap":["wifi_scan"]}}',
    "network-prov": '{"network_prov":{"ver":"v1.0","sec_ver":2,"cap":["wifi_scan","thread_prov"]},"my_app":{"ver":"1.0"}}',
    "old-string": "v1.0",
}
for name, text in INFO.items():
    write("device_info", name, text)

# Wi-Fi replies (core/proto/wifi.proto): what the simulator answers.
connected = msg(field(1, "192.168.1.42"), field(2, 3), field(3, "HomeNet"), field(4, b"\x24\x0a\xc4\x00\x00\x01"), field(5, 6))
status_connected = msg(field(1, 1), field(11, msg(field(2, 0), field(11, connected))))
status_connecting = msg(field(1, 1), field(11, msg(field(2, 1))))
status_failed = msg(field(1, 1), field(11, msg(field(2, 3), field(10, 0))))
status_attempt = msg(field(1, 1), field(11, msg(field(2, 1), field(12, msg(field(1, 2))))))
set_config = msg(field(1, 3), field(13, msg(field(1, 0))))
apply_config = msg(field(1, 5), field(15, msg(field(1, 0))))
scan_start = msg(field(1, 1), field(11, b""))
scan_status = msg(field(1, 3), field(13, msg(field(1, 1), field(2, 2))))
entry = lambda ssid, rssi: msg(field(1, ssid), field(2, 6), field(3, rssi), field(4, b"\x24\x0a\xc4\x00\x00\x02"), field(5, 3))
scan_result = msg(field(1, 5), field(15, msg(field(1, entry("HomeNet", -40)), field(1, entry("Cafe", -70)))))
ctrl_reset = msg(field(1, 2), field(12, b""))
ctrl_reprov = msg(field(1, 4), field(14, b""))
CALLS = {
    "scan": (0, [scan_start, scan_status, scan_result]),
    "status-connected": (1, [status_connected]),
    "status-failed": (1, [status_failed]),
    "status-attempt": (1, [status_attempt]),
    "set-config": (2, [set_config]),
    "apply": (3, [apply_config]),
    "configure": (4, [set_config, apply_config]),
    "reset": (5, [ctrl_reset]),
    "reprovision": (6, [ctrl_reprov]),
    "wait": (7, [status_connecting, status_connected]),
}
for scheme in (0, 1):
    for name, (call, replies) in CALLS.items():
        write("wifi_replies", f"sec{scheme}-{name}", framed(bytes([scheme, call]), *replies))
for scheme in (0, 1, 2):
    write("ciphertext", f"scheme{scheme}-status", framed(bytes([scheme, 0]), status_connected))
    write("ciphertext", f"scheme{scheme}-set", framed(bytes([scheme, 1]), set_config))

# handshake (core/proto/session.proto): replies at each step.
sec0_ok = msg(field(2, 0), field(10, msg(field(1, 1), field(21, msg(field(1, 0))))))
sec1_resp0 = msg(field(2, 1), field(11, msg(field(1, 1), field(21, msg(field(1, 0), field(2, b"\x09" * 32), field(3, b"\x05" * 16))))))
sec1_resp1 = msg(field(2, 1), field(11, msg(field(1, 3), field(23, msg(field(1, 0), field(3, b"\x07" * 32))))))
sec2_resp0 = msg(field(2, 2), field(12, msg(field(1, 1), field(21, msg(field(1, 0), field(2, b"\x02" * 384), field(3, b"\x03" * 16))))))
sec2_resp1 = msg(field(2, 2), field(12, msg(field(1, 3), field(23, msg(field(1, 0), field(2, b"\x04" * 64), field(3, b"\x06" * 16))))))
write("handshake", "sec0", framed(bytes([0, 0]), sec0_ok))
write("handshake", "sec1-step0", framed(bytes([1, 0]), sec1_resp0))
write("handshake", "sec1-step1", framed(bytes([1, 1]), sec1_resp1))
write("handshake", "sec2p0-step0", framed(bytes([2, 0]), sec2_resp0))
write("handshake", "sec2p1-step1", framed(bytes([3, 1]), sec2_resp1))
write("handshake", "sec2-patch9", framed(bytes([7, 0]), sec2_resp0))

# auth_callback: forms 0-3 for each client (bit 0), core/tests/auth_*.rs and the IDNA reproducers.
CALLBACKS = [
    (0, "http://127.0.0.1:49152/callback?code=abc&state=xyz"),
    (0, "http://A%87/"),
    (0, "http://Q\u00e9/"),
    (0, "http:/X\u00e9"),
    (2, "code=abc&state=forged-state"),
    (2, "error=access_denied&error_description=no"),
    (4, "code=abc"),
    (5, "code=abc&iss=https://evil.example"),
    (6, "the-code"),
    (7, "the-code"),
]
token = '{"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt","scope":"openid profile"}'
for index, (form, text) in enumerate(CALLBACKS):
    write("auth_callback", f"callback-{index}", framed(bytes([form]), text.encode(), token.encode()))

# auth_tokens: [call], [status], [content type], header, body.
jwt = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xIiwic3ViIjoiYWxpY2UiLCJhdWQiOiJmdXp6LWFwcCIsIm5vbmNlIjoibiIsImV4cCI6MTl9."
TOKENS = {
    "code-ok": (0, 0, 0, "", token),
    "code-id-token": (0, 0, 0, "", token[:-1] + f',"id_token":"{jwt}"}}'),
    "code-error": (0, 4, 0, "", '{"error":"invalid_grant","error_description":"code used"}'),
    "refresh-rotated": (1, 0, 0, "", '{"access_token":"at2","token_type":"Bearer","refresh_token":"rt2"}'),
    "refresh-id-token": (1, 0, 0, "", f'{{"access_token":"at2","token_type":"Bearer","id_token":"{jwt}"}}'),
    "refresh-unavailable": (1, 11, 2, "Retry-After: 5", "<html>down</html>"),
    "revoke-ok": (2, 0, 0, "", ""),
    "discovery": (3, 0, 0, "", '{"issuer":"http://127.0.0.1","authorization_endpoint":"http://127.0.0.1/authorize","token_endpoint":"http://127.0.0.1/token","revocation_endpoint":"http://127.0.0.1/revoke","code_challenge_methods_supported":["S256"],"authorization_response_iss_parameter_supported":true}'),
}
for name, (call, status, kind, header, body) in TOKENS.items():
    write("auth_tokens", name, framed(bytes([call]), bytes([status]), bytes([kind]), header.encode(), body.encode()))

# backend_replies: the backend's documents (sim/src/backend, docs/openapi) and problem details.
problem = lambda kind, status: f'{{"type":"https://unbox.dev/problems/{kind}","title":"t","status":{status},"detail":"d"}}'
claim_view = '{"claim_id":"claim-1","status":"redeemed","expires_at":"2026-01-01T00:00:00Z","device_id":"fuzz-device"}'
BACKEND = {
    "create": (0, 1, 0, "", '{"claim_id":"claim-1","claim_token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","expires_at":"2026-01-01T00:00:00Z","status":"pending"}'),
    "state": (1, 0, 0, "", claim_view),
    "state-other-claim": (1, 0, 0, "", claim_view.replace("claim-1", "claim-2")),
    "confirm": (2, 0, 0, "", '{"claim_id":"claim-1","device_id":"fuzz-device","bound_at":"2026-01-01T00:00:00Z"}'),
    "redeem": (3, 0, 0, "", '{"status":"redeemed"}'),
    "expired": (1, 9, 1, "", problem("claim-expired", 410)),
    "rate-limited": (0, 10, 1, "Retry-After: 2", problem("rate-limited", 429)),
    "unavailable": (3, 11, 1, "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT", problem("unavailable", 503)),
    "conflict": (3, 8, 1, "", problem("claim-already-used", 409)),
}
for name, (call, status, kind, header, body) in BACKEND.items():
    write("backend_replies", name, framed(bytes([call]), bytes([status]), bytes([kind]), header.encode(), body.encode()))
claim_response = msg(field(1, 1), field(11, msg(field(1, 0), field(2, "dev-1A2B3C"))))
claim_request = msg(field(1, 0), field(10, msg(field(1, "AAAAAAAAAAAAAAAAAAAAAAAA"), field(2, "https://api.example.com"))))
write("backend_replies", "device-claim-response", framed(bytes([4]), claim_response))
write("backend_replies", "device-claim-request", framed(bytes([5]), claim_request))

# discovery: structured by arbitrary's Unstructured; a few byte streams to start from.
for index, seed in enumerate([bytes(range(64)), b"\x08\x10\x40" + b"\x02PROV_1A2B3C\x00" * 8, b"\xff" * 128]):
    write("discovery", f"stream-{index}", seed)

print(f"seed corpora written under {os.path.join(HERE, 'corpus')}", file=sys.stderr)
