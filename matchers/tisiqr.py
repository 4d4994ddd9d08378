"""QR codes of product pictures: TISI's licence QR, and links posing as it that lead elsewhere.

Only the exact record URL of TISI's licence service (``https://appdb.tisi.go.th/Q/i.php?d=<10 digits>``)
is a TISI QR code; fake QR codes that lead elsewhere have been found on products.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

_TISI_QR = re.compile(r"https://appdb\.tisi\.go\.th/Q/i\.php\?d=(\d{10})")
_TISI_HOST = "tisi.go.th"
# what a QR posing as TISI's shows: TISI's name, or the path of its licence QR
_LOOKS_TISI = re.compile(r"tisi|/q/i\.php", re.IGNORECASE)
_BARE_LINK = re.compile(r"[\w.-]+\.[a-z]{2,}(?:[/:?#]|$)", re.IGNORECASE)  # a link without its scheme


def tisi_qr_url(record_id: str) -> str:
    """The TISI page a licence-record id from a QR code names."""
    return f"https://appdb.tisi.go.th/Q/i.php?d={record_id}"


def tisi_record_ids(payloads: Iterable[str]) -> tuple[str, ...]:
    """The record ids of the payloads that are exactly a TISI licence QR URL (others are not trusted)."""
    found = (_TISI_QR.fullmatch(payload.strip()) for payload in payloads)
    return tuple(dict.fromkeys(match[1] for match in found if match))


def qr_not_tisi(payloads: Iterable[str]) -> tuple[str, ...]:
    """The payloads that pose as a TISI QR code but lead elsewhere: a link that names TISI or has its
    licence QR's path (``/Q/i.php``) on another host (``appdb.tisi.go.th.evil.example``,
    ``appdb.tisi.go.th@evil.example``) or over plain ``http``. A link to TISI's own ``https`` host is not
    one (only its record URL is a TISI QR, see :func:`tisi_record_ids`), nor a link that does not pose
    as TISI's (a shop's page)."""
    posing = []
    for payload in payloads:
        link = payload.strip()
        if not _LOOKS_TISI.search(link) or ("://" not in link and not _BARE_LINK.match(link)):
            continue  # not posing as TISI's, or no link at all
        try:
            parts = urlsplit(link if "://" in link else f"//{link}")
            host = (parts.hostname or "").rstrip(".")
        except ValueError:  # a malformed link (bad port, brackets) leads nowhere that is TISI's
            parts, host = None, ""
        own = host == _TISI_HOST or host.endswith(f".{_TISI_HOST}")
        if not (parts is not None and parts.scheme.lower() == "https" and own):
            posing.append(link)
    return tuple(dict.fromkeys(posing))
