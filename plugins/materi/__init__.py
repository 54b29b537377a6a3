"""Materi: learning material (pages, files, links, video), complete when viewed."""
