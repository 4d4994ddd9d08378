from __future__ import annotations

from pathlib import Path

import pytest

from crawler.profile import ProfileError, available_profiles, load_profile, parse_profile

GOOD = """
kind = "html"
base_url = "https://shop.example"
[discovery]
search_url = "/search?q={query}"
listing_links = "a.item::attr(href)"
"""


def test_the_shipped_profiles_load() -> None:
    assert {"demo-html", "demo-api", "demo-browser", "demo-token"} <= set(available_profiles())
    for name in ("demo-html", "demo-api", "demo-browser", "demo-token"):
        assert load_profile(name).name == name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD.replace('kind = "html"', 'kind = "ftp"'),
            "myshop: kind: Input should be 'html', 'api' or 'browser'",
        ),
        (GOOD.replace("{query}", "{q}"), "myshop: discovery.search_url: Value error, must contain {query}"),
        (
            GOOD.replace("https://shop.example", "shop.example"),
            "myshop: base_url: Value error, must be an absolute",
        ),
        (GOOD + "colour = 1\n", "myshop: discovery.colour: unknown key"),
        (GOOD + "[politeness]\nconcurrency = 0\n", "myshop: politeness.concurrency: Input should be greater"),
        (
            'kind = "html"\nbase_url = "https://x.example"\n',
            "discovery: needs search_url, categories, sitemap or urls",
        ),
        (GOOD.replace('kind = "html"', 'kind = "browser"'), "browser.wait_for: a browser profile must say"),
        ("kind = [", "myshop: not valid TOML"),
        (GOOD + '[fields]\ntittle = "h1::text"\n', "myshop: fields: Value error, unknown field tittle"),
    ],
)
def test_a_bad_profile_is_refused_naming_profile_key_and_problem(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, "myshop")
    assert message in str(caught.value)


def test_profiles_in_the_analyst_directory_come_first(tmp_path: Path) -> None:
    (tmp_path / "myshop.toml").write_text(GOOD, encoding="utf-8")
    assert load_profile("myshop", tmp_path).base_url == "https://shop.example"
    with pytest.raises(ProfileError, match="no such site profile"):
        load_profile("myshop")
    with pytest.raises(ProfileError, match="not a profile name"):
        load_profile("../etc/passwd", tmp_path)


def test_with_base_url_moves_the_allowed_domain() -> None:
    profile = parse_profile(GOOD, "myshop").with_base_url("http://127.0.0.2:9000/")
    assert profile.base_url == "http://127.0.0.2:9000"
    assert profile.domains() == ["127.0.0.2"]
    assert profile.url("/search?q=x") == "http://127.0.0.2:9000/search?q=x"
