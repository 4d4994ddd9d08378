"""The scheduler: APScheduler runs the pipeline's jobs on the timetable of ``settings.toml``.

Modules by role:

- :mod:`scheduler.steps` — the step contract that ``cli.py``, ``tisiwatch demo`` and the scheduler all
  run the stages through (``step.run(context) -> StepResult``), and the match and case-file steps;
  :mod:`scheduler.crawlstep`, :mod:`scheduler.reportstep`, :mod:`scheduler.registerstep` — the others;
- :mod:`scheduler.plan` — what a run of each job consists of: which steps, sites, days and folders;
- :mod:`scheduler.pipeline` — running a job: each step in turn, each recorded, none able to stop the others;
- :mod:`scheduler.recovery` — runs whose process died, the crawls they left, the jobs to run again;
- :mod:`scheduler.service` — the long-running scheduler: APScheduler, its job store, the database lock,
  signals; :mod:`scheduler.timetable` — the timetable as ``tisiwatch schedule list`` shows it.
"""

from scheduler.pipeline import Pipeline, RunOutcome
from scheduler.plan import JOBS, JobPlan, job_steps
from scheduler.recovery import interrupt_run, recover
from scheduler.service import Scheduler, SchedulerFailed, run_forever, scheduled_job
from scheduler.steps import Step, StepContext, StepResult
from scheduler.timetable import JOBSTORE_TABLE, TimetableEntry, timetable

__all__ = [
    "JOBS",
    "JOBSTORE_TABLE",
    "JobPlan",
    "Pipeline",
    "RunOutcome",
    "Scheduler",
    "SchedulerFailed",
    "Step",
    "StepContext",
    "StepResult",
    "TimetableEntry",
    "interrupt_run",
    "job_steps",
    "recover",
    "run_forever",
    "scheduled_job",
    "timetable",
]
