"""Matching runs: start, progress, review, send, answers and confirmation (coordinators)."""
