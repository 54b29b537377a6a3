"""Score formulas (pure Python, Decimal) and gradebook passback to the LMS.

Plugins report scores here; only this package talks to the LMS gradebook.
"""
