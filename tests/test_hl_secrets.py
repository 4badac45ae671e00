"""The private key: where it is read from, and that it never shows up anywhere."""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path

import pytest

from makerd.venues.hyperliquid.secrets import (
    CREDENTIAL_NAME,
    ENV_VARIABLE,
    PrivateKey,
    PrivateKeyError,
    load_private_key,
    private_key_problems,
)
from makerd.venues.hyperliquid.signing import L1Signer

KEY_HEX = "0123456789012345678901234567890123456789012345678901234567890123"
OTHER_KEY_HEX = "1111111111111111111111111111111111111111111111111111111111111111"
THIRD_KEY_HEX = "2222222222222222222222222222222222222222222222222222222222222222"
KEY_ADDRESS = "0x14791697260e4c9a71f18484c9f997b308e59325"


def _key_file(directory: Path, content: str, mode: int = 0o600, name: str = "key") -> Path:
    path = directory / name
    path.write_text(content)
    path.chmod(mode)
    return path


def _secret_fragments(key_hex: str) -> list[str]:
    """Any 16-character window of the key would be a leak."""
    return [key_hex[i : i + 16] for i in range(0, len(key_hex) - 15, 8)]


def test_the_environment_variable_wins_over_a_key_file_and_the_credential(
    tmp_path: Path,
) -> None:
    key_file = _key_file(tmp_path, OTHER_KEY_HEX)
    _key_file(tmp_path, THIRD_KEY_HEX, name=CREDENTIAL_NAME)
    env = {ENV_VARIABLE: "0x" + KEY_HEX, "CREDENTIALS_DIRECTORY": str(tmp_path)}

    key = load_private_key(env, key_file=key_file)

    assert key.secret_bytes() == bytes.fromhex(KEY_HEX)
    assert key.source == f"environment variable {ENV_VARIABLE}"


def test_a_key_file_wins_over_the_systemd_credential(tmp_path: Path) -> None:
    key_file = _key_file(tmp_path, OTHER_KEY_HEX + "\n")
    _key_file(tmp_path, THIRD_KEY_HEX, name=CREDENTIAL_NAME)

    key = load_private_key({"CREDENTIALS_DIRECTORY": str(tmp_path)}, key_file=key_file)

    assert key.secret_bytes() == bytes.fromhex(OTHER_KEY_HEX)


def test_the_systemd_credential_is_used_when_nothing_else_is_configured(tmp_path: Path) -> None:
    # systemd may hand credentials out group-readable; its directory is the protection.
    _key_file(tmp_path, "0x" + THIRD_KEY_HEX + "\n", mode=0o440, name=CREDENTIAL_NAME)

    key = load_private_key({"CREDENTIALS_DIRECTORY": str(tmp_path)}, key_file=None)

    assert key.secret_bytes() == bytes.fromhex(THIRD_KEY_HEX)
    assert CREDENTIAL_NAME in key.source


def test_no_configured_source_is_an_error_that_lists_every_option(tmp_path: Path) -> None:
    with pytest.raises(PrivateKeyError) as missing:
        load_private_key({"CREDENTIALS_DIRECTORY": str(tmp_path)}, key_file=None)

    assert ENV_VARIABLE in str(missing.value)
    assert CREDENTIAL_NAME in str(missing.value)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o620])
def test_a_key_file_open_to_group_or_others_is_refused_naming_its_mode(
    tmp_path: Path, mode: int
) -> None:
    key_file = _key_file(tmp_path, KEY_HEX, mode=mode)

    with pytest.raises(PrivateKeyError) as refused:
        load_private_key({}, key_file=key_file)

    assert f"{mode:04o}" in str(refused.value)
    assert str(key_file) in str(refused.value)
    assert KEY_HEX not in str(refused.value)


def test_a_private_key_file_of_mode_0400_is_accepted(tmp_path: Path) -> None:
    key_file = _key_file(tmp_path, KEY_HEX, mode=0o400)

    key = load_private_key({}, key_file=key_file)

    assert L1Signer(key).address == KEY_ADDRESS


def test_a_missing_key_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(PrivateKeyError, match="cannot open key file"):
        load_private_key({}, key_file=tmp_path / "absent")


@pytest.mark.parametrize(
    "value",
    [
        KEY_HEX[:-2],  # too short
        KEY_HEX[:-1] + "z",  # not hex
        "00" * 32,  # zero is not a valid key
        "ff" * 32,  # beyond the curve order
    ],
)
def test_a_bad_key_is_refused_without_quoting_it(value: str) -> None:
    with pytest.raises(PrivateKeyError) as refused:
        load_private_key({ENV_VARIABLE: value}, key_file=None)

    assert ENV_VARIABLE in str(refused.value)
    assert all(fragment not in str(refused.value) for fragment in _secret_fragments(value))
    assert refused.value.__cause__ is None
    assert refused.value.__suppress_context__ is True or refused.value.__context__ is None


def test_repr_str_and_format_of_the_key_are_redacted() -> None:
    key = PrivateKey.from_hex(KEY_HEX, source="test")

    shown = [repr(key), str(key), f"{key}", f"{key!r}", repr([key]), repr({"k": key})]

    for text in shown:
        assert "redacted" in text
        assert all(fragment not in text for fragment in _secret_fragments(KEY_HEX))


def test_logging_the_key_or_the_signer_never_writes_the_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = PrivateKey.from_hex(KEY_HEX, source="test")
    signer = L1Signer(key)

    with caplog.at_level(logging.DEBUG):
        logging.getLogger("makerd.test").info("loaded %s for %r", key, signer)
        logging.getLogger("makerd.test").info("config %s", {"key": key})

    assert "redacted" in caplog.text
    assert KEY_ADDRESS in caplog.text
    assert all(fragment not in caplog.text for fragment in _secret_fragments(KEY_HEX))


def test_the_key_and_the_signer_refuse_to_be_pickled() -> None:
    key = PrivateKey.from_hex(KEY_HEX, source="test")

    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(key)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(L1Signer(key))


def test_the_preflight_names_the_key_file_field_for_a_directory(tmp_path: Path) -> None:
    problems = private_key_problems({}, key_file=tmp_path)

    assert problems == [f"hyperliquid.key_file: key file {tmp_path} is not a regular file"]


def test_the_preflight_does_not_wait_on_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "key"
    os.mkfifo(fifo, 0o600)

    [problem] = private_key_problems({}, key_file=fifo)

    assert problem.startswith("hyperliquid.key_file:")
    assert "not a regular file" in problem


def test_the_preflight_names_the_environment_variable_without_quoting_it() -> None:
    [problem] = private_key_problems({ENV_VARIABLE: KEY_HEX[:-1] + "z"}, key_file=None)

    assert problem.startswith(f"{ENV_VARIABLE}: ")
    assert all(fragment not in problem for fragment in _secret_fragments(KEY_HEX))


def test_the_preflight_passes_a_usable_key_file(tmp_path: Path) -> None:
    assert private_key_problems({}, key_file=_key_file(tmp_path, KEY_HEX)) == []


def test_the_preflight_reports_no_key_at_all() -> None:
    [problem] = private_key_problems({}, key_file=None)

    assert "no private key configured" in problem
