"""CI gates: SLO expressions, baseline comparisons, and their results (`aiobs check`)."""
