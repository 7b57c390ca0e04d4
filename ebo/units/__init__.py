"""The municipality's own housing units."""
