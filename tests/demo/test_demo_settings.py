"""`tisiwatch demo` runs with the user's settings (here given by --config): only its data directory and
database are its own. Its report judges the crawl-health alerts by the user's thresholds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import cli
import reports.daily
from config import load_settings
from demo.run import demo_settings

USER_SETTINGS = """\
data_dir = "elsewhere"

[database]
url = "sqlite:///not-the-demo.db"
busy_timeout_ms = 12345

[report]
timezone = "Asia/Tokyo"

[alerts]
coverage_drop_share = 0.5
error_spike_factor = 7.0
min_error_rate = 0.25
"""


@pytest.fixture
def user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A settings file that is found only by --config: none in the working directory, none in the
    environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TISIWATCH_CONFIG", raising=False)
    path = tmp_path / "user" / "mine.toml"
    path.parent.mkdir()
    path.write_text(USER_SETTINGS, encoding="utf-8")
    return path


def test_the_demo_keeps_the_users_settings_but_its_own_data_directory_and_database(
    user_config: Path, tmp_path: Path
) -> None:
    user = load_settings(user_config, environ={})
    workdir = tmp_path / "demo"
    settings = demo_settings(workdir, user)
    assert settings.alerts == user.alerts
    assert settings.alerts.error_spike_factor == 7.0
    assert settings.report.timezone == "Asia/Tokyo"
    assert settings.database.busy_timeout_ms == 12345
    assert settings.data_dir == workdir
    assert settings.database_url == f"sqlite:///{workdir / 'tisiwatch.db'}"


@pytest.mark.browser
@pytest.mark.slow
def test_tisiwatch_demo_reports_with_the_alert_thresholds_of_the_config_it_is_given(
    user_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    judged_with: list[Any] = []
    real = reports.daily.crawl_alerts

    def crawl_alerts(session: Any, day: Any, settings: Any) -> Any:
        judged_with.append(settings.alerts)
        return real(session, day, settings)

    monkeypatch.setattr(reports.daily, "crawl_alerts", crawl_alerts)
    monkeypatch.setattr(cli, "state", cli.State())
    workdir = tmp_path / "demo"
    done = CliRunner().invoke(
        cli.app, ["--config", str(user_config), "demo", "--workdir", str(workdir), "--size", "4"]
    )
    assert done.exit_code == 0, done.output
    [alerts] = judged_with
    assert (alerts.coverage_drop_share, alerts.error_spike_factor, alerts.min_error_rate) == (0.5, 7.0, 0.25)
    findings = json.loads((workdir / "report" / "findings.json").read_text(encoding="utf-8"))
    assert findings["timezone"] == "Asia/Tokyo"
    assert (workdir / "tisiwatch.db").is_file()
    assert not (tmp_path / "user" / "elsewhere").exists()
    assert not (tmp_path / "not-the-demo.db").exists()
