"""Fixtures: the `unbox` binary, and `unbox sim device` started as a subprocess per test."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEVICE_NAME = "PROV_1A2B3C"

# The home network and six neighbours: seven networks, so the scan reads two pages of four.
HOME_SSID = "HomeNet"
HOME_PASSPHRASE = "correct horse battery"
NETWORKS = [
    (HOME_SSID, HOME_PASSPHRASE),
    ("Neighbour-2G", "n31ghb0ur-pass"),
    ("Neighbour-5G", "n31ghb0ur-pass"),
    ("CafeFree", ""),  # an open network
    ("Office Guest", "welcome2024"),
    ("Printer-DIRECT-7F", "printme123"),
    ("IoT_VLAN", "things-only-1"),
]
SEC1_POP = "abcd1234"
SEC2_USERNAME = "wifiprov"
SEC2_PASSWORD = "abcd1234"

JOIN_MS = 200  # after the firmware's 1 s apply delay
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0

# Variables that would change what the simulator or our client does, taken out of their
# environment so a developer's shell cannot leak into a run.
_SCRUBBED = (
    "UNBOX_SIM_PASSWORD",
    "UNBOX_SIM_POP",
    "UNBOX_DEVICE_CODE",
    "UNBOX_WIFI_PASSPHRASE",
    "UNBOX_AP_PASSPHRASE",
    "UNBOX_STATE_DIR",
)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env["NO_COLOR"] = "1"  # plain logs in the failure reports
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def unbox_bin() -> str:
    path = os.environ.get("UNBOX_BIN") or str(REPO / "target" / "debug" / "unbox")
    if not os.access(path, os.X_OK):
        pytest.fail(f"no unbox binary at {path}: build it (cargo build -p unbox-cli) or set UNBOX_BIN")
    return path


@dataclass
class Device:
    """A running `unbox sim device`."""

    process: subprocess.Popen
    address: str  # 127.0.0.1:PORT
    name: str
    log: Path
    args: list[str]

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def sockets(self) -> int:
        """TCP connections the device accepted so far (its debug log line per accept)."""
        return self.log_text().count("device: new socket")

    def purges(self) -> int:
        """Connections the device closed because a newer one arrived (LRU purge)."""
        return self.log_text().count("LRU purge")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # the simulator stops on Ctrl-C
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)


def _start_device(unbox: str, log: Path, args: list[str], name: str) -> Device:
    # -v: the debug log has a line per accepted connection (Device.sockets).
    command = [unbox, "sim", "device", "-v", *args]
    log_file = log.open("wb")
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log_file,
        env=clean_env(),
    )
    log_file.close()
    ready = threading.Event()
    found: list[str] = []
    lines: list[str] = []

    def drain():
        # Reads stdout to its end so the simulator never blocks on a full pipe.
        for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            lines.append(line)
            match = re.search(r"listening on (\S+)", line)
            if match and not found:
                found.append(match.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(START_TIMEOUT) or not found:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=STOP_TIMEOUT)
        stdout = "\n".join(lines)
        stderr = log.read_text(errors="replace")
        pytest.fail(
            f"`{' '.join(command)}` did not print `listening on ADDRESS` within {START_TIMEOUT} s "
            f"(exit {process.returncode})\nstdout:\n{stdout}\nstderr:\n{stderr}"
        )
    return Device(process=process, address=found[0], name=name, log=log, args=args)


@pytest.fixture
def sim_device(unbox_bin, tmp_path):
    """Starts simulated devices for one test and stops them at teardown.

    `sim_device(security, pop=..., patch=..., flavour=...)` returns a `Device`.
    """
    started: list[Device] = []

    def start(
        security: int,
        *,
        pop: str | None = None,
        username: str = SEC2_USERNAME,
        password: str = SEC2_PASSWORD,
        patch: int | None = None,
        flavour: str | None = None,
        networks=NETWORKS,
        join_ms: int = JOIN_MS,
        name: str = DEVICE_NAME,
    ) -> Device:
        args = ["--listen", "127.0.0.1:0", "--name", name, "--security", str(security), "--join-ms", str(join_ms)]
        if security == 1 and pop is not None:
            args += ["--pop", pop]
        if security == 2:
            args += ["--username", username, "--password", password]
            if patch is not None:
                args += ["--patch-version", str(patch)]
        if flavour is not None:
            args += ["--flavour", flavour]
        for ssid, passphrase in networks:
            args += ["--network", f"{ssid}:{passphrase}"]
        log = tmp_path / f"device-{len(started) + 1}.log"
        device = _start_device(unbox_bin, log, args, name)
        started.append(device)
        return device

    yield start
    for device in started:
        device.stop()


@pytest.fixture(autouse=True)
def srp_full_length_a(monkeypatch):
    """The client draws its SRP secret `a` at random and sends A = g^a mod N at its minimal
    length, so about one session in 256 sends a 383-byte A, which ESP-IDF's security2.c
    refuses (`client_pubkey.len != PUBLIC_KEY_LEN`) and so does the simulator. To keep every
    run deterministic, this redraws `a` (inside the client's Srp6a) until A has 384 bytes; the
    messages are built by the client as always. The short A itself is tested below."""
    from rmaker_tools.common.security import srp6a

    original = srp6a.Srp6a.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        while len(srp6a.long_to_bytes(self.A)) < 384:
            self.a = srp6a.get_random_of_length(32)
            self.A = pow(self.g, self.a, self.N)

    monkeypatch.setattr(srp6a.Srp6a, "__init__", init)


@pytest.fixture
def state_dir(tmp_path) -> Path:
    """A private state directory for our client (never ~/.config/unbox)."""
    path = tmp_path / "unbox-state"
    path.mkdir()
    return path
