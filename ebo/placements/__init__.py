"""Placements for social services: list, detail, follow-up visits, ending, permits, overview, retention."""
