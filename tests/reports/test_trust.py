"""Who signed a case file: ``verify`` checks the signer against trusted keys (the trusted-keys file and
this installation's own key), fails a file signed by another key, and says plainly when there was no
trusted key to check the signer with (exit 3) instead of "OK". ``tisiwatch keys`` manages the keys."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner, Result

import cli
from config import Settings, load_settings
from reports.signing import KEY_DIR, PRIVATE_KEY, PUBLIC_KEY, fingerprint, load_public, public_pem
from reports.trust import THIS_INSTALLATION, TrustedKey, TrustError, read_trusted, trust, trusted_keys
from reports.verify import EXIT_FAILED, EXIT_OK, EXIT_UNCHECKED, verify_casefile
from store.db import Store
from tests.reports.test_casefile import scenario
from tests.reports.test_verify import rewrite

runner = CliRunner()
Tisiwatch = Callable[..., Result]
OTHER = Ed25519PrivateKey.generate()


@pytest.fixture
def tisi_key(settings: Settings, case_file: Path) -> Path:
    """TISI's public key file, as TISI hands it to ETDA."""
    return settings.data_dir / KEY_DIR / PUBLIC_KEY


@pytest.fixture
def etda(tmp_path: Path) -> Path:
    """ETDA's data directory: no key of its own, nothing trusted yet."""
    return tmp_path / "etda"


@pytest.fixture
def tisiwatch(monkeypatch: pytest.MonkeyPatch) -> Tisiwatch:
    """``tisiwatch --data-dir DIR ARGS…`` with fresh options each time."""

    def run(data_dir: Path, *args: str) -> Result:
        monkeypatch.setattr(cli, "state", cli.State())
        return runner.invoke(cli.app, ["--data-dir", str(data_dir), *args])

    monkeypatch.setenv("COLUMNS", "250")
    return run


def resigned(case_file: Path, key: Ed25519PrivateKey = OTHER) -> Path:
    """The case file with an altered listing and a manifest written again and signed by ``key``: all
    hashes and the signature hold, only the signer is not TISI."""
    with zipfile.ZipFile(case_file) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    manifest["signature"]["key_fingerprint"] = fingerprint(key.public_key())
    body = json.dumps(manifest).encode()
    return rewrite(
        case_file,
        change={
            "manifest.json": lambda _: body,
            "manifest.sig": lambda _: key.sign(body),
            "public_key.pem": lambda _: public_pem(key.public_key()),
        },
    )


def test_a_re_signed_file_is_not_ok_without_a_trusted_key(
    case_file: Path, etda: Path, tisiwatch: Tisiwatch
) -> None:
    """The defect: ``verify`` without ``--key`` said "OK" for a file re-signed with another key."""
    result = tisiwatch(etda, "verify", str(resigned(case_file)))
    assert result.exit_code == EXIT_UNCHECKED == 3, result.output
    assert not result.output.startswith("OK")
    assert result.output.startswith("SIGNER NOT CHECKED changed-cases.zip: 7 cases")
    assert "who signed it was NOT checked" in result.output
    assert f"signing key fingerprint (SHA-256): {fingerprint(OTHER.public_key())}" in result.output
    assert "tisiwatch keys trust FILE --name NAME" in result.output


def test_a_genuine_file_is_not_ok_either_without_a_trusted_key(
    case_file: Path, tisi_key: Path, etda: Path, tisiwatch: Tisiwatch
) -> None:
    result = tisiwatch(etda, "verify", str(case_file))
    assert result.exit_code == 3
    assert f"fingerprint (SHA-256): {fingerprint(load_public(tisi_key.read_bytes()))}" in result.output


def test_once_tisi_is_trusted_its_files_are_ok_and_a_re_signed_one_fails(
    case_file: Path, tisi_key: Path, etda: Path, tisiwatch: Tisiwatch
) -> None:
    tisi = fingerprint(load_public(tisi_key.read_bytes()))
    result = tisiwatch(etda, "keys", "trust", str(tisi_key), "--name", "TISI")
    assert result.exit_code == 0, result.output
    assert f"trusted TISI: fingerprint {tisi}" in result.output
    assert [key.name for key in read_trusted(etda / "keys" / "trusted-keys.pem")] == ["TISI"]

    result = tisiwatch(etda, "verify", str(case_file))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK cases.zip: 7 cases")
    assert f"signed by TISI (fingerprint {tisi})" in result.output

    result = tisiwatch(etda, "verify", str(resigned(case_file)))
    assert result.exit_code == 1
    assert result.output == (
        f"FAILED public_key.pem: signed by key {fingerprint(OTHER.public_key())}, which is not a trusted key "
        f"(TISI {tisi})\n"
    )


def test_the_installation_trusts_its_own_key(
    case_file: Path, settings: Settings, tisiwatch: Tisiwatch
) -> None:
    result = tisiwatch(settings.data_dir, "verify", str(case_file))
    assert result.exit_code == 0, result.output
    assert f"signed by {THIS_INSTALLATION} (fingerprint" in result.output
    result = tisiwatch(settings.data_dir, "verify", str(resigned(case_file)))
    assert result.exit_code == 1
    assert "which is not a trusted key (this installation " in result.output


def test_a_pinned_key_is_the_only_one_that_counts(
    case_file: Path, tisi_key: Path, settings: Settings, tisiwatch: Tisiwatch
) -> None:
    result = tisiwatch(settings.data_dir, "verify", str(case_file), "--key", str(tisi_key))
    assert result.exit_code == 0
    assert "signed by the key in casefile-ed25519.pub.pem" in result.output
    stranger = tisi_key.with_name("stranger.pem")
    stranger.write_bytes(public_pem(OTHER.public_key()))
    result = tisiwatch(settings.data_dir, "verify", str(case_file), "--key", str(stranger))
    assert result.exit_code == 1  # though this installation's own key signed it
    assert "FAILED public_key.pem: signed by key " in result.output
    assert f"(the key in stranger.pem {fingerprint(OTHER.public_key())})" in result.output
    result = tisiwatch(
        settings.data_dir, "verify", str(case_file), "--key", str(stranger.with_name("absent"))
    )
    assert result.exit_code == 2
    assert "--key: absent: cannot be read (No such file or directory)" in result.output


def test_the_python_api_says_who_signed(case_file: Path, tisi_key: Path) -> None:
    tisi = TrustedKey("TISI", load_public(tisi_key.read_bytes()))
    result = verify_casefile(case_file, trusted=[tisi])
    assert (result.exit_code, result.signed_by) == (EXIT_OK, tisi)
    unchecked = verify_casefile(resigned(case_file))
    assert (unchecked.ok, unchecked.exit_code, unchecked.signed_by) == (True, EXIT_UNCHECKED, None)
    assert verify_casefile(resigned(case_file), trusted=[tisi]).exit_code == EXIT_FAILED


def test_keys_trust_refuses_what_is_not_an_ed25519_public_key(
    settings: Settings, tmp_path: Path, etda: Path, tisiwatch: Tisiwatch
) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    files = {
        "rsa.pem": rsa_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "private.pem": OTHER.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        "junk.pem": b"\x00\xff not a key",
        "two.pem": public_pem(OTHER.public_key()) * 2,
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    for name in [*files, "absent.pem"]:
        result = tisiwatch(etda, "keys", "trust", str(tmp_path / name), "--name", "TISI")
        assert result.exit_code == 1
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert result.output.startswith(f"error: {name}: ")
    assert "cannot be read (No such file or directory)" in result.output
    assert not (etda / "keys" / "trusted-keys.pem").exists()


def test_keys_trust_is_idempotent_and_refuses_a_second_key_under_one_name(
    tisi_key: Path, tmp_path: Path, etda: Path, tisiwatch: Tisiwatch
) -> None:
    assert tisiwatch(etda, "keys", "trust", str(tisi_key), "--name", "TISI").exit_code == 0
    result = tisiwatch(etda, "keys", "trust", str(tisi_key), "--name", "other name")
    assert result.exit_code == 0
    assert result.output.startswith("already trusted as TISI")
    other = tmp_path / "other.pem"
    other.write_bytes(public_pem(OTHER.public_key()))
    result = tisiwatch(etda, "keys", "trust", str(other), "--name", "tisi")
    assert result.exit_code == 1
    assert "a key named TISI is trusted already" in result.output
    result = tisiwatch(etda, "keys", "trust", str(other), "--name", "TISI-2", "--fingerprint", "ab" * 32)
    assert result.exit_code == 1
    assert f"the key's fingerprint is {fingerprint(OTHER.public_key())}, not that one" in result.output
    given = fingerprint(OTHER.public_key()).upper()
    assert (
        tisiwatch(etda, "keys", "trust", str(other), "--name", "TISI-2", "--fingerprint", given).exit_code
        == 0
    )
    for bad in ["", "two\nlines", "bidi \u202e", "x" * 65, "This Installation"]:
        result = tisiwatch(etda, "keys", "trust", str(other), "--name", bad)
        assert result.exit_code == 1
        assert "--name: " in result.output
    assert [key.name for key in read_trusted(etda / "keys" / "trusted-keys.pem")] == ["TISI", "TISI-2"]


def test_keys_list_and_show(
    case_file: Path, tisi_key: Path, settings: Settings, etda: Path, tisiwatch: Tisiwatch
) -> None:
    result = tisiwatch(etda, "keys", "list")
    assert result.exit_code == 0
    assert "no trusted keys: verify cannot check who signed a case file" in result.output
    tisiwatch(etda, "keys", "trust", str(tisi_key), "--name", "สมอ. [bold]TISI[/bold]")
    result = tisiwatch(etda, "keys", "list")
    assert "สมอ. [bold]TISI[/bold]" in result.output  # a name is text, not Rich markup
    assert fingerprint(load_public(tisi_key.read_bytes())) in result.output

    result = tisiwatch(settings.data_dir, "keys", "show")
    assert result.exit_code == 0
    assert f"this installation's case-file public key: {tisi_key}" in result.output
    assert f"fingerprint (SHA-256): {fingerprint(load_public(tisi_key.read_bytes()))}" in result.output
    assert tisi_key.read_text().strip() in result.output
    result = tisiwatch(settings.data_dir, "keys", "list")
    assert THIS_INSTALLATION in result.output

    result = tisiwatch(etda, "keys", "show")
    assert result.exit_code == 1
    assert "this installation has no case-file key yet" in result.output
    result = tisiwatch(etda, "keys", "show", "--create")
    assert result.exit_code == 0, result.output
    assert (etda / KEY_DIR / PRIVATE_KEY).stat().st_mode & 0o077 == 0


def test_export_says_where_the_public_key_is(
    sqlite_store: Store, settings: Settings, tmp_path: Path, tisiwatch: Tisiwatch
) -> None:
    scenario(sqlite_store, settings.data_dir)
    result = tisiwatch(
        settings.data_dir,
        "--database-url",
        sqlite_store.url,
        "export",
        "cases",
        "--out",
        str(tmp_path / "c.zip"),
    )
    assert result.exit_code == 0, result.output
    key = settings.data_dir / KEY_DIR / PUBLIC_KEY
    assert f"public key to hand to ETDA: {key}" in result.output
    assert f"signing key fingerprint (SHA-256): {fingerprint(load_public(key.read_bytes()))}" in result.output


def test_the_trusted_keys_file_is_read_strictly(tisi_key: Path, tmp_path: Path) -> None:
    path = tmp_path / "trusted.pem"
    key = load_public(tisi_key.read_bytes())
    trust(path, key, "TISI")
    assert path.stat().st_mode & 0o777 == 0o644
    text = path.read_text()
    assert text.startswith(f"# name: TISI\n# fingerprint: {fingerprint(key)}\n# added: ")
    path.write_text(
        "# ETDA's trusted senders, kept by hand\n\n"
        + text.replace("# name: TISI", "# name: TISI (main office)")
    )
    assert [known.name for known in read_trusted(path)] == ["TISI (main office)"]
    cases = {
        text.replace(f"# fingerprint: {fingerprint(key)}", "# fingerprint: " + "0" * 64): (
            "trusted.pem:4: the fingerprint written for TISI is not that of its key"
        ),
        text.replace("# name: TISI\n", ""): "trusted.pem:3: a key without a '# name:' line before it",
        text + text: "trusted.pem:10: a second key named TISI",
        text + "stray words\n": "trusted.pem:7: not a comment, a blank line or part of a public key",
        text.replace("-----END PUBLIC KEY-----\n", ""): "trusted.pem:4: a public key without its END line",
    }
    for content, message in cases.items():
        path.write_text(content)
        with pytest.raises(TrustError) as caught:
            read_trusted(path)
        assert str(caught.value) == message
    path.write_text(text)
    path.chmod(0o664)
    with pytest.raises(TrustError, match="others can write it"):
        read_trusted(path)


def test_the_trusted_keys_file_comes_from_the_settings(
    case_file: Path, tisi_key: Path, tmp_path: Path, etda: Path, tisiwatch: Tisiwatch
) -> None:
    elsewhere = tmp_path / "etda-keys.pem"
    trust(elsewhere, load_public(tisi_key.read_bytes()), "TISI")
    assert tisiwatch(etda, "verify", str(case_file)).exit_code == 3
    assert tisiwatch(etda, "verify", str(case_file), "--trusted-keys", str(elsewhere)).exit_code == 0
    settings = load_settings(
        overrides={"data_dir": str(etda)}, environ={"TISIWATCH_VERIFY_TRUSTED_KEYS": str(elsewhere)}
    )
    assert [key.name for key in trusted_keys(settings)] == ["TISI"]
    (etda / "keys").mkdir(parents=True)
    elsewhere.rename(etda / "keys" / "trusted-keys.pem")
    assert tisiwatch(etda, "verify", str(case_file)).exit_code == 0
    result = tisiwatch(etda, "verify", str(case_file), "--trusted-keys", str(elsewhere))
    assert result.exit_code == 2
    assert "trusted keys: etda-keys.pem: cannot be read (No such file or directory)" in result.output


def test_names_from_the_archive_are_shown_escaped(
    case_file: Path, tisi_key: Path, etda: Path, tisiwatch: Tisiwatch
) -> None:
    hostile = case_file.with_name("cases\u202egpj.zip")
    hostile.write_bytes(case_file.read_bytes())
    result = tisiwatch(etda, "verify", str(hostile))
    assert result.exit_code == 3
    assert "\u202e" not in result.output
    assert "cases\\u202egpj.zip" in result.output
