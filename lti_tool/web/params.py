"""Whole numbers read from query strings, forms and headers.

`str.isdigit()` is true for "²" and other characters `int()` refuses, and a long run of
digits is more than the database's integers hold: checked that way, either was a 500.
`int_param()` takes ASCII digits only, at most `most` of them; anything else is None, for
the caller to treat as absent or to refuse with its own message.
"""

from __future__ import annotations

#: Digits of the largest id or count a request may name (a 64-bit integer has 19).
MOST_DIGITS = 18


def int_param(raw: str | None, most: int = MOST_DIGITS) -> int | None:
    """`raw` as a non-negative int if it is 1 to `most` ASCII digits, else None."""
    if not raw or len(raw) > most or not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)
