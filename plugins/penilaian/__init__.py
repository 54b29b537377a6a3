"""Penilaian Diri: self-assessment of a deliverable against a rubric."""
