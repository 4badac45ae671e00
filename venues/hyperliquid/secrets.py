"""Loading the API-wallet private key without ever showing it.

Sources, first match wins: the ``MAKERD_PRIVATE_KEY`` environment variable, an explicit
key file (refused when its mode grants the group or others any access), then systemd's
``$CREDENTIALS_DIRECTORY/makerd_private_key`` (``LoadCredential=``). Errors name the
source and the problem, never the value; the key's repr and str are redacted.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Final

ENV_VARIABLE: Final = "MAKERD_PRIVATE_KEY"
CREDENTIAL_NAME: Final = "makerd_private_key"
_CREDENTIALS_DIRECTORY_VARIABLE: Final = "CREDENTIALS_DIRECTORY"
_SECP256K1_ORDER: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_KEY_BYTES: Final = 32
_GROUP_OR_OTHER_ACCESS: Final = 0o077
_MAX_KEY_FILE_BYTES: Final = 4096


class PrivateKeyError(ValueError):
    """The key could not be loaded; the message names the source, never the value."""


class PrivateKey:
    """A secp256k1 private key whose repr, str and pickled form never reveal it."""

    __slots__ = ("_secret", "_source")

    def __init__(self, secret: bytes, *, source: str) -> None:
        if len(secret) != _KEY_BYTES:
            raise PrivateKeyError(f"private key from {source} must be {_KEY_BYTES} bytes")
        if not 0 < int.from_bytes(secret, "big") < _SECP256K1_ORDER:
            raise PrivateKeyError(f"private key from {source} is outside the secp256k1 range")
        self._secret = secret
        self._source = source

    @classmethod
    def from_hex(cls, text: str, *, source: str) -> PrivateKey:
        """Parse 64 hex digits, with or without ``0x``, surrounding whitespace ignored."""
        digits = text.strip().removeprefix("0x").removeprefix("0X")
        if len(digits) != 2 * _KEY_BYTES:
            raise PrivateKeyError(
                f"private key from {source} must be {2 * _KEY_BYTES} hex digits "
                f"(got {len(digits)} characters)"
            )
        try:
            secret = bytes.fromhex(digits)
        except ValueError:
            # from None: the original error text would quote part of the key.
            raise PrivateKeyError(f"private key from {source} is not valid hex") from None
        return cls(secret, source=source)

    @property
    def source(self) -> str:
        """Where the key came from, e.g. ``environment variable MAKERD_PRIVATE_KEY``."""
        return self._source

    def secret_bytes(self) -> bytes:
        """The raw 32 bytes, for the signer only; never log or store the result."""
        return self._secret

    def __repr__(self) -> str:
        return f"PrivateKey(<redacted>, source={self._source!r})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a PrivateKey cannot be pickled")


def load_private_key(env: Mapping[str, str], *, key_file: Path | None) -> PrivateKey:
    """Load the key from the first configured source (see the module docstring).

    Raises :class:`PrivateKeyError` when no source is configured or the chosen one is
    unusable; a broken higher-precedence source is an error, not a fall-through, so a
    typo never silently selects another wallet.
    """
    from_env = env.get(ENV_VARIABLE)
    if from_env is not None:
        return PrivateKey.from_hex(from_env, source=f"environment variable {ENV_VARIABLE}")
    if key_file is not None:
        return _read_key_file(key_file, check_permissions=True)
    credentials_directory = env.get(_CREDENTIALS_DIRECTORY_VARIABLE)
    if credentials_directory:
        credential = Path(credentials_directory) / CREDENTIAL_NAME
        if credential.exists():
            # systemd owns this directory (mode 0500, per-service); its files may be
            # group-readable by design, so the key-file mode rule does not apply.
            return _read_key_file(credential, check_permissions=False)
    raise PrivateKeyError(
        f"no private key configured: set {ENV_VARIABLE}, configure a key file, or provide "
        f"the systemd credential {CREDENTIAL_NAME} (LoadCredential=)"
    )


def private_key_problems(env: Mapping[str, str], *, key_file: Path | None) -> list[str]:
    """Why no usable key would be loaded, as ``where: problem`` lines (empty when fine).

    Reads no network and quotes no key: the CLI calls it before anything contacts the
    exchange, so a missing key or a key file of mode 0644 is refused first, not after a
    round trip. ``where`` is the environment variable or ``hyperliquid.key_file``.
    """
    if env.get(ENV_VARIABLE) is not None:
        where = ENV_VARIABLE
    elif key_file is not None:
        where = "hyperliquid.key_file"
    else:
        where = "private key"
    try:
        load_private_key(env, key_file=key_file)
    except PrivateKeyError as error:
        return [f"{where}: {error}"]
    return []


def _read_key_file(path: Path, *, check_permissions: bool) -> PrivateKey:
    source = f"key file {path}"
    if "\x00" in str(path):
        raise PrivateKeyError(f"{source!r} contains a NUL byte")
    try:
        # O_NONBLOCK: a FIFO must not block the start waiting for a writer.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise PrivateKeyError(f"cannot open {source}: {error.strerror}") from None
    try:
        # fstat on the open descriptor: the file checked is the file read. Before fdopen,
        # which refuses a directory with an exception of its own.
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise PrivateKeyError(f"{source} is not a regular file")
        if check_permissions and mode & _GROUP_OR_OTHER_ACCESS:
            raise PrivateKeyError(
                f"{source} has mode {stat.S_IMODE(mode):04o}; it must not be accessible "
                f"to group or others (chmod 600 {path})"
            )
        content = os.read(descriptor, _MAX_KEY_FILE_BYTES + 1)
    except OSError as error:
        raise PrivateKeyError(f"cannot read {source}: {error.strerror}") from None
    finally:
        os.close(descriptor)
    if len(content) > _MAX_KEY_FILE_BYTES:
        raise PrivateKeyError(f"{source} is too large to be a private key")
    try:
        text = content.decode("ascii")
    except UnicodeDecodeError:
        raise PrivateKeyError(f"{source} is not ASCII hex") from None
    return PrivateKey.from_hex(text, source=source)
