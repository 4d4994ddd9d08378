"""``match_pending(...)``: the match stage's entry point, called by the CLI, the demo and the scheduler.

Every listing gets one verdict for its latest observation under the current register version and
matcher version. Listings already judged under exactly those are skipped, so after a register import
(a new version) ``match_pending`` re-judges everything, and otherwise only what is new.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Row, and_, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from config import Settings
from core.verdicts import NO_LICENCE_SHOWN
from matchers import images
from matchers.classify import Classifier
from matchers.register import Register, load_register
from matchers.unsafe import UnsafeList
from matchers.verdict import MATCHER_VERSION, Judge, Judgement, ListingFacts
from store.clock import local_day
from store.db import Store
from store.models import Observation, Verdict

BATCH = 1000
MATCH_TRIES = 5
"""The batches are tried this often while the database connection is lost, waiting RETRY_WAIT_S,
then twice that, … between the tries."""
RETRY_WAIT_S = 1.0

log = logging.getLogger("tisiwatch.match")


class MatchError(RuntimeError):
    """The database could not be reached again: what was committed stays, the rest stays pending."""


class RegisterMissing(RuntimeError):
    """A register the verdicts rest on was never imported; the message says how to import it."""


_IMPORT = {
    "licences": (
        "licence register",
        "licence numbers shown cannot be checked",
        "tisiwatch register import licences.csv --kind licences",
    ),
    "unsafe": (
        "unsafe list",
        "listed unsafe products cannot be recognised",
        "tisiwatch register import unsafe.csv --kind unsafe",
    ),
}


def missing_message(missing: list[str]) -> str:
    """One line: which registers were never imported, what that costs, and the commands that import them."""
    what = " and ".join(f"no {_IMPORT[kind][0]} ({_IMPORT[kind][1]})" for kind in missing)
    commands = " and ".join(f"`{_IMPORT[kind][2]}`" for kind in missing)
    several = len(missing) > 1
    return (
        f"{what} {'have' if several else 'has'} been imported: import {'them' if several else 'one'} with "
        f"{commands}, or judge anyway with `tisiwatch match --allow-missing-registers`"
    )


@dataclass
class MatchSummary:
    register_version: int | None
    judged: int = 0
    by_verdict: Counter[str] = field(default_factory=Counter)
    missing: list[str] = field(default_factory=list)
    """Registers that were never imported and that the verdicts were made without (when allowed)."""


def build_judge(register: Register, settings: Settings) -> Judge:
    """A judge for one register version, with the weights and thresholds of ``settings``."""
    brands = {brand for licence in register.licences.values() for brand in licence.brands}
    brands.update(item.brand for item in register.unsafe)
    classifier = Classifier(
        (
            (s.tis_number, [*s.keywords_th, *s.keywords_en], s.exclude_keywords, s.review_keywords)
            for s in register.standards
        ),
        settings.match,
        brands,
    )
    unsafe = UnsafeList((u.brand, u.model, u.reason, u.tis_number) for u in register.unsafe)
    return Judge(classifier, register.licences, unsafe, settings.match, register.missing)


_READ = (
    Observation.id,
    Observation.listing_id,
    Observation.observed_at,
    Observation.title,
    Observation.description,
    Observation.spec,
    Observation.brand,
    Observation.model,
    Observation.images,
    Observation.image_evidence,
)
"""What the matcher reads of an observation (not its raw data; of its evidence, only where its product
images are kept)."""


def _pending(session: Session, version_id: int) -> Iterator[Sequence[Row[Any]]]:
    """Latest live observation of each listing that has no verdict under this version, in batches.

    Listings are taken BATCH at a time in the order of their ids, each batch found from where the
    last one ended (through the index on the listing id), then read by their primary keys, so a batch
    costs the same however many listings the database holds."""
    after = 0
    while True:
        latest = session.execute(
            select(Observation.listing_id, func.max(Observation.id))
            .where(Observation.listing_id > after)
            .group_by(Observation.listing_id)
            .order_by(Observation.listing_id)
            .limit(BATCH)
        ).all()
        if not latest:
            return
        after = latest[-1][0]
        batch = session.execute(
            select(*_READ)
            .outerjoin(
                Verdict,
                and_(
                    Verdict.observation_id == Observation.id,
                    Verdict.register_version_id == version_id,
                    Verdict.matcher_version == MATCHER_VERSION,
                ),
            )
            .where(
                # ids written into the statement (integers the database just gave): 1,000 of them are
                # no bound parameters, which an older SQLite limits to 999
                Observation.id.in_(
                    bindparam("ids", [id_ for _, id_ in latest], expanding=True, literal_execute=True)
                ),
                Verdict.id.is_(None),
                Observation.gone.is_(False),
            )
            .order_by(Observation.id)
        ).all()
        if batch:
            yield batch


def match_pending(
    store: Store, settings: Settings, *, allow_missing_registers: bool | None = None
) -> MatchSummary:
    """Judge every listing not yet judged under the current register and matcher version.

    Raises :class:`RegisterMissing`, judging nothing, while no licence register or no unsafe list was
    ever imported — a licence shown would otherwise be judged "not found" against a register that is
    not there — unless ``allow_missing_registers`` (default ``match.allow_missing_registers``): then
    a licence shown goes to officer review and every verdict's reasons say what it was made without."""
    with store.session() as session:
        register = load_register(session)
    summary = MatchSummary(register.version_id, missing=register.missing)
    if register.version_id is None:
        return summary
    allowed = (
        settings.match.allow_missing_registers if allow_missing_registers is None else allow_missing_registers
    )
    if register.missing and not allowed:
        raise RegisterMissing(missing_message(register.missing))
    judge = build_judge(register, settings)
    pictures = Pictures(settings.data_dir, settings.match.max_images if settings.match.read_images else 0)
    _judge_pending(store, judge, register.version_id, pictures, summary)
    return summary


@dataclass(frozen=True)
class Pictures:
    """Which product images the matcher reads: up to ``limit`` per listing (0: none), from the
    evidence the crawl kept under ``data_dir``."""

    data_dir: Path
    limit: int = 0


def _judge_pending(
    store: Store, judge: Judge, version_id: int, pictures: Pictures, summary: MatchSummary
) -> None:
    """The batches, tried again while the database connection is lost (a PostgreSQL restart), each
    try going on from what the last one committed; :class:`MatchError` when it stays lost."""
    for attempt in range(MATCH_TRIES):
        try:
            _judge_batches(store, judge, version_id, pictures, summary)
            return
        except DBAPIError as exc:
            if not (isinstance(exc, OperationalError) or exc.connection_invalidated):
                raise
            said = (str(exc).splitlines() or [type(exc).__name__])[0]
            if attempt == MATCH_TRIES - 1:
                raise MatchError(
                    f"the match stage lost its database connection and could not reach it again ({said}); "
                    f"{summary.judged} listings judged and committed, the rest stay pending"
                ) from None  # the driver's error is not chained: it would show the statement
            log.warning(
                "match: the database connection was lost (%s); going on from what was committed", said
            )
            time.sleep(RETRY_WAIT_S * 2**attempt)


def _judge_batches(
    store: Store, judge: Judge, version_id: int, pictures: Pictures, summary: MatchSummary
) -> None:
    """Judge the pending listings a batch at a time, each batch's verdicts one insert and one commit."""
    with store.session() as session:
        for batch in _pending(session, version_id):
            rows = [_verdict_row(judge, observation, version_id, pictures) for observation in batch]
            write_verdicts(session, rows)
            session.commit()  # short transactions: a crawl may be writing to the same database
            summary.judged += len(rows)
            summary.by_verdict.update(row["verdict"] for row in rows)


def _verdict_row(
    judge: Judge, observation: Row[Any], version_id: int, pictures: Pictures | None = None
) -> dict[str, Any]:
    """The verdict row of one observation; ``pictures``: which of its product images to read, from
    the evidence, when its text shows no licence (None: none)."""
    facts = ListingFacts(
        title=observation.title,
        description=observation.description,
        spec=observation.spec or {},
        brand=observation.brand,
        model=observation.model,
        observed_on=local_day(observation.observed_at),
    )
    judgement = judge.judge(facts)
    if pictures and pictures.limit and judgement.verdict == NO_LICENCE_SHOWN and observation.images:
        readings = images.read_images(
            pictures.data_dir, observation.images, observation.image_evidence, limit=pictures.limit
        )
        judgement = judge.judge(facts, readings)
    return verdict_row(judgement, observation.listing_id, observation.id, version_id)


def verdict_row(
    judgement: Judgement, listing_id: int, observation_id: int, version_id: int
) -> dict[str, Any]:
    """The verdict row of ``judgement`` on one observation, under register version ``version_id`` and
    this matcher version."""
    return {
        "listing_id": listing_id,
        "observation_id": observation_id,
        "register_version_id": version_id,
        "matcher_version": MATCHER_VERSION,
        "verdict": judgement.verdict,
        "licence_status": judgement.licence_status,
        "tis_number": judgement.tis_number,
        "score": judgement.score,
        "licence_claimed": judgement.licence_claimed,
        "reasons": judgement.reasons,
    }


def write_verdicts(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert verdict rows (:func:`verdict_row`) in one statement. A row whose observation already
    has a verdict under its register and matcher version is left out: the check API's storing
    (``matchers.recorder``) and this stage may judge the same observation at the same time."""
    if not rows:
        return
    dialect = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = dialect(Verdict).on_conflict_do_nothing(
        index_elements=[Verdict.observation_id, Verdict.register_version_id, Verdict.matcher_version]
    )
    # nulls rendered: rows with and without a licence status are then one statement, not many
    session.execute(statement.execution_options(render_nulls=True), list(rows))
