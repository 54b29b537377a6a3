"""Reaksi Peserta: the smiley-face satisfaction survey at the end of even sessions."""
