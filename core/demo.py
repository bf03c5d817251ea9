"""Demo mode's one name: the backend of simulated training and generation (no provider, no cost)."""

DEMO_BACKEND = "demo"
