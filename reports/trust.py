"""The keys ``tisiwatch verify`` trusts to sign ETDA case files: a trusted-keys file, and this installation's own.

    <data dir>/keys/trusted-keys.pem       (setting ``verify.trusted_keys``; ``--trusted-keys FILE``)

    # name: TISI
    # fingerprint: 3f2a…                   (SHA-256 of the raw key; checked against the key when read)
    # added: 2026-11-25T03:00:00Z
    -----BEGIN PUBLIC KEY-----
    MCowBQYDK2VwAyEA…
    -----END PUBLIC KEY-----

As in OpenSSH's ``allowed_signers`` and ``gpgv``'s keyring, the receiver keeps the sender's public key
once, received by another channel, and every later file is checked against it; a key in the case file
itself only proves that nothing changed after signing. Each key has a name (printable, at most 64
characters); other ``#`` lines and blank lines are comments. A file that others can write is refused,
as OpenSSH refuses such an ``authorized_keys``. This installation's own case-file public key
(``keys/casefile-ed25519.pub.pem``) is trusted as "this installation".
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from config import Settings
from reports.signing import ALGORITHM, KEY_DIR, PUBLIC_KEY, fingerprint, load_public, public_pem

THIS_INSTALLATION = "this installation"
BEGIN, END = "-----BEGIN PUBLIC KEY-----", "-----END PUBLIC KEY-----"
_HEADERS = ("name", "fingerprint")


class TrustError(ValueError):
    """A trusted-keys file or a key file cannot be used; the message names the file (and line)."""


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A public key and the name of whom it belongs to."""

    name: str
    key: Ed25519PublicKey

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)


def trusted_keys_path(settings: Settings, override: Path | None = None) -> Path:
    """The trusted-keys file: ``override``, else ``verify.trusted_keys`` under the data directory."""
    return override if override is not None else settings.data_dir / settings.verify.trusted_keys


def own_key_path(settings: Settings) -> Path:
    return settings.data_dir / KEY_DIR / PUBLIC_KEY


def own_key(settings: Settings) -> TrustedKey | None:
    """This installation's case-file public key, if it has one yet."""
    path = own_key_path(settings)
    return TrustedKey(THIS_INSTALLATION, key_file(path)) if path.exists() else None


def trusted_keys(settings: Settings, path: Path | None = None) -> list[TrustedKey]:
    """The keys of the trusted-keys file (``path``, which must then exist, or the setting's), then this
    installation's own public key if it has one."""
    keys = read_trusted(trusted_keys_path(settings, path), must_exist=path is not None)
    mine = own_key(settings)
    if mine is not None and mine.fingerprint not in {known.fingerprint for known in keys}:
        keys.append(mine)
    return keys


def key_file(path: Path) -> Ed25519PublicKey:
    """The one Ed25519 public key (PEM) in the file at ``path``."""
    try:
        text = path.read_bytes().decode("ascii")
    except OSError as exc:
        raise TrustError(f"{path.name}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise TrustError(f"{path.name}: not an {ALGORITHM} public key (PEM)") from None
    if text.count(BEGIN) > 1:
        raise TrustError(f"{path.name}: holds {text.count(BEGIN)} public keys; give a file with one")
    try:
        return load_public(text.encode("ascii"))
    except ValueError:
        raise TrustError(f"{path.name}: not an {ALGORITHM} public key (PEM)") from None


def read_trusted(path: Path, *, must_exist: bool = False) -> list[TrustedKey]:
    """The keys of a trusted-keys file; none if it does not exist (unless ``must_exist``)."""
    if not path.exists() and not must_exist:
        return []
    try:
        if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o022:
            raise TrustError(f"{path.name}: others can write it; allow only its owner to (chmod 644)")
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise TrustError(f"{path.name}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise TrustError(f"{path.name}: not UTF-8 text ({exc.reason})") from None
    return _parse(text, path.name)


def _parse(text: str, origin: str) -> list[TrustedKey]:
    keys: list[TrustedKey] = []
    headers: dict[str, str] = {}
    block: list[str] | None = None
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if block is not None:
            block.append(stripped)
            if stripped == END:
                keys.append(_trusted(block, headers, f"{origin}:{start}", keys))
                block, headers = None, {}
        elif stripped == BEGIN:
            block, start = [stripped], number
        elif stripped.startswith("#"):
            label, colon, value = stripped[1:].partition(":")
            if colon and label.strip().lower() in _HEADERS:
                headers[label.strip().lower()] = value.strip()
        elif stripped:
            raise TrustError(f"{origin}:{number}: not a comment, a blank line or part of a public key")
    if block is not None:
        raise TrustError(f"{origin}:{start}: a public key without its END line")
    return keys


def _trusted(
    block: list[str], headers: dict[str, str], where: str, known: Sequence[TrustedKey]
) -> TrustedKey:
    try:
        key = load_public("\n".join(block).encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise TrustError(f"{where}: not an {ALGORITHM} public key") from None
    if "name" not in headers:
        raise TrustError(f"{where}: a key without a '# name:' line before it")
    trusted = TrustedKey(valid_name(headers["name"], where), key)
    written = headers.get("fingerprint")
    if written is not None and written.lower() != trusted.fingerprint:
        raise TrustError(f"{where}: the fingerprint written for {trusted.name} is not that of its key")
    if any(other.name.casefold() == trusted.name.casefold() for other in known):
        raise TrustError(f"{where}: a second key named {trusted.name}")
    return trusted


def valid_name(name: str, where: str = "--name") -> str:
    """A key's name as given, if it is one line of printable text of 1–64 characters."""
    name = name.strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise TrustError(f"{where}: a key's name is 1 to 64 printable characters on one line")
    if name.casefold() == THIS_INSTALLATION:
        raise TrustError(
            f"{where}: {THIS_INSTALLATION!r} is this installation's own key; choose another name"
        )
    return name


def trust(
    path: Path, key: Ed25519PublicKey, name: str, *, expected_fingerprint: str | None = None
) -> tuple[TrustedKey, bool]:
    """Add ``key`` as ``name`` to the trusted-keys file at ``path`` (only if it has ``expected_fingerprint``, when
    given); the key as trusted, and whether it was added (False: trusted already, under that name)."""
    name = valid_name(name)
    new = TrustedKey(name, key)
    if expected_fingerprint is not None and expected_fingerprint.strip().lower() != new.fingerprint:
        raise TrustError(
            f"--fingerprint: the key's fingerprint is {new.fingerprint}, not that one: not trusted"
        )
    known = read_trusted(path)
    for other in known:
        if other.fingerprint == new.fingerprint:
            return other, False
        if other.name.casefold() == name.casefold():
            raise TrustError(
                f"--name: a key named {other.name} is trusted already (fingerprint {other.fingerprint}); "
                f"a new key of the same sender needs a name of its own, e.g. {other.name}-2"
            )
    added = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    block = f"# name: {name}\n# fingerprint: {new.fingerprint}\n# added: {added}\n"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    text = old + ("\n" if old and not old.endswith("\n") else "") + ("\n" if old else "")
    _replace(path, (text + block + public_pem(key).decode("ascii")).encode("utf-8"))
    return new, True


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (mode 0644)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        partial.chmod(0o644)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
