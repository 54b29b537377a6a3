"""Forum Sesi: a discussion per session (and the PLPG mentoring forum)."""
