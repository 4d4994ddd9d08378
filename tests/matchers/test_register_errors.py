"""Malformed register files (the file, its encoding, its header): each is refused with
``file:row:column: what is wrong`` and changes nothing. Bad cells are in test_register_cells.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from matchers.register import RegisterError, import_register
from store.db import Store
from store.models import Licence, RegisterVersion, Standard, UnsafeEntry
from store.register import in_force

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = "licence_no,tis_number,licensee,brands,status,issued,expires\n"
GOOD = "ท1234-56/2879,2879-2560,บริษัท ก จำกัด,Anker,active,2020-01-01,2025-01-01\n"
STANDARDS = "tis_number,name_th,name_en,keywords_th,keywords_en,exclude_keywords\n"


def row(**cells: str) -> str:
    """A licence row: GOOD with some cells replaced."""
    values = dict(zip(HEADER.strip().split(","), GOOD.strip().split(","), strict=True))
    values.update(cells)
    return ",".join(values.values()) + "\n"


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


# (case id, file name, file bytes, kind given, the problems expected: each the start of one problem, in order)
CASES = [
    ("empty file", "licences.csv", b"", None, ["licences.csv:1: empty file"]),
    (
        "only a BOM and blank lines",
        "licences.csv",
        b"\xef\xbb\xbf\n \n,,\n",
        None,
        ["licences.csv:1: empty file"],
    ),
    (
        "no header row",
        "licences.csv",
        utf8(GOOD + row(licence_no="ท2-60/2879")),
        None,
        [
            "licences.csv:1: no header row: none of the cells of row 1 is a column name (it starts with 'ท1234-56/2879')"
        ],
    ),
    (
        "no header row, kind given",
        "licences.csv",
        utf8(GOOD),
        "licences",
        ["licences.csv:1: no header row: none of the cells of row 1 is a column name"],
    ),
    (
        "missing required column",
        "licences.csv",
        utf8("licence_no,tis_number,status\nท1-60/2879,2879-2560,active\n"),
        None,
        ["licences.csv:1: missing required column licensee"],
    ),
    (
        "unknown column",
        "licences.csv",
        utf8(HEADER.strip() + ",colour\n" + GOOD.strip() + ",red\n"),
        None,
        [
            "licences.csv:1:colour: unknown column (a licences register has the columns licence_no, tis_number,"
        ],
    ),
    (
        "column given twice, once in Thai",
        "licences.csv",
        utf8("licence_no,tis_number,licensee,status,เลขที่ใบอนุญาต\nท1-60/2879,2879-2560,ก,active,ท1-60/2879\n"),
        None,
        ["licences.csv:1:เลขที่ใบอนุญาต: column licence_no appears twice (also as 'licence_no')"],
    ),
    (
        "column without a name",
        "licences.csv",
        utf8("licence_no,,tis_number,licensee,status\nท1-60/2879,x,2879-2560,ก,active\n"),
        None,
        ["licences.csv:1:B: column has no name but has values (row 2)"],
    ),
    ("header only", "licences.csv", utf8(HEADER), None, ["licences.csv:2: no data rows under the header"]),
    (
        "Thai Windows-874 encoding",
        "licences.csv",
        (HEADER + "N1234-56/2879,2879-2560,บริษัท ก จำกัด,,active,,\n").encode("cp874"),
        None,
        ["licences.csv:2:licensee: not UTF-8 text (byte 0xBA); it looks like Thai Windows-874/TIS-620"],
    ),
    (
        "Windows-874 in the header",
        "licences.csv",
        "เลขที่ใบอนุญาต,tis_number\n".encode("cp874"),
        None,
        ["licences.csv:1:A: not UTF-8 text (byte 0xE0)"],
    ),
    (
        "UTF-16",
        "licences.csv",
        (HEADER + GOOD).encode("utf-16"),
        None,
        ["licences.csv:1: file is UTF-16 text"],
    ),
    (
        "headers that fit two kinds",
        "mixed.csv",
        utf8(
            "licence_no,tis_number,licensee,status,brand,model,reason\nท1-60/2879,2879-2560,ก,active,b,m,r\n"
        ),
        None,
        [
            "mixed.csv:1: cannot tell from the header whether this is a licences or a unsafe register; give the kind"
        ],
    ),
    (
        "a standards file imported as licences",
        "standards.csv",
        utf8(STANDARDS + "2879-2560,พาวเวอร์แบงค์,,,,\n"),
        "licences",
        [
            "standards.csv:1:name_th: unknown column",
            "standards.csv:1:name_en: unknown column",
            "standards.csv:1:keywords_th: unknown column",
            "standards.csv:1:keywords_en: unknown column",
            "standards.csv:1:exclude_keywords: unknown column",
            "standards.csv:1: missing required column licence_no",
            "standards.csv:1: missing required column licensee",
            "standards.csv:1: missing required column status",
        ],
    ),
    (
        "text named .xlsx",
        "licences.xlsx",
        utf8(HEADER + GOOD),
        None,
        ["licences.xlsx:1: not an XLSX workbook"],
    ),
    (
        "old .xls",
        "licences.xls",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100),
        None,
        ["licences.xls:1: old Excel"],
    ),
    (
        "a ZIP that is not a workbook",
        "licences.xlsx",
        b"PK\x03\x04" + bytes(60),
        None,
        ["licences.xlsx:1: not a readable XLSX workbook"],
    ),
]


def counts(store: Store) -> tuple[int | None, ...]:
    with store.session() as session:
        version = in_force(session)
        rows = tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (RegisterVersion, Standard, Licence, UnsafeEntry)
        )
    return (version.version if version else None, *rows)


@pytest.fixture
def store_with_register(any_store: Store) -> Store:
    """A store that already holds a register, so that 'unchanged' means something."""
    import_register(any_store, FIXTURES / "standards_small.csv")
    import_register(any_store, FIXTURES / "licences_thai.csv")
    return any_store


def refusal(store: Store, path: Path, kind: str | None = None, **options: int) -> RegisterError:
    """Import a file that must be refused; check that the database did not change."""
    before = counts(store)
    with pytest.raises(RegisterError) as caught:
        import_register(store, path, kind, **options)
    assert counts(store) == before, "a refused file changed the database"
    return caught.value


def refused(store: Store, path: Path, kind: str | None = None, **options: int) -> list[str]:
    return [str(problem) for problem in refusal(store, path, kind, **options).problems]


@pytest.mark.parametrize(
    ("name", "content", "kind", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_malformed_file_is_refused(
    store_with_register: Store,
    tmp_path: Path,
    name: str,
    content: bytes,
    kind: str | None,
    expected: list[str],
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    problems = refused(store_with_register, path, kind)
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start), f"{problem!r} does not start with {start!r}"


def test_file_over_the_size_limit(store_with_register: Store, tmp_path: Path) -> None:
    path = tmp_path / "licences.csv"
    path.write_text(HEADER + GOOD * 10, encoding="utf-8")
    size = path.stat().st_size
    assert refused(store_with_register, path, max_bytes=500) == [
        f"licences.csv:1: file is {size:,} bytes, over the 500 bytes limit"
    ]


def test_a_register_error_is_a_value_error() -> None:
    assert issubclass(RegisterError, ValueError)
    assert str(RegisterError([])).startswith("register file refused, 0 problems")
