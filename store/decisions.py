"""Officers' decisions and supervisors' checks: appended, never changed (the latest one counts).

A decision is about a listing as it was seen: it records the observation decided on and the hash of
what was judged in it (``core.decisions.judged_hash``: title, description, spec, licence shown,
images). :func:`standing_decisions` gives each listing's latest decision and its latest check, and
whether the listing has changed since.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from core.decisions import CONFIRMED, DECISIONS, DISMISS_REASONS, DISMISSED, QC_RESULTS, judged_hash
from store.clock import utcnow
from store.models import Decision, DecisionCheck, Observation, User, Verdict

CHUNK = 900
"""Ids per ``IN (...)`` (SQLite allows 999 bound parameters in older builds)."""


class DecisionError(ValueError):
    """A decision or check that cannot be recorded as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class Standing:
    """A listing's latest decision, its latest check (if any), and whether what was judged changed."""

    decision_id: int
    decision: str
    reason: str | None
    note: str
    decided_by: str
    decided_at: datetime
    judged_hash: str
    observation_id: int
    qc: str | None = None
    qc_by: str | None = None
    qc_at: datetime | None = None
    changed: bool = False
    """The listing's latest observation was judged on other content than this decision."""

    @property
    def holds(self) -> bool:
        """The decision still applies: it is not a dismissal of content that has changed since."""
        return not (self.decision == DISMISSED and self.changed)


def observation_hash(session: Session, observation_id: int) -> str:
    """The judged hash of an observation: its content and the licence its latest verdict read."""
    hashes = observation_hashes(session, [observation_id])
    if observation_id not in hashes:
        raise DecisionError(f"no observation {observation_id}")
    return hashes[observation_id]


def observation_hashes(session: Session, observation_ids: Sequence[int]) -> dict[int, str]:
    """:func:`observation_hash` of many observations at once (two queries per :data:`CHUNK`); an
    unknown id is left out."""
    ids = list(dict.fromkeys(observation_ids))
    found: dict[int, str] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        licences: dict[int, tuple[int, int, str | None]] = {}
        for observation_id, version, verdict_id, claimed in session.execute(
            select(
                Verdict.observation_id, Verdict.register_version_id, Verdict.id, Verdict.licence_claimed
            ).where(Verdict.observation_id.in_(chunk))
        ):
            best = licences.get(observation_id)
            if best is None or (version, verdict_id) > best[:2]:
                licences[observation_id] = (version, verdict_id, claimed)
        for observation_id, title, description, spec, images in session.execute(
            select(
                Observation.id,
                Observation.title,
                Observation.description,
                Observation.spec,
                Observation.images,
            ).where(Observation.id.in_(chunk))
        ):
            licence = licences.get(observation_id, (0, 0, None))[2]
            found[observation_id] = judged_hash(title, description, spec, licence, images)
    return found


def latest_live_observations(session: Session, listing_ids: Sequence[int]) -> dict[int, int]:
    """The latest observation that is not a "gone" page, per listing."""
    found: dict[int, int] = {}
    for start in range(0, len(listing_ids), CHUNK):
        chunk = listing_ids[start : start + CHUNK]
        rows = session.execute(
            select(Observation.listing_id, func.max(Observation.id))
            .where(Observation.listing_id.in_(chunk), Observation.gone.is_(False))
            .group_by(Observation.listing_id)
        )
        found.update({listing_id: obs_id for listing_id, obs_id in rows})
    return found


def decide(
    session: Session,
    user: User,
    listing_ids: Iterable[int],
    decision: str,
    *,
    reason: str | None = None,
    note: str = "",
    now: datetime | None = None,
) -> list[Decision]:
    """Record one decision on each listing, about its latest live observation, at once."""
    if decision not in DECISIONS:
        raise DecisionError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
    if decision == DISMISSED:
        if reason not in DISMISS_REASONS:
            raise DecisionError(f"a dismissal needs a reason: one of {', '.join(DISMISS_REASONS)}")
        if reason == "other" and not note.strip():
            raise DecisionError("a dismissal for 'other' reasons needs a note")
    elif reason is not None:
        raise DecisionError("only a dismissal takes a reason")
    ids = list(dict.fromkeys(listing_ids))
    observations = latest_live_observations(session, ids)
    missing = [listing_id for listing_id in ids if listing_id not in observations]
    if missing:
        raise DecisionError(f"no observation to decide on for listing {missing[0]}")
    now = now or utcnow()
    hashes = observation_hashes(session, list(observations.values()))
    rows = [
        {
            "listing_id": listing_id,
            "observation_id": observations[listing_id],
            "judged_hash": hashes[observations[listing_id]],
            "decision": decision,
            "reason": reason,
            "note": note.strip(),
            "user_id": user.id,
            "decided_by": user.username,
            "decided_at": now,
        }
        for listing_id in ids
    ]
    if not rows:
        return []
    # one INSERT ... RETURNING per batch of rows (insertmanyvalues), not one statement per decision
    # (in no set order: SQLite's ids give no sentinel to sort by; each listing is decided on once)
    made = {d.listing_id: d for d in session.scalars(insert(Decision).returning(Decision), rows)}
    return [made[listing_id] for listing_id in ids]


def check(
    session: Session, user: User, decision_id: int, result: str, note: str = "", now: datetime | None = None
) -> DecisionCheck:
    """A supervisor's check of a confirmation: ``passed`` or ``returned``."""
    if result not in QC_RESULTS:
        raise DecisionError(f"a check is one of {', '.join(QC_RESULTS)}, not {result!r}")
    decision = session.get(Decision, decision_id)
    if decision is None or decision.decision != CONFIRMED:
        raise DecisionError("only a confirmation is checked")
    made = DecisionCheck(
        decision_id=decision_id,
        result=result,
        note=note.strip(),
        user_id=user.id,
        checked_by=user.username,
        checked_at=now or utcnow(),
    )
    session.add(made)
    session.flush()
    return made


def standing_decisions(session: Session, listing_ids: Sequence[int] | None = None) -> dict[int, Standing]:
    """Each listing's latest decision (of ``listing_ids``, or of every listing decided on), with its
    latest check and whether the listing's latest live observation was judged on other content."""
    latest = select(func.max(Decision.id).label("id")).group_by(Decision.listing_id)
    chunks: list[Sequence[int] | None] = (
        [None]
        if listing_ids is None
        else [listing_ids[i : i + CHUNK] for i in range(0, len(listing_ids), CHUNK)]
    )
    decisions: list[Decision] = []
    for chunk in chunks:
        query = latest if chunk is None else latest.where(Decision.listing_id.in_(chunk))
        ids = select(query.subquery().c.id)
        decisions.extend(session.scalars(select(Decision).where(Decision.id.in_(ids))))
    checks: dict[int, DecisionCheck] = {}
    decision_ids = [d.id for d in decisions]
    for start in range(0, len(decision_ids), CHUNK):
        chunk_ids = decision_ids[start : start + CHUNK]
        newest = (
            select(func.max(DecisionCheck.id))
            .where(DecisionCheck.decision_id.in_(chunk_ids))
            .group_by(DecisionCheck.decision_id)
        )
        for made in session.scalars(select(DecisionCheck).where(DecisionCheck.id.in_(newest))):
            checks[made.decision_id] = made
    current = latest_live_observations(session, [d.listing_id for d in decisions])
    moved = [
        current[d.listing_id]
        for d in decisions
        if current.get(d.listing_id, d.observation_id) != d.observation_id
    ]
    hashes = observation_hashes(session, moved)
    standing: dict[int, Standing] = {}
    for d in decisions:
        observation_id = current.get(d.listing_id, d.observation_id)
        changed = observation_id != d.observation_id and hashes.get(observation_id) != d.judged_hash
        qc = checks.get(d.id)
        standing[d.listing_id] = Standing(
            decision_id=d.id,
            decision=d.decision,
            reason=d.reason,
            note=d.note,
            decided_by=d.decided_by,
            decided_at=d.decided_at,
            judged_hash=d.judged_hash,
            observation_id=d.observation_id,
            qc=qc.result if qc else None,
            qc_by=qc.checked_by if qc else None,
            qc_at=qc.checked_at if qc else None,
            changed=changed,
        )
    return standing
