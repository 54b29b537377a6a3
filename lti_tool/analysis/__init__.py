"""Monitoring analyses of a class (Juknis V.C-D): pre/post test, chart sections."""
