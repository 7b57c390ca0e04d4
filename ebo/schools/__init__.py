"""Schools: Skolverket's school-unit register, imported from CSV or added by hand."""
