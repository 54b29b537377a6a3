"""gunicorn hooks for `bench/soak.py --tracemalloc DIR`: where a worker's memory goes.

In the first BENCH_TRACEMALLOC_WORKERS workers forked (default 1; the others run
untraced, so the soak's load stays close to the real one) tracemalloc is started in
`post_fork` with BENCH_TRACEMALLOC_FRAMES frames per allocation (default 12). In every
worker a thread writes, every BENCH_TRACEMALLOC_EVERY seconds (default 60) and when the
worker exits:

  DIR/worker-PID-SSSSS.snap   the tracemalloc snapshot, in the traced workers (compare
                              two with bench/tracemalloc_diff.py)
  DIR/worker-PID.jsonl        a line per snapshot: the worker's RSS, what tracemalloc
                              traces, glibc's heap (mallinfo2: arena bytes, in use,
                              free; malloc_info per arena), SQLite's own allocations
                              (sqlite3_memory_used), Python's allocated blocks, the
                              number of gc-tracked objects and the 40 most numerous
                              types, and the number of threads.

With BENCH_MALLOC_TRIM_EVERY=SECONDS (an experiment) a thread in each worker calls
glibc's malloc_trim(0) that often.

An RSS that rises while the traced total stays flat is memory outside Python's
allocations (a C library's, or freed memory the allocator keeps: fragmentation).
Loaded by bench/tracemalloc_serve.py, which runs `lti-tool serve` with these hooks.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import sys
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

_traced = {"n": 0}


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _mallinfo() -> dict[str, int]:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _Mallinfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return {}
    return {name: getattr(info, name) for name, _ in _Mallinfo2._fields_}


def _malloc_heaps() -> list[dict[str, int]]:
    """glibc's malloc_info, per arena (heap): its size in use by the system ('total'
    size of its mmapped heaps), its free chunks' bytes, and how many free chunks."""
    import re
    import tempfile

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.fopen.restype = ctypes.c_void_p
        libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
        libc.fclose.argtypes = [ctypes.c_void_p]
        with tempfile.NamedTemporaryFile(suffix=".xml") as tmp:
            fp = libc.fopen(tmp.name.encode(), b"w")
            libc.malloc_info(0, fp)
            libc.fclose(fp)
            xml = Path(tmp.name).read_text()
    except (OSError, AttributeError):
        return []
    heaps = []
    for m in re.finditer(r'<heap nr="(\d+)">(.*?)</heap>', xml, re.S):
        body = m.group(2)
        free = re.search(r'<total type="fast" count="(\d+)" size="(\d+)"/>', body)
        rest = re.search(r'<total type="rest" count="(\d+)" size="(\d+)"/>', body)
        system = re.search(r'<system type="current" size="(\d+)"/>', body)
        heaps.append(
            {
                "nr": int(m.group(1)),
                "system": int(system.group(1)) if system else 0,
                "free": (int(free.group(2)) if free else 0) + (int(rest.group(2)) if rest else 0),
                "free_chunks": (int(free.group(1)) if free else 0)
                + (int(rest.group(1)) if rest else 0),
            }
        )
    return heaps


def _sqlite_memory() -> int | None:
    """Bytes SQLite's own allocator has out (its page caches, statements): the
    library the sqlite3 module is linked with, so the same counter."""
    import sqlite3  # noqa: F401  (the library loaded as the app loads it)

    try:
        lib = ctypes.CDLL("libsqlite3.so.0")
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        return int(lib.sqlite3_memory_used())
    except (OSError, AttributeError):
        return None


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pre_fork(server, worker):
    _traced["n"] += 1  # in the master: the child inherits its own number


def post_fork(server, worker):
    out = Path(os.environ["BENCH_TRACEMALLOC_DIR"])
    out.mkdir(parents=True, exist_ok=True)
    if _traced["n"] <= int(os.environ.get("BENCH_TRACEMALLOC_WORKERS", "1")):
        tracemalloc.start(int(os.environ.get("BENCH_TRACEMALLOC_FRAMES", "12")))
    every = float(os.environ.get("BENCH_TRACEMALLOC_EVERY", "60"))
    t0 = time.monotonic()
    lock = threading.Lock()
    stopped = threading.Event()

    def save() -> None:
        with lock:
            pid = os.getpid()
            elapsed = time.monotonic() - t0
            if tracemalloc.is_tracing():
                snapshot = tracemalloc.take_snapshot()
                snapshot.dump(str(out / f"worker-{pid}-{elapsed:05.0f}.snap"))
            objects = gc.get_objects()
            types = Counter(type(o).__qualname__ for o in objects)
            line = {
                "t": round(elapsed, 1),
                "rss_kb": _rss_kb(),
                "traced": tracemalloc.get_traced_memory()[0],
                "tracemalloc_overhead": tracemalloc.get_tracemalloc_memory(),
                "mallinfo": _mallinfo(),
                "heaps": _malloc_heaps(),
                "sqlite_memory": _sqlite_memory(),
                "pymalloc_blocks": sys.getallocatedblocks(),
                "gc_objects": len(objects),
                "gc_counts": gc.get_count(),
                "threads": threading.active_count(),
                "types": types.most_common(40),
            }
            del objects
            with (out / f"worker-{pid}.jsonl").open("a") as f:
                f.write(json.dumps(line) + "\n")

    def loop() -> None:
        while not stopped.wait(every):
            save()

    trim = float(os.environ.get("BENCH_MALLOC_TRIM_EVERY", "0") or 0)
    if trim > 0:  # an experiment: hand glibc's free pages back to the system now and then

        def trimmer() -> None:
            libc = ctypes.CDLL("libc.so.6")
            while not stopped.wait(trim):
                libc.malloc_trim(0)

        threading.Thread(target=trimmer, name="malloc-trim", daemon=True).start()
    worker.lti_tracemalloc_save = save
    worker.lti_tracemalloc_stop = stopped
    threading.Thread(target=loop, name="tracemalloc-snapshots", daemon=True).start()


def worker_exit(server, worker):
    stopped = getattr(worker, "lti_tracemalloc_stop", None)
    if stopped is not None:
        stopped.set()
        worker.lti_tracemalloc_save()
