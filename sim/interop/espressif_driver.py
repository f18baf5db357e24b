"""A step-by-step driver of Espressif's own provisioning client against one device.

Built only from the functions of the PyPI package `esp-rainmaker-cli` (module
`rmaker_tools.common`): the `prov.*` request builders and response parsers, the
`security.Security0/1/2` session classes and `transport.Transport_HTTP`. The flow follows
`rmaker_tools/rmaker_prov/prov/prov_util.py` and `esp_rainmaker_prov.py` of that package
(ESP-IDF's `esp_prov.py` is the same code): proto-ver, the session handshake loop, scan
start/status/results, set config, apply, status until settled, prov-ctrl reset.

Nothing here builds or alters a provisioning message. The one addition is `Recorder`, a
pass-through around the client's security object that keeps a copy of every plaintext the
client encrypts and decrypts, so the tests can read the device's reply protobuf (for
example the `fail_reason` of a status) instead of scraping what the client prints.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from rmaker_tools.common import prov, security, transport
from rmaker_tools.common.prov import wifi_prov
from rmaker_tools.common.utils.convenience import str_to_bytes

# The generated protobuf modules the client itself loads (`import proto` inside the package).
proto = wifi_prov.proto

# Scan results are read this many at a time, as the client does over BLE (esp_prov's limit of
# one GATT value); over SoftAP esp_prov reads up to 100, so 4 also exercises paging here.
SCAN_PAGE = 4
# esp_prov scans channel by channel in groups of 5 on SoftAP (keeps the device's AP beaconing).
SOFTAP_GROUP_CHANNELS = 5

STATUS_SUCCESS = 0
STATUS_INTERNAL_ERROR = 5


class Recorder:
    """The client's security object, unchanged, with a log of the plaintexts it handles.

    `sent` holds every plaintext request the client encrypted, `received` every reply it
    decrypted, in order. Each call goes to the wrapped object exactly once, so the cipher
    state (AES-CTR offset, GCM counter) moves exactly as without the wrapper.
    """

    def __init__(self, inner):
        self.inner = inner
        self.sent: list[bytes] = []
        self.received: list[bytes] = []

    @property
    def verbose(self):
        return self.inner.verbose

    def security_session(self, response):
        return self.inner.security_session(response)

    def encrypt_data(self, data):
        self.sent.append(bytes(data))
        return self.inner.encrypt_data(data)

    def decrypt_data(self, data):
        plaintext = self.inner.decrypt_data(data)
        self.received.append(bytes(plaintext))
        return plaintext


@dataclass
class Settled:
    """How a join attempt ended, as the client and the device's reply tell it."""

    client_says: str  # what `config_get_status_response` returned: connected / failed / ...
    reply: object  # the device's WiFiConfigPayload of the last status
    polls: int = 0

    @property
    def sta_state(self) -> int:
        return self.reply.resp_get_status.sta_state

    @property
    def fail_reason(self) -> int | None:
        status = self.reply.resp_get_status
        return status.fail_reason if status.WhichOneof("state") == "fail_reason" else None


@dataclass
class ScanOutcome:
    """What the device-side scan gave: the status reply and every page of results."""

    finished: bool
    count: int
    pages: list[list[dict]] = field(default_factory=list)

    @property
    def entries(self) -> list[dict]:
        return [entry for page in self.pages for entry in page]


class EspressifClient:
    """One provisioning session of Espressif's client with one device (one HTTP connection)."""

    def __init__(self, address: str, timeout: float = 10.0):
        # One keep-alive HTTPConnection for the whole session, as esp_prov keeps it.
        self.tp = transport.Transport_HTTP(address, timeout=timeout)
        self.sec: Recorder | None = None
        self.version_info: dict | None = None

    # -- proto-ver and the handshake ------------------------------------------------------

    def version(self) -> dict:
        """proto-ver with esp_prov's `---` body (the device rejects an empty body)."""
        response = self.tp.send_data("proto-ver", "---")
        self.version_info = json.loads(response)
        return self.version_info

    def connect(self, sec_ver: int, pop: str = "", username: str = "", password: str = "") -> dict:
        """Reads the version, picks the security as esp_rainmaker_prov does, and runs the
        handshake loop of prov_util.establish_session. Returns the `prov` section."""
        info = self.version().get("prov", {})
        if sec_ver == 1 and "no_pop" in info.get("cap", []):
            pop = ""  # esp_rainmaker_prov: a no_pop device ignores any PoP
        # esp_rainmaker_prov: the announced sec_patch_ver, absent = 0.
        patch = int(info.get("sec_patch_ver", 0)) if sec_ver == 2 else 0
        if sec_ver == 0:
            inner = security.Security0(False)
        elif sec_ver == 1:
            inner = security.Security1(pop, False)
        else:
            inner = security.Security2(patch, username or "wifiprov", password, False)
        self.sec = Recorder(inner)
        response = None
        replies = []
        try:
            while True:
                request = self.sec.security_session(response)
                if request is None:
                    break
                response = self.tp.send_data("prov-session", request)
                replies.append(response)
        except RuntimeError as error:
            if sec_ver == 2 and replies:
                salt = _sec2_salt(replies[0])
                if salt[:1] == b"\x00":
                    raise RuntimeError(
                        f"{error} -- the device's salt {salt.hex()} starts with 0x00, which this "
                        "client cannot use: srp6a.process_challenge turns the salt into an integer "
                        "and back, dropping leading zero bytes"
                    ) from error
            raise
        return info

    @property
    def patch_version(self) -> int:
        return getattr(self.sec.inner, "sec_patch_ver", 0)

    # -- Wi-Fi scan -----------------------------------------------------------------------

    def scan(self) -> ScanOutcome:
        """prov_util.scan_wifi_APs, reading `SCAN_PAGE` entries per request."""
        sec, tp = self.sec, self.tp
        message = prov.scan_start_request(sec, blocking=True, group_channels=SOFTAP_GROUP_CHANNELS)
        prov.scan_start_response(sec, tp.send_data("prov-scan", message))
        status = prov.scan_status_response(sec, tp.send_data("prov-scan", prov.scan_status_request(sec)))
        outcome = ScanOutcome(finished=status["finished"], count=status["count"])
        index, remaining = 0, status["count"]
        while remaining:
            count = min(remaining, SCAN_PAGE)
            message = prov.scan_result_request(sec, index, count)
            outcome.pages.append(prov.scan_result_response(sec, tp.send_data("prov-scan", message)))
            remaining -= count
            index += count
        return outcome

    # -- Wi-Fi config ---------------------------------------------------------------------

    def set_config(self, ssid: str, passphrase: str) -> int:
        message = prov.config_set_config_request(self.sec, ssid, passphrase)
        return prov.config_set_config_response(self.sec, self.tp.send_data("prov-config", message))

    def apply(self) -> int:
        message = prov.config_apply_config_request(self.sec)
        return prov.config_apply_config_response(self.sec, self.tp.send_data("prov-config", message))

    def status(self) -> tuple[str, object]:
        message = prov.config_get_status_request(self.sec)
        said = prov.config_get_status_response(self.sec, self.tp.send_data("prov-config", message))
        return said, self.last_reply(proto.wifi_config_pb2.WiFiConfigPayload)

    def wait_until_settled(self, timeout: float = 10.0, interval: float = 0.1) -> Settled:
        """Polls the status while the client says `connecting` (esp_prov polls every 5 s;
        the simulator joins in about 1.2 s, so a short interval keeps the suite fast)."""
        deadline = time.monotonic() + timeout
        polls = 0
        while True:
            said, reply = self.status()
            polls += 1
            if said != "connecting":
                return Settled(said, reply, polls)
            if time.monotonic() >= deadline:
                raise AssertionError(f"still connecting after {timeout} s ({polls} status polls)")
            time.sleep(interval)

    # -- prov-ctrl ------------------------------------------------------------------------

    def ctrl_reset(self) -> tuple[bool, object]:
        """prov_util.ctrl_reset: True when the client accepted the reply; also the reply."""
        message = prov.ctrl_reset_request(self.sec)
        response = self.tp.send_data("prov-ctrl", message)
        try:
            prov.ctrl_reset_response(self.sec, response)
            accepted = True
        except RuntimeError:  # the client raises 'CtrlReset failed' on a non-success status
            accepted = False
        return accepted, self.last_reply(proto.wifi_ctrl_pb2.WiFiCtrlPayload)

    # -- a custom endpoint ----------------------------------------------------------------

    def custom(self, endpoint: str, data: str) -> bytes:
        """esp_prov's custom_data_request/_response (rmaker_local_ctrl/prov/custom_prov.py):
        the data through the session cipher, the reply decrypted, both latin-1 strings on the
        transport."""
        encrypted = self.sec.encrypt_data(str_to_bytes(data))
        response = self.tp.send_data(endpoint, encrypted.decode("latin-1"))
        return bytes(self.sec.decrypt_data(str_to_bytes(response)))

    # -- helpers --------------------------------------------------------------------------

    def last_reply(self, message_type):
        reply = message_type()
        reply.ParseFromString(self.sec.received[-1])
        return reply

    def close(self):
        self.tp.conn.close()


def _sec2_salt(response: str) -> bytes:
    reply = proto.session_pb2.SessionData()
    reply.ParseFromString(str_to_bytes(response))
    return bytes(reply.sec2.sr0.device_salt)
