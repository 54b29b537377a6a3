"""Certificate numbers: PREFIX/YEAR/SEQUENCE-RRRRC.

The sequence makes numbers unique and orderable; RRRR is random (Crockford base 32, no
I, L, O, U), so knowing one number does not give the next; C is a check character over
the rest, so a mistyped number is refused by the regex and the check alone, without a
database read. Prefixes may change over the years: any well-formed prefix is accepted.
"""

from __future__ import annotations

import hashlib
import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX_PATTERN = r"[A-Z0-9](?:[A-Z0-9.\-]{0,30}[A-Z0-9])?"
NUMBER_RE = re.compile(
    rf"^(?P<prefix>{PREFIX_PATTERN})/(?P<year>[0-9]{{4}})/(?P<seq>[0-9]{{5,9}})"
    rf"-(?P<tail>[{ALPHABET}]{{5}})$"
)
MAX_LENGTH = 64
# What people mistype in the random part when copying from paper.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def check_char(body: str) -> str:
    """The check character of everything before it."""
    return ALPHABET[hashlib.sha256(body.encode("ascii")).digest()[0] % len(ALPHABET)]


def valid_prefix(prefix: str) -> bool:
    return re.fullmatch(PREFIX_PATTERN, prefix or "") is not None


def make(prefix: str, year: int, sequence: int) -> str:
    """A new number; ValueError for a prefix the regex would not accept."""
    if not valid_prefix(prefix):
        raise ValueError(f"certificate number prefix {prefix!r}: use A-Z, 0-9, '.', '-'")
    if not 1000 <= year <= 9999 or not 0 < sequence < 10**9:
        raise ValueError("year or sequence out of range")
    random_part = "".join(secrets.choice(ALPHABET) for _ in range(4))
    body = f"{prefix}/{year}/{sequence:05d}-{random_part}"
    return body + check_char(body)


def normalize(text: str) -> str:
    """A typed number as stored: no spaces, upper case, look-alikes fixed in the tail."""
    cleaned = "".join((text or "").split()).upper()
    head, dash, tail = cleaned.rpartition("-")
    if dash and len(tail) == 5:
        cleaned = head + dash + tail.translate(_LOOKALIKES)
    return cleaned


def is_valid(number: str) -> bool:
    """Well formed and its check character right (exact, already normalized text)."""
    if not number or len(number) > MAX_LENGTH:
        return False
    if NUMBER_RE.fullmatch(number) is None:
        return False
    return check_char(number[:-1]) == number[-1]
