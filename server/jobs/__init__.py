"""Work that runs on a schedule, outside requests: escalation sweeps."""
