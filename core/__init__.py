"""The shared floor: the vocabulary every stage speaks, importing no stage and not the store.

``core.verdicts`` (verdict names and groups), ``core.text`` (clean-up of invisible characters, Thai
digits and dashes; control characters escaped for display), ``core.numbers`` (canonical TIS and licence
numbers), ``core.sellers`` (how sellers are named and grouped), ``core.runstats`` (a crawl run's typed
statistics).
"""
