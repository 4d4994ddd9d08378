"""Crawl-health alerts: which runs raise which alert, and delivery to real local receivers."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, Settings, load_settings
from reports.alerts import Alert, crawl_alerts, send_alerts
from store.db import Store
from tests.reports.receivers import closed_port, smtp_receiver, webhook_receiver
from tests.reports.report_builders import DAY2, World, bkk

GOOD = {"pages": 100, "items": 100, "errors": {"TimeoutError": 1}, "failed_urls": 1,
        "coverage": {"title": 1.0, "price": 0.9, "seller": 0.8, "licence_text": 0.3}}  # fmt: skip


def stats(**changes: Any) -> dict[str, Any]:
    """GOOD with some keys changed; ``coverage`` entries are merged."""
    result = {**GOOD, **{k: v for k, v in changes.items() if k != "coverage"}}
    result["coverage"] = {**GOOD["coverage"], **changes.get("coverage", {})}
    return result


# (case, stats of the runs on the days before DAY2 (oldest first), the latest run on DAY2, alert kinds)
CASES: list[tuple[str, list[dict[str, Any]], dict[str, Any] | None, list[str]]] = [
    ("healthy", [GOOD] * 5, GOOD, []),
    ("no items", [GOOD] * 5, stats(items=0), ["no_items"]),
    ("no items, no history", [], stats(items=0, pages=0), ["no_items"]),
    ("no items, empty stats", [GOOD], {}, ["no_items"]),
    ("price coverage drops by a third", [GOOD] * 5, stats(coverage={"price": 0.6}), ["coverage_drop"]),
    ("a drop within the share", [GOOD] * 5, stats(coverage={"price": 0.75}), []),
    ("the median, not the mean", [stats(coverage={"seller": 0.1}), GOOD, GOOD], stats(coverage={"seller": 0.6}),
     ["coverage_drop"]),
    ("two fields drop", [GOOD] * 3, stats(coverage={"title": 0.5, "licence_text": 0.0}),
     ["coverage_drop", "coverage_drop"]),
    ("coverage as percentages", [stats(coverage={"price": 90})] * 3, stats(coverage={"price": 50}),
     ["coverage_drop"]),
    ("no history: nothing to compare", [], stats(coverage={"price": 0.1}, errors={"TimeoutError": 50}), []),
    ("error spike", [GOOD] * 5, stats(errors={"TimeoutError": 15, "DNSLookupError": 5}, failed_urls=4),
     ["error_spike"]),
    ("errors as one number", [GOOD] * 5, stats(errors=30), ["error_spike"]),
    ("twice the median is no spike", [GOOD] * 5, stats(errors={"TimeoutError": 3}, failed_urls=1), []),
    ("a first error is no spike", [stats(errors={}, failed_urls=0)] * 5, stats(errors={"TimeoutError": 1},
     failed_urls=0), []),
    ("no crawl on the day", [GOOD] * 5, None, []),
]  # fmt: skip


@pytest.mark.parametrize(("case", "history", "latest", "kinds"), CASES, ids=[case[0] for case in CASES])
def test_crawl_alerts(
    any_store: Store,
    settings: Settings,
    case: str,
    history: list[dict[str, Any]],
    latest: dict[str, Any] | None,
    kinds: list[str],
) -> None:
    with any_store.session() as session:
        world = World(session)
        for back, run_stats in enumerate(reversed(history), start=1):
            world.run("shop-a", bkk(DAY2 - timedelta(days=back), 6), run_stats)
        if latest is not None:
            world.run("shop-a", bkk(DAY2, 6), latest)
        world.run("shop-b", bkk(DAY2, 6), GOOD)  # a healthy neighbour
    with any_store.session() as session:
        alerts = crawl_alerts(session, DAY2, settings)
    assert [alert.kind for alert in alerts] == kinds
    assert all(alert.site == "shop-a" and alert.message.startswith("shop-a: ") for alert in alerts)


def test_the_latest_finished_run_of_the_day_counts(sqlite_store: Store, settings: Settings) -> None:
    with sqlite_store.session() as session:
        world = World(session)
        for back in range(1, 4):
            world.run("a", bkk(DAY2 - timedelta(days=back)), GOOD)
        world.run("a", bkk(DAY2 - timedelta(days=9)), stats(coverage={"price": 0.1}))  # outside the 7 days
        world.run("a", bkk(DAY2, 1), stats(items=0))  # an earlier run that day
        world.run("a", bkk(DAY2, 5), GOOD)  # the latest finished one
        world.run("a", bkk(DAY2, 9), {}, status="running")  # still running: not judged yet
        world.run("b", bkk(DAY2, 23, 59), stats(coverage={"price": 0.5}))
        for back in range(1, 8):
            world.run("b", bkk(DAY2 - timedelta(days=back), 12), GOOD)
        world.run("c", bkk(DAY2 + timedelta(days=1), 0, 1), stats(items=0))  # the next Bangkok day
    with sqlite_store.session() as session:
        alerts = crawl_alerts(session, DAY2, settings)
    assert [(alert.site, alert.kind) for alert in alerts] == [("b", "coverage_drop")]
    assert "price coverage 50%, 7-day median 90%" in alerts[0].message


def test_thresholds_come_from_settings(sqlite_store: Store, tmp_path: Path) -> None:
    with sqlite_store.session() as session:
        world = World(session)
        for back in range(1, 4):
            world.run("a", bkk(DAY2 - timedelta(days=back)), GOOD)
        world.run("a", bkk(DAY2), stats(coverage={"price": 0.8}, errors={"TimeoutError": 4}))
    strict = load_settings(
        overrides={"alerts": {"coverage_drop_share": 0.1, "error_spike_factor": 1.5}}, environ={}
    )
    with sqlite_store.session() as session:
        assert crawl_alerts(session, DAY2, load_settings(environ={})) == []
        assert [a.kind for a in crawl_alerts(session, DAY2, strict)] == ["coverage_drop", "error_spike"]


ALERTS = [
    Alert("demo-html", "no_items", "demo-html: the latest crawl stored no items"),
    Alert("demo-api", "coverage_drop", "demo-api: price coverage 40%, 7-day median 95% (drop of 58%)"),
]


def _settings(**alerts: Any) -> Settings:
    return load_settings(overrides={"alerts": {"timeout_s": 2, **alerts}}, environ={})


def test_each_alert_is_a_warning_log_line_and_nothing_is_sent_by_default(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("nothing may be sent unless configured")

    monkeypatch.setattr("urllib.request.urlopen", refuse)
    monkeypatch.setattr("smtplib.SMTP", refuse)
    with caplog.at_level(logging.WARNING, logger="tisiwatch.alerts"):
        send_alerts(ALERTS, load_settings(environ={}))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "crawl alert no_items: demo-html: the latest crawl stored no items",
        "crawl alert coverage_drop: demo-api: price coverage 40%, 7-day median 95% (drop of 58%)",
    ]
    assert not [r for r in caplog.records if r.levelno > logging.WARNING]


def test_webhook_receives_the_alerts_as_json() -> None:
    with webhook_receiver() as (url, received):
        send_alerts(ALERTS, _settings(webhook_url=url))
        send_alerts([], _settings(webhook_url=url))  # no alerts: no POST
    [post] = received.items
    assert post["path"] == "/hooks/tisiwatch"
    assert post["headers"]["Content-Type"] == "application/json; charset=utf-8"
    document = json.loads(post["body"].decode("utf-8"))
    assert document == {
        "source": "tisiwatch",
        "alerts": [{"site": a.site, "kind": a.kind, "message": a.message} for a in ALERTS],
    }


def test_email_reaches_an_smtp_server() -> None:
    with smtp_receiver() as (port, received):
        settings = _settings(
            smtp_host="127.0.0.1", smtp_port=port, mail_from="tisiwatch@tisi.test",
            mail_to=["officer@tisi.test", "ops@tisi.test"],
        )  # fmt: skip
        send_alerts(ALERTS, settings)
        assert received.event.wait(5)
    [mail] = received.items
    assert mail["from"] == "tisiwatch@tisi.test"
    assert mail["to"] == ["officer@tisi.test", "ops@tisi.test"]
    message = message_from_bytes(mail["data"], policy=email_policy)
    assert message["Subject"] == "tisiwatch: 2 crawl alerts"
    assert message["To"] == "officer@tisi.test, ops@tisi.test"
    body = message.get_body().get_content()  # type: ignore[union-attr]
    assert "[no_items] demo-html: the latest crawl stored no items" in body
    assert "[coverage_drop] demo-api: price coverage 40%" in body


def test_delivery_failures_are_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    dead = closed_port()
    with caplog.at_level(logging.WARNING, logger="tisiwatch.alerts"):
        send_alerts(
            ALERTS,
            _settings(
                webhook_url=f"http://127.0.0.1:{dead}/x", smtp_host="127.0.0.1", smtp_port=dead,
                mail_to=["officer@tisi.test"],
            ),
        )  # fmt: skip
        with webhook_receiver(status=500) as (url, received):
            send_alerts(ALERTS[:1], _settings(webhook_url=url))
        assert len(received.items) == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3
    assert errors[0].startswith("crawl alerts: webhook POST failed:")
    assert errors[1].startswith(f"crawl alerts: e-mail through 127.0.0.1:{dead} failed:")
    assert "500" in errors[2]


def test_a_slow_webhook_is_given_up_after_the_timeout(caplog: pytest.LogCaptureFixture) -> None:
    with webhook_receiver(delay_s=3) as (url, received):
        started = time.monotonic()
        with caplog.at_level(logging.ERROR, logger="tisiwatch.alerts"):
            send_alerts(
                ALERTS,
                load_settings(overrides={"alerts": {"webhook_url": url, "timeout_s": 0.5}}, environ={}),
            )
        waited = time.monotonic() - started
        assert received.event.is_set()
    assert waited < 2.5
    assert any("webhook POST failed" in r.getMessage() for r in caplog.records)


BAD_SETTINGS = [
    ({"coverage_drop_share": 0}, "alerts.coverage_drop_share"),
    ({"coverage_drop_share": 1.5}, "alerts.coverage_drop_share"),
    ({"error_spike_factor": 1}, "alerts.error_spike_factor"),
    ({"webhook_url": "ftp://example.test/x"}, "alerts.webhook_url"),
    ({"smtp_port": 0}, "alerts.smtp_port"),
    ({"smtp_host": "mail.test"}, "mail_to names no recipient"),
    ({"mail_to": ["not an address"]}, "must be e-mail addresses"),
    ({"timeout_s": 0}, "alerts.timeout_s"),
    ({"webhok_url": "http://x.test"}, "alerts.webhok_url: unknown key"),
]


@pytest.mark.parametrize(("alerts", "message"), BAD_SETTINGS)
def test_bad_alert_settings_stop_at_start_naming_the_key(alerts: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_settings(overrides={"alerts": alerts}, environ={})


def test_alert_settings_default_off_and_from_the_environment() -> None:
    defaults = load_settings(environ={}).alerts
    assert (defaults.webhook_url, defaults.smtp_host, defaults.mail_to) == ("", "", [])
    environ = {
        "TISIWATCH_ALERTS_MAIL_TO": "a@tisi.test,b@tisi.test",
        "TISIWATCH_ALERTS_SMTP_HOST": "mail.test",
    }
    configured = load_settings(environ=environ).alerts
    assert configured.mail_to == ["a@tisi.test", "b@tisi.test"]
    assert configured.smtp_host == "mail.test"
