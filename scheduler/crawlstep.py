"""The crawl step: crawl sites and store what is found (``crawler.runner.crawl``), one run per site.

The same step is an analyst's ``tisiwatch crawl`` (and ``--recheck``), the demo's crawl of its shops,
and the scheduler's daily crawl and weekly re-check. A site whose profile cannot be loaded, or whose
crawl run does not finish, is a problem of the step, named with its site; the other sites go on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from sqlalchemy import func, select

from core.runstats import RunStats
from scheduler.steps import Step, StepContext, StepFailed, StepInterrupted, StepResult, log
from store import journal
from store.models import CrawlRun

if TYPE_CHECKING:
    from crawler.profile import SiteProfile
    from crawler.runner import CrawlResult

Resume = bool | Literal["own"]


@dataclass
class CrawlStep(Step[list["CrawlResult"]]):
    """Crawl ``sites`` (profile names or loaded profiles)."""

    name: ClassVar[str] = "crawl"
    sites: Sequence[str | SiteProfile]
    queries: Sequence[str] | None = None
    """Search words; None: the register's keywords; empty: each site enumerated without searching."""
    urls: Sequence[str] = ()
    max_items: int | None = None
    recheck: bool = False
    workers: int | None = None
    resume: Resume = False
    """True: a site's crawl that was killed or stopped is continued with its own plan. ``"own"``:
    only the crawls that an interrupted run of this context's job left (the scheduler's)."""
    on_progress: Callable[..., Any] | None = None
    planned: bool = False
    """Spend each site's daily budget as its plan says (``crawler.budget``; the daily job's crawl)."""

    def perform(self, context: StepContext) -> StepResult[list[CrawlResult]]:
        from crawler.profile import ProfileError, load_profile
        from crawler.runner import CrawlRequestError, crawl
        from crawler.session import SessionError, check_ready

        settings = context.settings
        names = [site if isinstance(site, str) else site.name for site in self.sites]
        problems: dict[str, str] = {}
        profiles = []
        for site in self.sites:
            try:
                profiles.append(
                    load_profile(site, settings.crawl.profiles_dir) if isinstance(site, str) else site
                )
            except ProfileError as exc:
                problems[str(site)] = str(exc)
        for profile in list(profiles):
            if profile.session is not None:
                try:
                    check_ready(settings.data_dir, profile.session, profile.kind)
                except SessionError as exc:
                    problems[profile.name] = str(exc)
                    profiles.remove(profile)
        with context.store.session() as session:
            after = session.scalar(select(func.max(CrawlRun.id))) or 0
            resumable = set(names) if self.resume is True else set()
            if self.resume == "own" and context.job is not None:
                resumable = journal.resumable_sites(
                    session, context.job, names, settings.schedule.misfire_grace_s
                )
        # noted before crawling: after a kill, recovery finds this step's crawl runs by it
        context.note({"sites": names, "after_crawl_run": after})
        results: list[CrawlResult] = []
        for resume in (True, False):
            group = [profile for profile in profiles if (profile.name in resumable) == resume]
            if not group:
                continue
            try:
                results += crawl(settings, group, queries=self.queries, urls=self.urls, max_items=self.max_items,
                                 recheck=self.recheck, store=context.store, on_progress=self.on_progress,
                                 workers=self.workers, resume=resume, planned=self.planned)  # fmt: skip
            except CrawlRequestError as exc:  # the request itself is wrong (workers without Redis)
                raise StepFailed(str(exc), {"runs": {}, "problems": problems}) from None
            except Exception as exc:
                if not context.contain:
                    raise
                log.exception("%s: crawl of %s failed", context.who, ", ".join(p.name for p in group))
                problems.update({p.name: f"{type(exc).__name__}: {exc}" for p in group})
        runs: dict[str, dict[str, Any]] = {}
        for result in results:
            stats = RunStats.from_json(result.stats)
            runs[result.site] = {
                "run": result.run_id,
                "status": result.status,
                "resumed": result.resumed,
                "items": stats.items or 0,
                "pages": stats.pages or 0,
                "failed_urls": stats.failed_urls or 0,
            }
            if budget := result.stats.get("budget"):  # what the daily plan did and left
                runs[result.site]["budget"] = {k: budget.get(k) for k in ("requests", "spent", "left")}
            if result.status != "finished":
                why = stats.reason
                problems[result.site] = f"run {result.run_id} {result.status}" + (f": {why}" if why else "")
        counts = {"runs": runs, "problems": problems}
        said = "; ".join(p if p.startswith(f"{site}:") else f"{site}: {p}" for site, p in problems.items())
        if problems and context.stopping.is_set():
            raise StepInterrupted(f"stopped: {said}", counts, results)
        if problems:
            raise StepFailed(said, counts, results)
        items = sum(RunStats.from_json(result.stats).items or 0 for result in results)
        return self.done(f"crawled {len(results)} sites: {items} listings", counts, results)
