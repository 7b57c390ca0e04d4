"""Welcome cards (välkommenkort): issue, print, verify."""
