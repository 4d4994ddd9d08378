"""The scheduler: APScheduler runs the pipeline stages on the timetable of settings.toml.

Not built yet (Step 5): the daily pipeline (crawl → match → report → case export), the weekly
re-check and register re-imports will be scheduled here, calling the same stage functions as the
CLI. Until then ``tisiwatch schedule …`` answers that it is not available yet.
"""
