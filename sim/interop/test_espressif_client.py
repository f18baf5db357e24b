"""Espressif's own Python client (PyPI esp-rainmaker-cli 1.14.1, `rmaker_tools.common`) against
`unbox sim device` over SoftAP/HTTP: every security scheme, the device-side scan with paging,
set/apply/status, the two join failures, prov-ctrl reset on both firmware flavours, and a
custom endpoint.

Each test starts its own simulated device (see conftest.py) and drives the client with
`espressif_driver.EspressifClient`, which only calls the client's functions.
"""

from __future__ import annotations

import pytest

from conftest import HOME_PASSPHRASE, HOME_SSID, NETWORKS, SEC1_POP, SEC2_PASSWORD, SEC2_USERNAME
from espressif_driver import STATUS_INTERNAL_ERROR, STATUS_SUCCESS, EspressifClient, proto

CONNECTED, CONNECTING, DISCONNECTED, CONNECTION_FAILED = 0, 1, 2, 3  # WifiStationState
AUTH_ERROR, NETWORK_NOT_FOUND = 0, 1  # WifiConnectFailedReason

# Device setups and the matching client credentials: (security, device kwargs, client kwargs).
SECURITIES = [
    pytest.param(0, {}, {}, id="sec0"),
    pytest.param(1, {"pop": SEC1_POP}, {"pop": SEC1_POP}, id="sec1-pop"),
    pytest.param(1, {}, {}, id="sec1-no_pop"),
    pytest.param(
        2, {"patch": 0}, {"username": SEC2_USERNAME, "password": SEC2_PASSWORD}, id="sec2-patch0"
    ),
    pytest.param(
        2, {"patch": 1}, {"username": SEC2_USERNAME, "password": SEC2_PASSWORD}, id="sec2-patch1"
    ),
]
SEC2_PATCH1 = (2, {"patch": 1}, {"username": SEC2_USERNAME, "password": SEC2_PASSWORD})
SEC1_POP_SETUP = (1, {"pop": SEC1_POP}, {"pop": SEC1_POP})
FAILURE_SECURITIES = [
    pytest.param(*SEC1_POP_SETUP, id="sec1-pop"),
    pytest.param(*SEC2_PATCH1, id="sec2-patch1"),
]


def set_config_bytes(ssid: str, passphrase: str) -> bytes:
    """WiFiConfigPayload{msg: CmdSetConfig, cmd_set_config{ssid, passphrase}}, hand-encoded."""
    inner = bytes([0x0A, len(ssid)]) + ssid.encode() + bytes([0x12, len(passphrase)]) + passphrase.encode()
    return bytes([0x08, 0x02, 0x62, len(inner)]) + inner


# What the client sends, byte for byte (the plaintext before the session cipher), for a full run.
SCAN_START = bytes.fromhex("5206080118052078")  # msg 0 omitted; {blocking, group_channels 5, period 120}
SCAN_STATUS = bytes.fromhex("0802")  # msg only: no cmd_scan_status sub-message at all
SCAN_RESULT_0_4 = bytes.fromhex("080472021004")  # start_index 0 omitted, count 4
SCAN_RESULT_4_3 = bytes.fromhex("0804720408041003")
APPLY = bytes.fromhex("0804")  # msg only: no cmd_apply_config sub-message
GET_STATUS = bytes.fromhex("5200")  # msg 0 omitted; an empty cmd_get_status is set
CTRL_RESET = bytes.fromhex("08015a00")
# Replies ESP-IDF's code gives (observed on v5.5.5, see the issue), decrypted.
APPLY_REFUSED = bytes.fromhex("08057a020805")  # RespApplyConfig{status InternalError}
RESET_REFUSED = bytes.fromhex("080210056200")  # RespCtrlReset, status InternalError


@pytest.fixture
def clients():
    opened: list[EspressifClient] = []

    def open_client(device) -> EspressifClient:
        client = EspressifClient(device.address)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()


def with_log(device, message: str) -> str:
    return f"{message}\n--- simulator log ({' '.join(device.args)}) ---\n{device.log_text()[-4000:]}"


def connected(settled, device):
    assert settled.client_says == "connected", with_log(device, f"status: {settled.reply}")
    assert settled.sta_state == CONNECTED
    state = settled.reply.resp_get_status
    assert state.WhichOneof("state") == "connected"
    assert state.connected.ssid == HOME_SSID.encode()
    assert state.connected.ip4_addr


@pytest.mark.parametrize("sec_ver, device_kwargs, client_kwargs", SECURITIES)
def test_espressif_provisions(sim_device, clients, sec_ver, device_kwargs, client_kwargs):
    """Full provisioning: version, session, scan (two pages), set, apply, status until connected."""
    device = sim_device(sec_ver, **device_kwargs)
    client = clients(device)
    try:
        info = client.connect(sec_ver, **client_kwargs)
    except RuntimeError as error:
        pytest.fail(with_log(device, f"handshake failed: {error}"))

    assert info["sec_ver"] == sec_ver
    assert "wifi_scan" in info["cap"]
    if sec_ver == 0:
        assert "no_sec" in info["cap"]
    if sec_ver == 1:
        assert ("no_pop" in info["cap"]) == ("pop" not in device_kwargs)
    if sec_ver == 2:
        assert info.get("sec_patch_ver", 0) == device_kwargs["patch"]
        assert client.patch_version == device_kwargs["patch"]

    scan = client.scan()
    assert scan.finished
    assert scan.count == len(NETWORKS)
    assert [len(page) for page in scan.pages] == [4, 3]
    assert sorted(e["ssid"] for e in scan.entries) == sorted(ssid for ssid, _ in NETWORKS)
    rssi = [e["rssi"] for e in scan.entries]
    assert rssi == sorted(rssi, reverse=True), "ESP-IDF lists the strongest first"
    auth = {e["ssid"]: e["auth"] for e in scan.entries}
    for ssid, passphrase in NETWORKS:
        assert auth[ssid] == ("Open" if passphrase == "" else "WPA2_PSK")
    assert all(len(e["bssid"]) == 12 for e in scan.entries)

    assert client.set_config(HOME_SSID, HOME_PASSPHRASE) == STATUS_SUCCESS
    assert client.apply() == STATUS_SUCCESS
    settled = client.wait_until_settled()
    connected(settled, device)

    sent = client.sec.sent
    assert sent[:6] == [
        SCAN_START,
        SCAN_STATUS,
        SCAN_RESULT_0_4,
        SCAN_RESULT_4_3,
        set_config_bytes(HOME_SSID, HOME_PASSPHRASE),
        APPLY,
    ]
    assert sent[6:] == [GET_STATUS] * settled.polls
    # One keep-alive connection for the whole session (ESP-IDF's httpd keeps one socket open).
    assert (device.sockets(), device.purges()) == (1, 0), with_log(device, "connections")


@pytest.mark.parametrize("sec_ver, device_kwargs, client_kwargs", FAILURE_SECURITIES)
def test_espressif_wrong_passphrase(sim_device, clients, sec_ver, device_kwargs, client_kwargs):
    """A wrong passphrase ends in ConnectionFailed with AuthError ('Incorrect Password')."""
    device = sim_device(sec_ver, **device_kwargs)
    client = clients(device)
    client.connect(sec_ver, **client_kwargs)
    assert client.set_config(HOME_SSID, "not the passphrase") == STATUS_SUCCESS
    assert client.apply() == STATUS_SUCCESS
    settled = client.wait_until_settled()
    assert settled.client_says == "failed", with_log(device, f"status: {settled.reply}")
    assert settled.sta_state == CONNECTION_FAILED
    assert settled.fail_reason == AUTH_ERROR


@pytest.mark.parametrize("sec_ver, device_kwargs, client_kwargs", FAILURE_SECURITIES)
def test_espressif_unknown_network(sim_device, clients, sec_ver, device_kwargs, client_kwargs):
    """A network the device cannot see ends in ConnectionFailed with NetworkNotFound."""
    device = sim_device(sec_ver, **device_kwargs)
    client = clients(device)
    client.connect(sec_ver, **client_kwargs)
    assert client.set_config("NoSuchNetwork", HOME_PASSPHRASE) == STATUS_SUCCESS
    assert client.apply() == STATUS_SUCCESS
    settled = client.wait_until_settled()
    assert settled.client_says == "failed", with_log(device, f"status: {settled.reply}")
    assert settled.sta_state == CONNECTION_FAILED
    assert settled.fail_reason == NETWORK_NOT_FOUND


def fail_once(client, device):
    assert client.set_config(HOME_SSID, "not the passphrase") == STATUS_SUCCESS
    assert client.apply() == STATUS_SUCCESS
    settled = client.wait_until_settled()
    assert settled.client_says == "failed", with_log(device, f"status: {settled.reply}")
    assert settled.fail_reason == AUTH_ERROR


def test_espressif_reset_then_retry_plain(sim_device, clients):
    """Plain wifi_prov_mgr: after a failed join a second apply is refused until prov-ctrl
    reset; after the reset, set + apply + status succeed on the same session."""
    device = sim_device(*SEC2_PATCH1[:1], **SEC2_PATCH1[1], flavour="plain")
    client = clients(device)
    client.connect(2, **SEC2_PATCH1[2])
    fail_once(client, device)

    # handlers.c set_config_handler keeps any new credentials (no state check) ...
    assert client.set_config(HOME_SSID, HOME_PASSPHRASE) == STATUS_SUCCESS
    # ... but manager.c wifi_prov_mgr_configure_sta refuses them (prov_state >= CRED_RECV).
    assert client.apply() == STATUS_INTERNAL_ERROR
    assert client.sec.received[-1] == APPLY_REFUSED

    accepted, reply = client.ctrl_reset()
    assert client.sec.sent[-1] == CTRL_RESET
    assert accepted, with_log(device, f"prov-ctrl reset refused: {reply}")
    assert reply.msg == proto.wifi_ctrl_pb2.TypeRespCtrlReset
    assert reply.status == STATUS_SUCCESS

    assert client.set_config(HOME_SSID, HOME_PASSPHRASE) == STATUS_SUCCESS
    assert client.apply() == STATUS_SUCCESS
    connected(client.wait_until_settled(), device)


def test_espressif_reset_then_retry_example(sim_device, clients):
    """ESP-IDF's wifi_prov_mgr example resets its own state machine after a failed join: the
    client's prov-ctrl reset is answered InternalError ("reset when not in failure state"),
    the session goes on, and set + apply work directly."""
    device = sim_device(*SEC2_PATCH1[:1], **SEC2_PATCH1[1], flavour="example")
    client = clients(device)
    client.connect(2, **SEC2_PATCH1[2])
    fail_once(client, device)

    accepted, reply = client.ctrl_reset()
    assert client.sec.sent[-1] == CTRL_RESET
    assert not accepted, "the example app has already reset itself"
    assert reply.msg == proto.wifi_ctrl_pb2.TypeRespCtrlReset
    assert reply.status == STATUS_INTERNAL_ERROR
    assert client.sec.received[-1] == RESET_REFUSED

    assert client.set_config(HOME_SSID, HOME_PASSPHRASE) == STATUS_SUCCESS
    assert client.apply() == STATUS_SUCCESS
    connected(client.wait_until_settled(), device)


@pytest.mark.parametrize("sec_ver, device_kwargs, client_kwargs", FAILURE_SECURITIES)
def test_espressif_custom_endpoint(sim_device, clients, sec_ver, device_kwargs, client_kwargs):
    """The example's `custom-data` endpoint, through the session cipher, answers SUCCESS (with
    the C string's NUL: the handler returns strlen + 1 bytes); provisioning then goes on in
    step with the cipher."""
    device = sim_device(sec_ver, **device_kwargs, flavour="example")
    client = clients(device)
    client.connect(sec_ver, **client_kwargs)
    try:
        reply = client.custom("custom-data", "hello from esp_prov")
    except RuntimeError as error:
        pytest.fail(with_log(device, f"custom-data failed: {error}"))
    assert client.sec.sent[-1] == b"hello from esp_prov"
    assert reply == b"SUCCESS\x00"

    assert client.set_config(HOME_SSID, HOME_PASSPHRASE) == STATUS_SUCCESS
    assert client.apply() == STATUS_SUCCESS
    connected(client.wait_until_settled(), device)


# An SRP secret (top bit set, as the client draws it) whose A = 5^a mod N has 383 bytes.
SHORT_A_SECRET = 0x94FF6C3DE058B65D8FC8757971F73C3DA6ABC15B297789F235E648286B5D5B43


def test_espressif_sec2_short_public_key_is_refused(sim_device, clients, monkeypatch):
    """The client sends A at its minimal length; a 383-byte A (about 1 session in 256) is
    refused by the device as by ESP-IDF's security2.c, and the handshake fails."""
    from rmaker_tools.common.security import srp6a

    original = srp6a.Srp6a.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.a = SHORT_A_SECRET
        self.A = pow(self.g, self.a, self.N)

    monkeypatch.setattr(srp6a.Srp6a, "__init__", init)
    device = sim_device(*SEC2_PATCH1[:1], **SEC2_PATCH1[1])
    client = clients(device)
    with pytest.raises(RuntimeError, match="Connection Failure"):
        client.connect(2, **SEC2_PATCH1[2])
    assert len(client.sec.inner.srp6a_ctx.start_authentication()[1]) == 383


@pytest.mark.parametrize(
    "sec_ver, device_kwargs, client_kwargs",
    [
        pytest.param(1, {"pop": SEC1_POP}, {"pop": "wrongpop1"}, id="sec1-pop"),
        pytest.param(2, {"patch": 1}, {"username": SEC2_USERNAME, "password": "wrongpass"}, id="sec2-patch1"),
    ],
)
def test_espressif_wrong_device_code(sim_device, clients, sec_ver, device_kwargs, client_kwargs):
    """A wrong PoP / SRP password: the device's proof check fails and it drops the link
    (security1.c / security2.c return an error, protocomm_httpd closes the socket)."""
    device = sim_device(sec_ver, **device_kwargs)
    client = clients(device)
    with pytest.raises(RuntimeError, match="Connection Failure"):
        client.connect(sec_ver, **client_kwargs)
