"""Rencana belajar: the peserta's learning plan for the six weeks (Sesi Pendahuluan)."""
