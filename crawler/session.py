"""Sessions: a profile's own request headers, a cookie file, and a persistent browser profile.

A signed-in session is a secret. The cookie file (Netscape ``cookies.txt``, what browser extensions
export) and the browser profile directory live under the data directory; tisiwatch creates what is
missing private (file 0600, directory 0700) and tightens what it finds readable by others, saying so
in the log. Their values never reach evidence: :func:`redacted` blanks ``Cookie``, ``Authorization``
and ``Set-Cookie`` values before a WARC record is written, so case files (made from the WARC) carry
none either.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterable
from http.cookiejar import Cookie, LoadError, MozillaCookieJar
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

logger = logging.getLogger("tisiwatch.session")

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
"""An HTTP header name (RFC 9110 token)."""
SECRET_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization", "set-cookie"})
REDACTED = "[redacted]"
NETSCAPE_HEADER = "# Netscape HTTP Cookie File\n"


class SessionError(ValueError):
    """A session's secret file or directory cannot be used (names the path, never its content)."""


class Session(BaseModel):
    """A profile's ``[session]``: headers sent with every request, a cookie file, a browser profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    headers: dict[str, str] = {}
    cookie_file: str = ""
    """Netscape cookies.txt, relative to the data directory."""
    browser_profile: str = ""
    """A persistent Chromium user-data directory, relative to the data directory (browser profiles)."""

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _TOKEN.match(name):
                raise ValueError(f"{name!r} is not a header name")
            if name.lower() in SECRET_HEADERS:
                raise ValueError(f"{name}: a secret does not belong in a profile; use cookie_file")
            if any(char in text for char in "\r\n\0"):
                raise ValueError(f"{name}: a header value cannot hold a line break or NUL")
        return value

    @field_validator("cookie_file", "browser_profile")
    @classmethod
    def _relative(cls, value: str) -> str:
        path = PurePosixPath(value)
        if value and (path.is_absolute() or ".." in path.parts or "\\" in value):
            raise ValueError("must be a path inside the data directory (relative, without '..')")
        return value

    @model_validator(mode="after")
    def _something(self) -> Session:
        if not (self.headers or self.cookie_file or self.browser_profile):
            raise ValueError("needs headers, cookie_file or browser_profile")
        return self


def check_kind(session: Session, kind: str) -> None:
    """A browser profile directory is for browser sites; it keeps its own cookies, so not both."""
    if session.browser_profile and kind != "browser":
        raise ValueError("session.browser_profile: only a browser profile renders in Chromium")
    if session.browser_profile and session.cookie_file:
        raise ValueError(
            "session: give cookie_file or browser_profile, not both (the browser keeps its cookies)"
        )


def _private(path: Path, mode: int) -> None:
    """Tighten ``path`` to ``mode`` if others may read it (and say so)."""
    current = stat.S_IMODE(path.stat().st_mode)
    if current & 0o077:
        try:
            path.chmod(mode)
        except OSError as exc:
            raise SessionError(
                f"{path}: readable by others (mode {current:o}) and cannot be tightened"
            ) from exc
        logger.warning("%s was readable by others (mode %o): tightened to %o", path, current, mode)


def private_dir(path: Path) -> Path:
    """``path`` as a private directory (0700), created when missing, tightened when too open."""
    if path.exists() and not path.is_dir():
        raise SessionError(f"{path}: not a directory")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _private(path, 0o700)
    return path


def private_cookie_file(path: Path) -> Path:
    """``path`` as a private file (0600); a missing one is created empty, ready for an export."""
    private_dir(path.parent)
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(NETSCAPE_HEADER)
        logger.warning("%s did not exist: created empty (0600); export the site's cookies into it", path)
    elif not path.is_file():
        raise SessionError(f"{path}: not a file")
    _private(path, 0o600)
    return path


def read_cookie_file(path: Path) -> list[Cookie]:
    """The unexpired cookies of a Netscape cookies.txt (session cookies included), by the standard
    library's parser; a file it cannot read is an error that names the file, not its content."""
    jar = MozillaCookieJar(str(path))
    try:
        jar.load(ignore_discard=True, ignore_expires=True)
    except (LoadError, OSError, UnicodeDecodeError) as exc:
        raise SessionError(f"{path}: not a Netscape cookies.txt file ({type(exc).__name__})") from None
    # an expiry of 0 is how curl, wget and browser extensions write a session cookie
    return [cookie for cookie in jar if not cookie.expires or not cookie.is_expired()]


def check_ready(data_dir: Path, session: Session, kind: str) -> None:
    """Make the session's secret paths private and read its cookie file, as the crawl will: a
    problem (a cookie file that is not one, a path that is not a directory) is then the site's,
    named before its crawl starts, and the other sites are crawled."""
    if session.cookie_file:
        read_cookie_file(private_cookie_file(data_dir / session.cookie_file))
    if session.browser_profile and kind == "browser":
        private_dir(data_dir / session.browser_profile)


def redacted(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers with the values of secrets blanked: cookies keep their names, never their values."""
    kept = []
    for name, value in headers:
        lowered = name.lower()
        if lowered in ("cookie", "set-cookie"):
            names = [
                part.split("=", 1)[0].strip() for part in value.split(";" if lowered == "cookie" else "\0")
            ]
            value = "; ".join(f"{cookie}={REDACTED}" for cookie in names if cookie)
        elif lowered in SECRET_HEADERS:
            value = REDACTED
        kept.append((name, value))
    return kept


def session_settings(
    data_dir: Path, session: Session, kind: str, user_agent: str, scheme: str = "https"
) -> dict[str, Any]:
    """The Scrapy settings of a profile's session; makes its secret paths private first. With a
    browser profile directory only the site's own ``scheme`` goes through Chromium: Scrapy has a
    download handler per scheme, and two browsers cannot open one profile directory at once."""
    from scrapy.settings.default_settings import DEFAULT_REQUEST_HEADERS, DOWNLOAD_HANDLERS_BASE

    composed: dict[str, Any] = {"DEFAULT_REQUEST_HEADERS": {**DEFAULT_REQUEST_HEADERS, **session.headers}}
    if session.cookie_file:
        composed["TISIWATCH_COOKIE_FILE"] = str(private_cookie_file(data_dir / session.cookie_file))
        composed["DOWNLOADER_MIDDLEWARES"] = {"crawler.cookies.CookieFileMiddleware": 690}
    if session.browser_profile and kind == "browser":
        from crawler.spiders.browser import CHROMIUM, CHROMIUM_ARGS

        user_data = private_dir(data_dir / session.browser_profile)
        composed["PLAYWRIGHT_CONTEXTS"] = {
            "default": {
                "user_data_dir": str(user_data),
                "executable_path": CHROMIUM,
                "headless": True,
                "args": CHROMIUM_ARGS,
                "user_agent": user_agent,
                "extra_http_headers": dict(session.headers),
            }
        }
        # the browser sends its own cookies and headers (the profile's as extra headers): Scrapy's
        # would replace them on navigation, and the signed-in cookies with them
        composed["PLAYWRIGHT_PROCESS_REQUEST_HEADERS"] = None
        other = "http" if scheme == "https" else "https"
        composed["DOWNLOAD_HANDLERS"] = {other: DOWNLOAD_HANDLERS_BASE[other]}
    return composed
