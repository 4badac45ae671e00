"""Exchange boundary: the only code that knows a venue's wire formats."""
