"""The register step: import each configured register file whose content changed (the register job)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy.exc import OperationalError

from core.text import escaped
from scheduler.steps import Step, StepContext, StepFailed, StepResult, StepSkipped, log
from store import journal


@dataclass
class RegisterStep(Step[dict[str, dict[str, Any]]]):
    """Import each of ``files`` whose content (SHA-256) is not in the register in force, all or nothing
    per file, each on its own: a file that fails, however, is recorded with its reason and the others
    go on. A file refused once — rejected, unreadable, or failing the import — is not tried again until
    its content changes; one that failed because the database could not be written is tried again at
    the next check."""

    name: ClassVar[str] = "register"
    files: Sequence[str]
    """Relative to the data directory, or absolute (``schedule.register_files``)."""

    def perform(self, context: StepContext) -> StepResult[dict[str, dict[str, Any]]]:
        from matchers.register import RegisterError, import_register

        if not self.files:
            raise StepSkipped("no register files are configured (schedule.register_files)")
        with context.store.session() as session:
            in_force, refused = journal.register_hashes(session)
        results: dict[str, dict[str, Any]] = {}
        problems = []
        imported = 0
        for name in self.files:
            path = context.settings.data_dir / name
            try:
                with path.open("rb") as file:
                    digest = hashlib.file_digest(file, "sha256").hexdigest()
            except OSError as exc:
                problems.append(f"{escaped(name)}: cannot be read ({exc.strerror})")
                results[name] = {"result": "unreadable", "reason": exc.strerror}
                continue
            if digest in in_force:
                results[name] = {"result": "unchanged", "sha256": digest}
                continue
            if name in refused and refused[name][0] == digest:
                results[name] = {"result": "rejected before", "sha256": digest, "reason": refused[name][1]}
                continue
            try:
                version = import_register(context.store, path)
            except RegisterError as exc:
                problems.append(f"{escaped(name)} rejected, nothing imported: {exc}")
                results[name] = {"result": "rejected", "sha256": digest, "reason": str(exc)[:2000]}
                continue
            except Exception as exc:  # one file's failure never stops the others
                log.exception("%s: import of %s failed", context.who, escaped(name))
                reason = escaped(f"{type(exc).__name__}: {exc}")[:2000]
                problems.append(f"{escaped(name)} failed, nothing imported: {reason}")
                results[name] = {"result": "failed", "reason": reason}
                if not database_down(exc):  # the file's fault: held back like a rejected file
                    results[name]["sha256"] = digest
                continue
            imported += 1
            results[name] = {
                "result": "imported",
                "sha256": digest,
                "version": version.id,
                "kind": version.kind,
                "rows": version.row_count,
            }
        counts = {"files": results, "imported": imported}
        if problems:
            raise StepFailed("; ".join(problems), counts, results)
        return self.done(f"imported {imported} of {len(self.files)} register files", counts, results)


def database_down(exc: Exception) -> bool:
    """Whether an import failed because the database could not be reached or written, not because of
    the file (a server restart, a lock held too long)."""
    from sqlalchemy.exc import DBAPIError, InterfaceError

    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )
