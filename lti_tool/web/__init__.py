"""Pages a launched user sees."""
