"""Prefect flows and tasks that drive a regiofeed run, and the `regiofeed` command line."""
