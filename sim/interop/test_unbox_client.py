"""Our own client (`unbox provision --transport softap ... --wifi-only`) against the same
simulated devices as Espressif's client: the same security schemes, the two join failures
with their exit codes, a second run after a failed one on both firmware flavours, and the
secure-by-default policy (no security 0, no security 2 patch 0, unless asked for).

Exit codes (README): 0 success, 5 wrong Wi-Fi password, 6 Wi-Fi network not found.
"""

from __future__ import annotations

import subprocess

import pytest

from conftest import HOME_PASSPHRASE, HOME_SSID, SEC1_POP, SEC2_PASSWORD, clean_env
from espressif_driver import EspressifClient

RUN_TIMEOUT = 60.0
# The exit codes of `unbox` (README): success, bad input, wrong Wi-Fi password, network not found.
EXIT_OK, EXIT_USAGE, EXIT_WIFI_PASSWORD, EXIT_WIFI_NETWORK = 0, 2, 5, 6

# (security, device kwargs, extra provision arguments)
SECURITIES = [
    pytest.param(0, {}, ["--allow-unencrypted"], id="sec0"),
    pytest.param(1, {"pop": SEC1_POP}, ["--code", SEC1_POP], id="sec1-pop"),
    pytest.param(1, {}, ["--allow-no-pop"], id="sec1-no_pop"),
    pytest.param(2, {"patch": 0}, ["--code", SEC2_PASSWORD, "--allow-sec2-static-nonce"], id="sec2-patch0"),
    pytest.param(2, {"patch": 1}, ["--code", SEC2_PASSWORD], id="sec2-patch1"),
]
SEC2_PATCH1 = (2, {"patch": 1}, ["--code", SEC2_PASSWORD])
SEC1_POP_SETUP = (1, {"pop": SEC1_POP}, ["--code", SEC1_POP])
FAILURE_SECURITIES = [
    pytest.param(*SEC1_POP_SETUP, id="sec1-pop"),
    pytest.param(*SEC2_PATCH1, id="sec2-patch1"),
]


def provision(unbox_bin, state_dir, device, security, extra, ssid=HOME_SSID, passphrase=HOME_PASSPHRASE):
    command = [
        unbox_bin,
        "provision",
        "--transport",
        "softap",
        "--device",
        f"{device.name}={device.address}",
        "--security",
        str(security),
        "--ssid",
        ssid,
        "--passphrase",
        passphrase,
        "--wifi-only",
        *extra,
    ]
    try:
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            env=clean_env(UNBOX_STATE_DIR=str(state_dir)),
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"`unbox provision` still running after {RUN_TIMEOUT} s: {error}")
    return result


def explain(result, device) -> str:
    return (
        f"exit {result.returncode}: {' '.join(result.args)}\n--- stdout ---\n{result.stdout}"
        f"\n--- stderr ---\n{result.stderr}\n--- simulator log ---\n{device.log_text()[-4000:]}"
    )


@pytest.mark.parametrize("security, device_kwargs, extra", SECURITIES)
def test_unbox_provisions(unbox_bin, state_dir, sim_device, security, device_kwargs, extra):
    device = sim_device(security, **device_kwargs)
    result = provision(unbox_bin, state_dir, device, security, extra)
    assert result.returncode == EXIT_OK, explain(result, device)
    # Exactly one TCP connection for the whole session: a second one would make ESP-IDF's
    # httpd (max_open_sockets 1, LRU purge) close the first, with any request on it.
    assert (device.sockets(), device.purges()) == (1, 0), explain(result, device)


@pytest.mark.parametrize("security, device_kwargs, extra", FAILURE_SECURITIES)
def test_unbox_wrong_passphrase(unbox_bin, state_dir, sim_device, security, device_kwargs, extra):
    device = sim_device(security, **device_kwargs)
    result = provision(unbox_bin, state_dir, device, security, extra, passphrase="not the passphrase")
    assert result.returncode == EXIT_WIFI_PASSWORD, explain(result, device)


@pytest.mark.parametrize("security, device_kwargs, extra", FAILURE_SECURITIES)
def test_unbox_unknown_network(unbox_bin, state_dir, sim_device, security, device_kwargs, extra):
    device = sim_device(security, **device_kwargs)
    result = provision(unbox_bin, state_dir, device, security, extra, ssid="NoSuchNetwork")
    assert result.returncode == EXIT_WIFI_NETWORK, explain(result, device)


@pytest.mark.parametrize("flavour", ["plain", "example"])
def test_unbox_second_run_after_wrong_passphrase(unbox_bin, state_dir, sim_device, flavour):
    """A person runs the command again with the right password against the device an earlier
    run left failed: plain firmware needs a prov-ctrl reset first, the example app has reset
    itself; both must end connected."""
    security, device_kwargs, extra = SEC2_PATCH1
    device = sim_device(security, **device_kwargs, flavour=flavour)
    first = provision(unbox_bin, state_dir, device, security, extra, passphrase="not the passphrase")
    assert first.returncode == EXIT_WIFI_PASSWORD, explain(first, device)
    second = provision(unbox_bin, state_dir, device, security, extra)
    assert second.returncode == EXIT_OK, explain(second, device)


def not_provisioned(device, sec_ver, **credentials):
    """Espressif's client confirms the device never started joining the home network."""
    client = EspressifClient(device.address)
    try:
        client.connect(sec_ver, **credentials)
        said, reply = client.status()
    finally:
        client.close()
    assert said != "connected", f"the refused run configured the device: {reply}"


def test_unbox_refuses_sec2_static_nonce(unbox_bin, state_dir, sim_device):
    """Security 2 patch 0 reuses one GCM nonce for every message: refused by default, and the
    message tells the person the device's firmware needs an update."""
    device = sim_device(2, patch=0)
    result = provision(unbox_bin, state_dir, device, 2, ["--code", SEC2_PASSWORD])
    assert result.returncode == EXIT_USAGE, explain(result, device)
    output = (result.stdout + result.stderr).lower()
    assert "unexpected argument" not in output, explain(result, device)
    assert "firmware" in output and "update" in output, explain(result, device)
    assert "--allow-sec2-static-nonce" in output, "the refusal names the opt-in\n" + explain(result, device)
    not_provisioned(device, 2, username="wifiprov", password=SEC2_PASSWORD)


def test_unbox_refuses_sec0_without_flag(unbox_bin, state_dir, sim_device):
    """A device without encryption is refused unless --allow-unencrypted is given."""
    device = sim_device(0)
    result = provision(unbox_bin, state_dir, device, 0, [])
    assert result.returncode == EXIT_USAGE, explain(result, device)
    output = (result.stdout + result.stderr).lower()
    assert "unexpected argument" not in output, explain(result, device)
    assert "unencrypted" in output, "the refusal says why\n" + explain(result, device)
    assert "--allow-unencrypted" in output, "the refusal names the opt-in\n" + explain(result, device)
    not_provisioned(device, 0)


EXIT_DEVICE_CODE = 8


@pytest.mark.parametrize(
    "security, device_kwargs, extra",
    [
        pytest.param(1, {"pop": SEC1_POP}, ["--code", "wrongpop1"], id="sec1-pop"),
        pytest.param(2, {"patch": 1}, ["--code", "wrongpass"], id="sec2-patch1"),
    ],
)
def test_unbox_wrong_device_code(unbox_bin, state_dir, sim_device, security, device_kwargs, extra):
    device = sim_device(security, **device_kwargs)
    result = provision(unbox_bin, state_dir, device, security, extra)
    assert result.returncode == EXIT_DEVICE_CODE, explain(result, device)


@pytest.mark.parametrize(
    "device_security, device_kwargs, security, extra",
    [
        pytest.param(0, {}, 2, ["--code", SEC2_PASSWORD, "--allow-unencrypted"], id="sec2-code-sec0-device"),
        pytest.param(1, {"pop": SEC1_POP}, 2, ["--code", SEC2_PASSWORD], id="sec2-code-sec1-device"),
        pytest.param(0, {}, 1, ["--code", SEC1_POP, "--allow-unencrypted"], id="sec1-code-sec0-device"),
    ],
)
def test_unbox_refuses_downgrade(unbox_bin, state_dir, sim_device, device_security, device_kwargs, security, extra):
    """Holding security 1/2 credentials, a device offering less is a credentials mismatch,
    whatever --allow-unencrypted says (that flag covers only codes that say security 0)."""
    device = sim_device(device_security, **device_kwargs)
    result = provision(unbox_bin, state_dir, device, security, extra)
    assert result.returncode == EXIT_DEVICE_CODE, explain(result, device)
    not_provisioned(device, device_security, **({"pop": SEC1_POP} if device_security == 1 else {}))
