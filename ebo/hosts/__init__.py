"""The hosts' side: registration, the offer, proposals and their own data."""
