"""Sessions: a profile's headers, a Netscape cookie file and a persistent Chromium profile; secrets kept
private (0600/0700) and out of the WARC evidence."""

from __future__ import annotations

import gzip
import stat
from pathlib import Path

import pytest

from config import Settings
from crawler.profile import ProfileError, SiteProfile, parse_profile
from crawler.runner import crawl
from crawler.session import private_cookie_file, private_dir, redacted
from store.db import Store
from tests.crawler.pageserver import PageServer, product_page

SECRET = "s3cr3t-session-value"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _profile(server: PageServer, kind: str = "html", **session: object) -> SiteProfile:
    data: dict[str, object] = {
        "name": "signed-in",
        "kind": kind,
        "base_url": server.base_url,
        "discovery": {"urls": ["/product/1"], "id_from_url": "/product/([^/?#]+)$"},
        "session": session,
        "politeness": {"obey_robots": False},
    }
    if kind == "browser":
        data["browser"] = {"wait_for": "h1", "timeout_s": 10}
    return SiteProfile.model_validate(data)


@pytest.mark.parametrize(
    ("session", "problem"),
    [
        ('headers = { "Accept Language" = "th" }', "is not a header name"),
        ('headers = { "X-A" = "th\\r\\nX-Evil: 1" }', "line break"),
        ('headers = { "Cookie" = "a=b" }', "use cookie_file"),
        ('cookie_file = "/home/me/cookies.txt"', "inside the data directory"),
        ('cookie_file = "../cookies.txt"', "inside the data directory"),
        ('browser_profile = "secrets/chromium"', "only a browser profile"),
        ("", "needs headers, cookie_file or browser_profile"),
    ],
)
def test_a_bad_session_is_refused_on_load(session: str, problem: str) -> None:
    text = f'kind = "html"\nbase_url = "https://shop.example"\n[discovery]\nurls = ["/p/1"]\n[session]\n{session}\n'
    with pytest.raises(ProfileError, match=problem) as caught:
        parse_profile(text, "myshop")
    assert str(caught.value).startswith("myshop: ")
    assert "session" in str(caught.value)


def test_browser_profile_and_cookie_file_not_both() -> None:
    text = (
        'kind = "browser"\nbase_url = "https://shop.example"\n[discovery]\nurls = ["/p/1"]\n'
        '[browser]\nwait_for = "h1"\n[session]\ncookie_file = "a.txt"\nbrowser_profile = "b"\n'
    )
    with pytest.raises(ProfileError, match="not both"):
        parse_profile(text, "myshop")


def test_secrets_are_created_private_and_tightened(tmp_path: Path) -> None:
    cookies = private_cookie_file(tmp_path / "secrets" / "shop.cookies.txt")
    assert (_mode(cookies), _mode(cookies.parent)) == (0o600, 0o700)
    assert cookies.read_text(encoding="utf-8").startswith("# Netscape HTTP Cookie File")
    cookies.chmod(0o644)
    cookies.parent.chmod(0o755)
    private_cookie_file(cookies)
    assert (_mode(cookies), _mode(cookies.parent)) == (0o600, 0o700)
    browser = private_dir(tmp_path / "secrets" / "chromium")
    assert _mode(browser) == 0o700


def test_redaction_keeps_cookie_names_not_values() -> None:
    headers = [("Cookie", f"SPC_EC={SECRET}; csrftoken=abc"), ("Authorization", f"Bearer {SECRET}"),
               ("Set-Cookie", f"SPC_EC={SECRET}; Path=/; HttpOnly"), ("Accept", "text/html")]  # fmt: skip
    assert redacted(headers) == [
        ("Cookie", "SPC_EC=[redacted]; csrftoken=[redacted]"),
        ("Authorization", "[redacted]"),
        ("Set-Cookie", "SPC_EC=[redacted]"),
        ("Accept", "text/html"),
    ]


def _cookie_file(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(
        "# Netscape HTTP Cookie File\n" + "".join(line + "\n" for line in lines), encoding="utf-8"
    )
    path.chmod(0o644)  # as a browser extension's download often is: tisiwatch tightens it


def test_cookies_and_headers_are_sent_and_kept_out_of_the_warc(
    page_server: PageServer, crawl_settings: Settings, store: Store
) -> None:
    page_server.serve("/product/1", product_page({"name": "พาวเวอร์แบงค์", "sku": "1"}),
                      headers={"Set-Cookie": f"fresh={SECRET}; Path=/"})  # fmt: skip
    cookies = crawl_settings.data_dir / "secrets" / "shop.cookies.txt"
    _cookie_file(cookies, [
        f"127.0.0.1\tFALSE\t/\tFALSE\t0\tSPC_EC\t{SECRET}",             # a session cookie of this host
        "127.0.0.1\tFALSE\t/\tFALSE\t4102444800\tlang\tth",             # expires in 2100
        "127.0.0.1\tFALSE\t/\tFALSE\t1000000000\tstale\tgone",          # expired in 2001
        f".other.example\tTRUE\t/\tFALSE\t0\tforeign\t{SECRET}",        # another site's
    ])  # fmt: skip
    profile = _profile(page_server, headers={"Accept-Language": "th-TH,th;q=0.9", "X-Shop-Client": "tisiwatch"},
                       cookie_file="secrets/shop.cookies.txt")  # fmt: skip
    [result] = crawl(crawl_settings, [profile], store=store)
    assert result.status == "finished", result
    [(target, sent)] = page_server.received
    assert target == "/product/1"
    assert sent["accept-language"] == "th-TH,th;q=0.9"
    assert sent["x-shop-client"] == "tisiwatch"
    assert sorted(sent["cookie"].split("; ")) == sorted([f"SPC_EC={SECRET}", "lang=th"])
    assert _mode(cookies) == 0o600
    [warc] = (crawl_settings.data_dir / "evidence").rglob("*.warc.gz")
    archived = gzip.decompress(warc.read_bytes())
    assert b"SPC_EC=[redacted]" in archived
    assert b"fresh=[redacted]" in archived
    assert SECRET.encode() not in archived


@pytest.mark.browser
def test_a_persistent_browser_profile_keeps_its_cookies_between_crawls(
    page_server: PageServer, crawl_settings: Settings, store: Store
) -> None:
    page = product_page({"name": "หมวกกันน็อค", "sku": "1"}, body="<h1>หมวกกันน็อค</h1>")
    page_server.serve(
        "/product/1", page, headers={"Set-Cookie": "signed_in=analyst-1; Path=/; Max-Age=86400"}
    )
    profile = _profile(page_server, "browser", browser_profile="secrets/chromium",
                       headers={"Accept-Language": "th-TH"})  # fmt: skip
    [first] = crawl(crawl_settings, [profile], store=store)
    assert first.status == "finished", first
    user_data = crawl_settings.data_dir / "secrets" / "chromium"
    assert _mode(user_data) == 0o700
    assert any(user_data.iterdir()), "Chromium wrote its profile"
    assert "signed_in" not in page_server.received[0][1].get("cookie", "")
    [second] = crawl(crawl_settings, [profile], store=store)
    assert second.status == "finished", second
    navigations = [sent for target, sent in page_server.received if target == "/product/1"]
    assert "signed_in=analyst-1" in navigations[-1].get("cookie", "")
    assert navigations[-1]["accept-language"] == "th-TH"


def _login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    import cli

    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "myshop.toml").write_text(profile, encoding="utf-8")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("TISIWATCH_CRAWL_PROFILES_DIR", str(profiles))
    monkeypatch.setenv("TISIWATCH_DATA_DIR", str(tmp_path / "data"))
    done = CliRunner().invoke(cli.app, ["login", "myshop"])
    return done.exit_code, done.output


BROWSER = 'kind = "browser"\nbase_url = "https://shop.example"\n[discovery]\nurls = ["/p/1"]\n[browser]\nwait_for = "h1"\n'


def test_login_needs_a_browser_profile_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, said = _login(tmp_path, monkeypatch, BROWSER)
    assert code == 1
    assert "no [session] browser_profile" in said


def test_login_without_a_display_says_how_to_sign_in_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, said = _login(tmp_path, monkeypatch, BROWSER + '[session]\nbrowser_profile = "secrets/chromium"\n')
    assert code == 1
    assert "no display" in said
    assert not (tmp_path / "data" / "secrets").exists()
