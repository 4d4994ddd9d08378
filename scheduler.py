"""The scheduler: APScheduler runs the pipeline stages on the timetable of settings.toml.

Planned for Step 5 (the daily pipeline, the weekly re-check, register re-imports). Until then
``tisiwatch schedule …`` answers that it is not available yet, and this module holds the order in
which a daily run calls the stage functions, so the scheduler and the CLI share it.
"""

from __future__ import annotations

DAILY_STEPS = ("crawl", "match", "report", "export_cases")
"""The named steps of a daily pipeline run, in order."""
