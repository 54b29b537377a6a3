"""gunicorn config for `bench/launch.py --profile`: pyinstrument around every request."""

import os
from pathlib import Path


def post_fork(server, worker):
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0002)
    out = Path(os.environ["BENCH_PROFILE_DIR"])
    out.mkdir(parents=True, exist_ok=True)
    worker.lti_profiler = profiler
    profiler.start()

    def save(*_):
        profiler.stop()
        (out / f"worker-{worker.pid}.txt").write_text(
            profiler.output_text(unicode=False, show_all=False)
        )
        (out / f"worker-{worker.pid}.html").write_text(profiler.output_html())

    worker.lti_save_profile = save


def worker_exit(server, worker):
    save = getattr(worker, "lti_save_profile", None)
    if save:
        save()
