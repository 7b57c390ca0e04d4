"""Families: registration by social services, list, detail, status, health notes, bulk import."""
