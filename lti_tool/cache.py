"""Small per-process caches that a commit touching their tables empties.

For data read on every launch and changed rarely by admins (registrations, the
signing key, the list of loaded course templates). Another worker process sees a
change after at most `ttl` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class TTLCache:
    """A dict of computed values that expire after `ttl` seconds."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._data: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        now = time.monotonic()
        hit = self._data.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        value = compute()
        with self._lock:
            self._data[key] = (now, value)
        return value

    def invalidate(self) -> None:
        with self._lock:
            self._data.clear()
