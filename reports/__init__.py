"""Report stage: daily report, findings export and ETDA case files. Reads the store, writes files."""
