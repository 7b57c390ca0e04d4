"""Plus 5 % preparedness: dashboard, drills and the annual report."""
