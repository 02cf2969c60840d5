"""The case service: registration, the workflow, the case file, visibility, indicators, sweeps."""
