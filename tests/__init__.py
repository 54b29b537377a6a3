"""Test suite package (lets ``tests.peer`` be imported by any test)."""
