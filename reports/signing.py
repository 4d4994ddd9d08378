"""The Ed25519 key that signs ETDA case files: created on first use in the data directory, kept private.

    <data dir>/keys/casefile-ed25519.pem        the private key (PKCS #8 PEM, file mode 0600)
    <data dir>/keys/casefile-ed25519.pub.pem    its public half (SubjectPublicKeyInfo PEM), to hand out

A key is written to a temporary file and linked into place, so two exports that start at once end up
with the same key and a reader never sees half a key. A private key file that others can read or write
is refused. The fingerprint of a public key is the SHA-256 (hex) of its 32 raw bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_DIR = "keys"
PRIVATE_KEY = "casefile-ed25519.pem"
PUBLIC_KEY = "casefile-ed25519.pub.pem"
ALGORITHM = "Ed25519"


class SigningKeyError(ValueError):
    """The signing key cannot be used (unreadable, not Ed25519, or readable by others)."""


def signing_key(data_dir: Path) -> Ed25519PrivateKey:
    """The case-file signing key of ``data_dir``, created (mode 0600) if there is none yet."""
    folder = data_dir / KEY_DIR
    path = folder / PRIVATE_KEY
    if not path.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create(path)
    key = _load(path)
    public = folder / PUBLIC_KEY
    if not public.exists():
        _write_new(public, public_pem(key.public_key()), 0o644)
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the 32 raw bytes of the public key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_public(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; a ValueError if it is anything else."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"not an {ALGORITHM} public key")
    return key


def signature_holds(key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _create(path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_new(path, pem, 0o600)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` unless it exists, whole or not at all, with ``mode`` from the start."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        partial.chmod(mode)  # whatever the umask took away
        with contextlib.suppress(FileExistsError):  # another process was first: its key is kept
            os.link(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _load(path: Path) -> Ed25519PrivateKey:
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise SigningKeyError(
            f"{KEY_DIR}/{PRIVATE_KEY}: the signing key can be read or written by others; "
            f"allow only its owner (chmod 600)"
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{KEY_DIR}/{PRIVATE_KEY}: not a readable private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{KEY_DIR}/{PRIVATE_KEY}: not an {ALGORITHM} private key")
    return key
