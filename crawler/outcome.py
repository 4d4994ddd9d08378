"""How a crawl ended: what kind of failure each failed URL met, and whether the run as a whole failed.

A request's final failure has a *kind* (:func:`failure_kind`): a network error (connection refused,
DNS, time-out, TLS, connection lost), ``http_<status>``, ``robots``, and so on; ``error`` is the
kind of an exception nobody expected — a bug, which must show. Each worker counts its failed URLs by
kind (``stats["failures"]``) and keeps where each kind first struck (``stats["failed_at"]``).

A run the site blocked (``crawler.throttle``) is closed ``blocked``, with the reason in one line.
A run whose crawl ended well (finish reason ``finished``…) has still *failed* when nothing came back:
nothing stored, and no response at all or every URL failed with no page answering 2xx (the site is
down, refuses us, or forbids crawling). :func:`judged` decides it when the run is closed, and
gives the reason in one line, e.g. "connection refused at http://127.0.0.1:1: is the site up?".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from twisted.internet import error as tx
from twisted.web.client import ResponseFailed

from core.runstats import RunStats
from core.text import escaped
from crawler.blocking import BlockedPage

TLS_MARKS = ("SSL", "TLS", "certificate", "ERR_CERT_")
KINDS: dict[str, tuple[tuple[type[BaseException], ...], tuple[str, ...]]] = {
    # kind: (exception types, marks in the message — Chromium's net::ERR_… codes among them)
    "connection_refused": ((DownloadConnectionRefusedError, tx.ConnectionRefusedError), ("ERR_CONNECTION_REFUSED",)),
    "dns": ((CannotResolveHostError, tx.DNSLookupError), ("ERR_NAME_NOT_RESOLVED",)),
    "timeout": ((DownloadTimeoutError, tx.TimeoutError, tx.TCPTimedOutError), ("ERR_TIMED_OUT",)),
    "connection_lost": (
        (DownloadFailedError, ResponseDataLossError, ResponseFailed, tx.ConnectionLost, tx.ConnectionDone,
         tx.ConnectError),
        ("ERR_CONNECTION_", "ERR_EMPTY_RESPONSE"),
    ),
    "cancelled": ((DownloadCancelledError,), ("ERR_ABORTED",)),
    "network": ((), ("net::ERR_",)),
}  # fmt: skip
"""Expected network failures by exception type (or, from the browser, by Chromium's error code),
tried in this order; a TLS failure arrives as a failed download whose message names SSL."""

SENTENCES = {
    "connection_refused": "connection refused at {origin}: is the site up?",
    "dns": "DNS lookup failed for {host}: is the address right?",
    "timeout": "timed out at {origin}: the site did not answer in time",
    "tls": "TLS failed at {origin}: is its certificate valid?",
    "connection_lost": "the connection to {origin} was lost",
    "cancelled": "downloads were cancelled at {origin} (too large?)",
    "network": "network error at {origin}",
    "robots": "robots.txt forbids every request at {origin}",
    "redirect_loop": "every request ended in a redirect loop at {origin}",
    "ignored": "every request was refused at {origin}",
    "blocked": "every page asked for was a challenge page at {origin}",
    "not_found": "every listing asked for is gone or never existed at {origin} (HTTP 404/410)",
    "content": "no page could be read at {origin}",
    "invalid": "no listing could be stored from {origin}",
    "error": "unexpected errors at {origin} (see the run's log)",
}
LABELS = {
    "connection_refused": "connection refused",
    "dns": "DNS lookup failed",
    "timeout": "timed out",
    "tls": "TLS failed",
    "connection_lost": "connection lost",
    "cancelled": "download cancelled",
    "network": "network error",
    "robots": "forbidden by robots.txt",
    "redirect_loop": "redirect loop",
    "ignored": "request refused",
    "blocked": "challenge page",
    "not_found": "not found (404/410)",
    "content": "page not readable",
    "invalid": "listing not storable",
    "error": "unexpected error",
}
NOTHING_TO_REQUEST = "nothing was fetched: the crawl had nothing to request"


def failure_kind(error: BaseException) -> str:
    """The kind of a request's final failure; ``error`` when it is not one a crawl expects (a bug)."""
    response = getattr(error, "response", None)
    status = getattr(response, "status", None)
    if isinstance(error, BlockedPage):
        return "blocked"
    if isinstance(error, IgnoreRequest):
        if isinstance(status, int):  # HttpError: the site answered with an error status
            return f"http_{status}"
        text = str(error)
        return "robots" if "robots.txt" in text else "redirect_loop" if "redirect loop" in text else "ignored"
    text = f"{type(error).__name__}: {error}"
    from_browser = type(error).__module__.startswith("playwright")
    if (from_browser or isinstance(error, DownloadFailedError | ResponseFailed)) and any(
        mark in text for mark in TLS_MARKS
    ):
        return "tls"
    if from_browser and type(error).__name__ == "TimeoutError":
        return "timeout"
    for kind, (types, marks) in KINDS.items():
        if isinstance(error, types) or (from_browser and any(mark in text for mark in marks)):
            return kind
    return "error"


def is_expected(error: BaseException) -> bool:
    """Whether ``error`` is a failure a crawl expects (network, HTTP, robots.txt), not a bug."""
    return failure_kind(error) != "error"


def label(kind: str) -> str:
    """A kind of failure in words: "connection refused", "HTTP 403"."""
    if kind.startswith("http_"):
        return f"HTTP {kind[5:]}"
    return LABELS.get(kind, kind)


def origin(url: str) -> str:
    """Where a URL is: its scheme and host, printable."""
    parts = urlsplit(url)
    return escaped(f"{parts.scheme}://{parts.netloc}" if parts.netloc else url[:100])


def judged(status: str, stats: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The status a run is closed with, and its stats, with ``stats["reason"]`` when it failed.

    A run that ended well has failed all the same when it stored nothing and either no response
    came back or some URLs failed and no page answered 2xx. A run that ended badly says how.
    """
    closing = dict(stats)
    if status == "finished":
        run = RunStats.from_json(stats)
        nothing_back = not run.pages
        all_failed = bool(run.failed_urls) and not run.answered
        if not run.items and not run.gone and (nothing_back or all_failed):
            return "failed", {**closing, "reason": why(stats)}
    elif status == "blocked":
        closing["reason"] = blocked_reason(closing)
    elif status == "failed" and not closing.get("reason"):
        closing["reason"] = str(closing.get("error") or f"the crawl ended: {closing.get('finish_reason')}")
    return status, closing


def blocked_reason(stats: Mapping[str, Any]) -> str:
    """One line on a blocked run: what the site answered, for how long, and what was left."""
    blocked = stats.get("blocked") or {}
    what = escaped(str(blocked.get("why") or "block signals"))[:200]
    left = int(blocked.get("left") or 0)
    return (
        f"the site blocked the crawl: {what}, for {float(blocked.get('for_s') or 0):.0f} s at one request "
        f"per {float(blocked.get('delay_s') or 0):.0f} s; {left} request{'s' if left != 1 else ''} left for "
        "the next run"
    )


def why(stats: Mapping[str, Any]) -> str:
    """One line on why nothing came back: the most common kind of failure, and where."""
    failures = Counter({str(k): int(v) for k, v in (stats.get("failures") or {}).items()})
    if not failures:
        return NOTHING_TO_REQUEST if not RunStats.from_json(stats).pages else "every request failed"
    (kind, count), total = failures.most_common(1)[0], sum(failures.values())
    place = str((stats.get("failed_at") or {}).get(kind) or "the site")
    host = urlsplit(place).hostname or place
    if kind.startswith("http_"):
        sentence = f"every request answered HTTP {kind[5:]} at {place}"
    else:
        sentence = SENTENCES.get(kind, f"{label(kind)} at {{origin}}").format(origin=place, host=host)
    others = total - count
    return f"{sentence} (and {others} other failed URL{'s' if others > 1 else ''})" if others else sentence


def run_notes(stats: Mapping[str, Any], data_dir: Path) -> list[str]:
    """What ``tisiwatch runs --run N`` adds about a run: why it failed, its failures by kind, its logs."""
    notes = [f"why: {stats['reason']}"] if stats.get("reason") else []
    throttle = stats.get("throttle") or {}
    if throttle.get("signals"):
        notes.append(
            f"429/503 or block signals: {int(throttle['signals'])}; the site slowed down "
            f"{int(throttle.get('rounds') or 0)} times (delay up to {float(throttle.get('max_delay_s') or 0):.2f} s); "
            f"{int(throttle.get('rescheduled') or 0)} requests put back to wait"
        )
    failures = Counter({str(k): int(v) for k, v in (stats.get("failures") or {}).items()})
    if failures:
        counts = ", ".join(f"{label(kind)}: {count}" for kind, count in failures.most_common())
        notes.append(f"failed URLs by kind: {counts}")
    for name, entry in sorted((stats.get("workers") or {}).items()):
        if isinstance(entry, Mapping) and entry.get("log"):
            notes.append(f"log of {name}: {data_dir / str(entry['log'])}")
    return notes
