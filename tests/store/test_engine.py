"""The engine never shows a statement's parameters — scraped listing text, verdict rows — in an
error's message, a traceback or the SQL log, on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
import traceback

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from store.db import Store
from store.models import Listing, Site

SCRAPED = "พาวเวอร์แบงค์ 20000mAh ร้านลับ <script>alert(1)</script> 0812345678"


def _listing(site_id: int, title: str) -> dict[str, object]:
    return {"listing_key": "shop:1", "site_id": site_id, "marketplace_id": "1", "url": "http://shop.test/p/1",
            "title": title}  # fmt: skip


def test_a_failing_statement_names_no_parameter_values(any_store: Store) -> None:
    with any_store.session() as session:
        site = Site(name="shop", kind="html", base_url="http://shop.test")
        session.add(site)
        session.flush()
        session.execute(insert(Listing), [_listing(site.id, "first")])
    with pytest.raises(IntegrityError) as caught, any_store.session() as session:
        session.execute(insert(Listing), [_listing(site.id, SCRAPED)])  # the same listing key again
    said = "".join(traceback.format_exception(caught.value))  # with the driver's error it came from
    assert "INSERT INTO listings" in said  # the statement is shown …
    assert "parameters hidden" in said  # … its values are not
    assert "ร้านลับ" not in said
    assert "0812345678" not in said
    assert "shop:1" not in said  # nor PostgreSQL's quote of the key (DETAIL: Key (listing_key)=(…))
    assert "unique" in said.lower()  # what failed is still said


@pytest.mark.postgres
def test_postgres_quotes_of_a_failing_row_are_left_out(postgres_store: Store) -> None:
    """A NOT NULL violation: PostgreSQL's DETAIL would quote the whole row, scraped title and all."""
    with postgres_store.session() as session:
        site = Site(name="shop", kind="html", base_url="http://shop.test")
        session.add(site)
        session.flush()
    with pytest.raises(IntegrityError) as caught, postgres_store.session() as session:
        session.execute(insert(Listing), [{**_listing(site.id, SCRAPED), "url": None}])
    said = "".join(traceback.format_exception(caught.value))
    assert 'null value in column "url"' in said
    assert "left out: it quotes the data" in said
    assert "พาวเวอร์แบงค์" not in said
    assert caught.value.orig is not None
    assert "พาวเวอร์แบงค์" in caught.value.orig.diag.message_detail  # type: ignore[attr-defined]


def test_the_sql_log_names_no_parameter_values(any_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    echoing = Store(any_store.url, echo=True)
    try:
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"), echoing.session() as session:
            site = Site(name="shop", kind="html", base_url="http://shop.test")
            session.add(site)
            session.flush()
            session.execute(insert(Listing), [_listing(site.id, SCRAPED)])
    finally:
        echoing.dispose()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "INSERT INTO listings" in logged
    assert "ร้านลับ" not in logged
    assert "shop:1" not in logged
