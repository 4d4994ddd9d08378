"""Signing in once: a headed Chromium on a browser profile's own user-data directory.

The analyst signs in to the marketplace by hand (tisiwatch never types a password nor solves a
challenge); closing the window keeps the session in the directory, and every later crawl of the
profile opens the same directory headless (``crawler.session``).
"""

from __future__ import annotations

import os
from pathlib import Path

from crawler.profile import SiteProfile
from crawler.session import SessionError, private_dir
from crawler.spiders.browser import CHROMIUM, CHROMIUM_ARGS


def sign_in(profile: SiteProfile, data_dir: Path) -> Path:
    """Open the site in a headed Chromium on the profile's directory; return once the window is closed."""
    session = profile.session
    if session is None or not session.browser_profile:
        raise SessionError(f"{profile.name}: the profile has no [session] browser_profile to sign in with")
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise SessionError(
            "no display to open a browser window on: sign in on a machine with one and copy the "
            "directory over (docs/sites.md, 'Sessions')"
        )
    from playwright.sync_api import sync_playwright

    user_data = private_dir(data_dir / session.browser_profile)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(user_data), executable_path=CHROMIUM, headless=False, args=CHROMIUM_ARGS
        )
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(profile.base_url)
        context.wait_for_event("close", timeout=0)
    return user_data
