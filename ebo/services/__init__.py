"""Use cases: the one layer that touches both the database and the matcher."""
