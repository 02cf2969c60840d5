"""Work that runs on a schedule, outside requests: escalation sweeps (and, declared the same way, reports)."""
