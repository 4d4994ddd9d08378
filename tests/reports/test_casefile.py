"""ETDA case files: what is in the zip, that it is signed and the same each time, and that hostile
listings stay data. The WARC files are written by the crawler's own evidence middleware."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import stat
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler
from sqlalchemy import select
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

import cli
from config import Settings
from crawler.evidence import EvidenceMiddleware, evidence_settings, screenshot_page_method
from reports.casefile import CASE_COLUMNS, case_id, export_cases
from reports.findings import COLUMNS
from reports.signing import PRIVATE_KEY, PUBLIC_KEY, SigningKeyError
from reports.verify import verify_casefile
from store.db import Store
from store.decisions import decide
from store.evidence import parse_record, read_capture_and_payload, read_record
from store.models import Listing, Observation
from store.people import add_user
from tests.reports.report_builders import DAY1, DAY2, World, bkk

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
HUGE_TITLE = "\u202e" + "ปลั๊กพ่วง " * 10_000  # 100 kB, starting with a right-to-left override
NAME = re.compile(
    r"cases\.(csv|jsonl)|evidence/c-[0-9a-f]{16}/(capture\.warc\.gz|listing\.json|screenshot\.png)"
    r"|manifest\.(json|sig)|public_key\.pem"
)


@dataclass(frozen=True)
class Page:
    """A listing page for the scenario: what the shop served and how it was judged."""

    marketplace_id: str
    verdict: str | None
    title: str = "พาวเวอร์แบงค์ 10000mAh"
    seller: str = "ร้านดี"
    rendered: bool = False
    evidence: bool = True
    gone_later: bool = False
    day: date = DAY1


PAGES = [
    Page("p1", "no_licence_shown"),
    Page("p2", "invalid_licence", title="ปลั๊กพ่วง มอก. 2432"),
    Page("p3", "unsafe", title="เตารีดไอน้ำ", rendered=True),
    Page("p4", "no_licence_shown", day=DAY2),
    Page("fine", "licensed"),
    Page("review", "needs_review"),
    Page("removed", "no_licence_shown", gone_later=True),
    Page("unjudged", None),
    Page("noevidence", "invalid_licence", evidence=False),
    Page("../../etc/passwd", "no_licence_shown", title="=cmd|' /C calc'!A0", seller="@SUM(1+1)"),
    Page("rtl\u202eexe.txt", "unsafe", title=HUGE_TITLE, seller="+ร้าน\u202eดี"),
]
CASES = {
    page.marketplace_id for page in PAGES if page.verdict in {"no_licence_shown", "invalid_licence", "unsafe"}
}
CASES -= {"removed"}


def page_url(page: Page) -> str:
    return f"https://shop-a.test/p/{page.marketplace_id}"


def capture(data_dir: Path, pages: list[Page], run_id: int = 1) -> dict[str, dict[str, Any]]:
    """Fetch the pages through the crawler's evidence middleware; each page's evidence references."""
    middleware = EvidenceMiddleware.from_crawler(
        get_crawler(settings_dict=evidence_settings(data_dir, run_id))
    )
    found = {}
    try:
        for page in pages:
            meta: dict[str, Any] = {"listing": True}
            if page.rendered:
                shot = screenshot_page_method()
                shot.result = PNG
                meta["playwright_page_methods"] = [shot]
            request = Request(page_url(page), meta=meta, headers={"User-Agent": "tisiwatch-test"})
            body = f"<html><h1>{page.title[:200]}</h1><p>{page.seller}</p></html>".encode()
            response = HtmlResponse(
                request.url,
                body=body,
                headers={"Content-Type": "text/html; charset=utf-8"},
                request=request,
                flags=["playwright"] if page.rendered else [],
            )
            middleware.process_response(request, response)
            found[page.marketplace_id] = request.meta["evidence"]
    finally:
        middleware.spider_closed()
    return found


def scenario(store: Store, data_dir: Path, pages: list[Page] = PAGES) -> dict[str, dict[str, Any]]:
    """The pages as listings, observations with their WARC evidence, and verdicts; their evidence."""
    evidence = capture(data_dir, [page for page in pages if page.evidence])
    with store.session() as session:
        world = World(session)
        world.register(standards={"2879-2560": "แบตเตอรี่สำรอง"})
        for page in pages:
            listing = world.listing(
                page.marketplace_id, title=page.title, seller=page.seller, url=page_url(page)
            )
            seen = world.observe(listing, bkk(page.day), page.verdict)
            for name, value in evidence.get(page.marketplace_id, {}).items():
                setattr(seen, name, value)
            if page.gone_later:
                world.observe(listing, bkk(DAY2, 11), gone=True)
        session.flush()
    return evidence


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def jsonl(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def export(store: Store, settings: Settings, out: Path, **options: Any) -> dict[str, bytes]:
    summary = export_cases(store, settings, out=out, **options, all_violations=True)
    assert summary.path == out
    return entries(out)


def test_every_violating_listing_is_a_case_with_its_evidence(
    any_store: Store, settings: Settings, tmp_path: Path
) -> None:
    evidence = scenario(any_store, settings.data_dir)
    out = tmp_path / "cases.zip"
    summary = export_cases(any_store, settings, out=out, all_violations=True)
    files = entries(out)
    ids = {case_id(f"shop-a:{mid}"): mid for mid in CASES}
    assert summary.cases == len(CASES) == 7
    with zipfile.ZipFile(out) as archive:
        names = [info.filename for info in archive.infolist()]
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert names == sorted(names)
    assert all(NAME.fullmatch(name) for name in names)
    cases = jsonl(files["cases.jsonl"])
    assert [case["case_id"] for case in cases] == sorted(ids)
    assert all(tuple(case) == CASE_COLUMNS for case in cases)
    assert {ids[case["case_id"]] for case in cases} == CASES
    assert all(case["officer_decision"] is None for case in cases)
    assert {case["verdict"] for case in cases} == {"no_licence_shown", "invalid_licence", "unsafe"}
    with io.StringIO(files["cases.csv"].decode("utf-8-sig"), newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert tuple(rows[0]) == CASE_COLUMNS
    assert [row["case_id"] for row in rows] == sorted(ids)
    # the manifest: every other file with its hash, signed with the key that comes with it
    manifest = json.loads(files["manifest.json"])
    assert manifest["format"] == "tisiwatch-etda-cases"
    assert manifest["format_version"] == 1
    assert manifest["generator"].startswith("tisiwatch ")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["created_at"])
    assert manifest["register_version"] == 1
    assert manifest["cases"] == 7
    listed = {item["path"]: item["sha256"] for item in manifest["files"]}
    assert set(listed) == set(names) - {"manifest.json", "manifest.sig", "public_key.pem"}
    assert all(hashlib.sha256(files[name]).hexdigest() == digest for name, digest in listed.items())
    key = load_pem_public_key(files["public_key.pem"])
    assert isinstance(key, Ed25519PublicKey)
    key.verify(files["manifest.sig"], files["manifest.json"])  # raises if it does not hold
    assert manifest["signature"]["key_fingerprint"] == summary.key_fingerprint
    # each case's folder: its own WARC records, readable by warcio with their digests right
    for cid, mid in ids.items():
        folder = f"evidence/{cid}/"
        listing = json.loads(files[folder + "listing.json"])
        assert listing["case_id"] == cid
        assert listing["listing_key"] == f"shop-a:{mid}"
        if mid == "noevidence":
            assert listing["evidence"]["files"] == ["listing.json"]
            assert folder + "capture.warc.gz" not in files
            continue
        records = [
            (record.rec_type, record.rec_headers.get_header("WARC-Target-URI"), record.raw_stream.read())
            for record in ArchiveIterator(
                io.BytesIO(files[folder + "capture.warc.gz"]), check_digests="raise"
            )
        ]
        url = Request(f"https://shop-a.test/p/{mid}").url  # as fetched: %-encoded
        rendered = mid == "p3"
        assert [kind for kind, _, _ in records] == (
            ["resource", "metadata", "request"] if rendered else ["response", "request"]
        )
        assert {uri for _, uri, _ in records} == {url}
        assert hashlib.sha256(records[0][2]).hexdigest() == evidence[mid]["payload_sha256"]
        assert listing["evidence"]["payload_sha256"] == evidence[mid]["payload_sha256"]
        assert listing["evidence"]["warc_offset"] == evidence[mid]["warc_offset"]
        if rendered:
            assert files[folder + "screenshot.png"] == PNG
            assert listing["evidence"]["files"] == ["capture.warc.gz", "listing.json", "screenshot.png"]
    assert summary.problems == (
        f"evidence/{case_id('shop-a:noevidence')}/capture.warc.gz: no WARC record was kept of this page",
    )
    assert verify_casefile(out).ok


def test_the_findings_fields_are_those_of_the_findings_export(
    any_store: Store, settings: Settings, tmp_path: Path
) -> None:
    from reports.findings import findings

    scenario(any_store, settings.data_dir)
    cases = jsonl(export(any_store, settings, tmp_path / "cases.zip")["cases.jsonl"])
    with any_store.session() as session:
        expected = {f.listing_key: f.record() for f in findings(session)}
    for case in cases:
        assert {column: case[column] for column in COLUMNS} == expected[case["listing_key"]]


def test_two_exports_of_the_same_cases_are_byte_identical(
    any_store: Store, settings: Settings, tmp_path: Path
) -> None:
    scenario(any_store, settings.data_dir)
    first = export(any_store, settings, tmp_path / "first.zip")
    second = export(any_store, settings, tmp_path / "second.zip")
    assert list(first) == list(second)
    for name in first:
        if name not in {"manifest.json", "manifest.sig"}:
            assert first[name] == second[name], name
    manifests = [json.loads(files["manifest.json"]) for files in (first, second)]
    for manifest in manifests:
        del manifest["created_at"]
    assert manifests[0] == manifests[1]
    with zipfile.ZipFile(tmp_path / "first.zip") as one, zipfile.ZipFile(tmp_path / "second.zip") as two:
        for a, b in zip(one.infolist(), two.infolist(), strict=True):
            assert (a.filename, a.date_time, a.external_attr, a.compress_type) == (
                b.filename, b.date_time, b.external_attr, b.compress_type
            )  # fmt: skip


def test_since_keeps_the_cases_seen_since_that_day(
    sqlite_store: Store, settings: Settings, tmp_path: Path
) -> None:
    scenario(sqlite_store, settings.data_dir)
    cases = jsonl(export(sqlite_store, settings, tmp_path / "cases.zip", since=DAY2)["cases.jsonl"])
    assert [case["listing_key"] for case in cases] == ["shop-a:p4"]
    manifest = json.loads(entries(tmp_path / "cases.zip")["manifest.json"])
    assert manifest["since"] == DAY2.isoformat()
    assert manifest["cases"] == 1


def test_no_cases_still_gives_a_signed_verifiable_file(
    sqlite_store: Store, settings: Settings, tmp_path: Path
) -> None:
    summary = export_cases(sqlite_store, settings, out=tmp_path / "cases.zip", all_violations=True)
    assert summary.cases == 0
    files = entries(tmp_path / "cases.zip")
    assert files["cases.jsonl"] == b""
    assert files["cases.csv"].decode("utf-8-sig").splitlines() == [",".join(CASE_COLUMNS)]
    assert verify_casefile(tmp_path / "cases.zip").ok


def test_hostile_listing_strings_stay_data_and_inside_the_case_folder(
    any_store: Store, settings: Settings, tmp_path: Path
) -> None:
    scenario(any_store, settings.data_dir)
    out = tmp_path / "cases.zip"
    export_cases(any_store, settings, out=out, all_violations=True)
    files = entries(out)
    assert all(NAME.fullmatch(name) for name in files)
    assert not any(".." in name or "etc" in name or "\u202e" in name for name in files)
    traversal, rtl = case_id("shop-a:../../etc/passwd"), case_id("shop-a:rtl\u202eexe.txt")
    # JSON keeps the data whole; the direction override is written as an escape, never raw
    for text in (files["cases.jsonl"], files[f"evidence/{rtl}/listing.json"], files["manifest.json"]):
        assert "\u202e".encode() not in text
    assert b"\\u202e" in files["cases.jsonl"]
    cases = {case["case_id"]: case for case in jsonl(files["cases.jsonl"])}
    assert cases[rtl]["title"] == HUGE_TITLE
    assert cases[rtl]["seller"] == "+ร้าน\u202eดี"
    assert cases[traversal]["title"] == "=cmd|' /C calc'!A0"
    assert json.loads(files[f"evidence/{traversal}/listing.json"])["marketplace_id"] == "../../etc/passwd"
    # CSV: no cell is a formula, no direction override survives
    with io.StringIO(files["cases.csv"].decode("utf-8-sig"), newline="") as stream:
        rows = {row["case_id"]: row for row in csv.DictReader(stream)}
    assert rows[traversal]["title"] == "'=cmd|' /C calc'!A0"
    assert rows[traversal]["seller"] == "'@SUM(1+1)"
    assert rows[rtl]["seller"] == "'+ร้านดี"
    assert rows[rtl]["title"].startswith("ปลั๊กพ่วง")
    assert not any(
        value[:1] in {"=", "+", "-", "@"} or "\u202e" in value
        for row in rows.values()
        for value in row.values()
    )


def test_evidence_that_was_altered_or_lost_is_left_out_and_named(
    sqlite_store: Store, settings: Settings, tmp_path: Path
) -> None:
    evidence = scenario(sqlite_store, settings.data_dir)
    screenshot = settings.data_dir / evidence["p3"]["screenshot_file"]
    screenshot.write_bytes(PNG + b"changed")
    with sqlite_store.session() as session:
        observations = {
            key: seen
            for key, seen in session.execute(
                select(Listing.marketplace_id, Observation).join(Observation.listing)
            )
        }
        observations["p1"].warc_offset = evidence["p1"]["warc_offset"] + 5  # no record starts there
        observations["p2"].warc_file = "../../outside.warc.gz"  # a stored path that leads out
    out = tmp_path / "cases.zip"
    summary = export_cases(sqlite_store, settings, out=out, all_violations=True)
    problems = "\n".join(summary.problems)
    assert (
        f"evidence/{case_id('shop-a:p3')}/screenshot.png: left out: the file no longer has the hash"
        in problems
    )
    assert f"evidence/{case_id('shop-a:p1')}/capture.warc.gz: left out: " in problems
    assert (
        f"evidence/{case_id('shop-a:p2')}/capture.warc.gz: left out: evidence file '../../outside.warc.gz'"
        in problems
    )
    files = entries(out)
    assert f"evidence/{case_id('shop-a:p3')}/screenshot.png" not in files
    assert f"evidence/{case_id('shop-a:p3')}/capture.warc.gz" in files
    assert len(json.loads(files["manifest.json"])["problems"]) == 4
    assert str(settings.data_dir) not in files["manifest.json"].decode()
    assert verify_casefile(out).ok  # what is in the file is as the manifest says


def test_the_signing_key_is_made_once_private_and_kept(
    sqlite_store: Store, settings: Settings, tmp_path: Path
) -> None:
    first = export_cases(sqlite_store, settings, out=tmp_path / "one.zip", all_violations=True)
    private = settings.data_dir / "keys" / PRIVATE_KEY
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    second = export_cases(sqlite_store, settings, out=tmp_path / "two.zip", all_violations=True)
    assert first.key_fingerprint == second.key_fingerprint
    public = (settings.data_dir / "keys" / PUBLIC_KEY).read_bytes()
    assert entries(tmp_path / "two.zip")["public_key.pem"] == public
    assert b"PRIVATE" not in b"".join(entries(tmp_path / "two.zip").values())
    private.chmod(0o644)
    with pytest.raises(SigningKeyError, match="chmod 600"):
        export_cases(sqlite_store, settings, out=tmp_path / "three.zip", all_violations=True)
    assert not (tmp_path / "three.zip").exists()


runner = CliRunner()


def test_export_cases_and_verify_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole path on a real crawl of the demo HTML shop: init, crawl, match, export cases, verify."""
    from demo.server import start_shops
    from demo.writer import write_registers

    monkeypatch.setattr(cli, "state", cli.State())
    monkeypatch.setenv("COLUMNS", "250")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    options = ["--data-dir", str(tmp_path / "data"), "--database-url", url]
    assert runner.invoke(cli.app, [*options, "init"]).exit_code == 0
    with start_shops(seed=7, size=30, day=1) as shops:
        result = runner.invoke(
            cli.app,
            [
                *options,
                "crawl",
                "demo-html",
                "--base-url",
                shops.urls["html"],
                "-q",
                "power bank",
                "-q",
                "ปลั๊ก",
            ],
        )
    assert result.exit_code == 0, result.output
    for kind, path in write_registers(tmp_path / "registers", seed=7, size=30).items():
        assert (
            runner.invoke(cli.app, [*options, "register", "import", str(path), "--kind", kind]).exit_code == 0
        )
    assert runner.invoke(cli.app, [*options, "match"]).exit_code == 0
    out = tmp_path / "cases.zip"
    result = runner.invoke(cli.app, [*options, "export", "cases", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote 0 cases to {out} (0 newly sent to ETDA)" in result.output  # nothing confirmed yet
    result = runner.invoke(cli.app, [*options, "export", "cases", "--all-violations", "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = entries(out)
    cases = jsonl(files["cases.jsonl"])
    assert cases, "the demo shop sells listings without a licence"
    assert f"wrote {len(cases)} cases to {out}" in result.output
    assert "newly sent" not in result.output
    for case in cases:
        capture_file = files[f"evidence/{case['case_id']}/capture.warc.gz"]
        [response, request] = list(ArchiveIterator(io.BytesIO(capture_file), check_digests="raise"))
        assert response.rec_headers.get_header("WARC-Target-URI") == case["url"]
        assert request.rec_type == "request"
    result = runner.invoke(cli.app, [*options, "verify", str(out)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
    # an altered case file: verify names the file and fails
    altered = tmp_path / "altered.zip"
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(altered, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(
                info,
                data.replace(b'"verdict": "', b'"verdict": "licensed", "was": "', 1)
                if info.filename == "cases.jsonl"
                else data,
            )
    result = runner.invoke(cli.app, [*options, "verify", str(altered)])
    assert result.exit_code == 1
    assert "cases.jsonl: altered" in result.output
    result = runner.invoke(cli.app, [*options, "export", "cases", "--out", str(out), "--since", "yesterday"])
    assert result.exit_code == 1
    assert "--since: 'yesterday' is not a date" in result.output
    # an officer confirms two cases: the default export has them, sent; takedowns tracks them
    store = Store(url)
    with store.session() as session:
        officer = add_user(session, "somchai", "officer", "correct horse battery")
        keys = sorted(case["listing_key"] for case in cases)[:2]
        ids = list(session.scalars(select(Listing.id).where(Listing.listing_key.in_(keys))))
        decide(session, officer, ids, "confirmed")
    sent = tmp_path / "sent.zip"
    result = runner.invoke(cli.app, [*options, "export", "cases", "--out", str(sent)])
    assert result.exit_code == 0, result.output
    assert f"wrote 2 cases to {sent} (2 newly sent to ETDA)" in result.output
    assert sorted(case["listing_key"] for case in jsonl(entries(sent)["cases.jsonl"])) == keys
    assert runner.invoke(cli.app, [*options, "verify", str(sent)]).exit_code == 0
    result = runner.invoke(cli.app, [*options, "takedowns"])
    assert result.exit_code == 0, result.output
    assert "checked 2 open cases: 0 taken down" in result.output
    assert "demo-html: sent 2, taken down 0, still online 0" in result.output
    store.dispose()


def _capture_record_by_record(data_dir: Path, warc_file: str, offset: int) -> bytes:
    """A reference reading of a capture, one record at a time: the record at ``offset`` and the
    records after it that are ``WARC-Concurrent-To`` it."""
    first = read_record(data_dir, warc_file, offset)
    record_id = parse_record(first)[0].get_header("WARC-Record-ID")
    parts, position = [first], offset + len(first)
    while True:
        try:
            raw = read_record(data_dir, warc_file, position)
        except ValueError:
            break
        headers = parse_record(raw)[0]
        if record_id not in [value for name, value in headers.headers if name == "WARC-Concurrent-To"]:
            break
        parts.append(raw)
        position += len(raw)
    return b"".join(parts)


def test_the_capture_is_read_in_one_pass_as_record_by_record(tmp_path: Path) -> None:
    """``read_capture_and_payload`` gives the bytes of a record-by-record reading, also for the last
    capture of a file that a killed crawl left with a torn record at its end."""
    found = capture(tmp_path, PAGES)
    for mid, evidence in found.items():
        raw, payload = read_capture_and_payload(tmp_path, evidence["warc_file"], evidence["warc_offset"])
        assert raw == _capture_record_by_record(tmp_path, evidence["warc_file"], evidence["warc_offset"]), mid
        assert hashlib.sha256(payload).hexdigest() == evidence["payload_sha256"]
    last = found[PAGES[-1].marketplace_id]
    with (tmp_path / last["warc_file"]).open("ab") as handle:
        handle.write(b"\x1f\x8b\x08\x00 torn by SIGKILL")
    raw, _ = read_capture_and_payload(tmp_path, last["warc_file"], last["warc_offset"])
    assert raw == _capture_record_by_record(tmp_path, last["warc_file"], last["warc_offset"])
    with (tmp_path / last["warc_file"]).open("r+b") as handle:
        handle.truncate(last["warc_offset"] + 300)  # the first record of the capture cut off
    for offset in (last["warc_offset"], last["warc_offset"] + 3, 10**9):
        with pytest.raises(ValueError, match="offset"):
            read_capture_and_payload(tmp_path, last["warc_file"], offset)
    with pytest.raises(ValueError, match="not a relative path inside the data directory"):
        read_capture_and_payload(tmp_path, "../outside.warc.gz", 0)
