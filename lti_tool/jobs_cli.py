"""`lti-tool worker` (runs the job queue) and `lti-tool jobs` (the dead-letter list)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then exit.")
@click.option("--queue", "queues", multiple=True, help="Queue to work (default JOBS_QUEUE).")
@click.option("--simple", is_flag=True, help="Run jobs in this process, without a fork each.")
@with_appcontext
def worker(burst: bool, queues: tuple[str, ...], simple: bool) -> None:
    """Run background jobs (grade passback, exports, batches) from Redis (REDIS_URL)."""
    from lti_tool.job_worker import run_worker
    from lti_tool.jobs import uses_rq

    app = current_app._get_current_object()
    if not uses_rq(app):
        raise click.ClickException(
            "REDIS_URL is not set (or JOBS_BACKEND is not rq): jobs run inside the web "
            "processes, no worker is needed"
        )
    run_worker(app, queues, burst=burst, simple=simple)


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs: status and the jobs that gave up (dead letters)."""


def _needs_queue() -> None:
    from lti_tool.jobs import uses_rq

    if not uses_rq(current_app):
        raise click.ClickException(
            "REDIS_URL is not set: jobs run inside the server processes, which keep their "
            "failures in memory and in their log; there is no shared list to read"
        )


def _when(value) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else "-"


@jobs_group.command("failed")
@click.option("--limit", type=int, default=100, show_default=True)
@with_appcontext
def jobs_failed(limit: int) -> None:
    """Jobs that gave up after their retries: id, function, when (UTC), error."""
    from lti_tool.jobs import failed_jobs

    _needs_queue()
    rows = failed_jobs(limit)
    if not rows:
        click.echo("no failed jobs")
    for info in rows:
        click.echo(f"{info.id}\t{info.name}\t{_when(info.ended_at)}\t{info.error or '-'}")


@jobs_group.command("retry")
@click.argument("job_ids", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Requeue every failed job.")
@with_appcontext
def jobs_retry(job_ids: tuple[str, ...], all_: bool) -> None:
    """Queue failed jobs again (by id, or --all)."""
    from lti_tool.jobs import requeue_failed

    _needs_queue()
    if bool(job_ids) == all_:
        raise click.UsageError("give job ids or --all")
    done = requeue_failed(None if all_ else job_ids)
    missing = [j for j in job_ids if j not in done]
    for job_id in missing:
        click.echo(f"{job_id}: not in the failed jobs", err=True)
    click.echo(f"{len(done)} job(s) queued again")
    if missing:
        raise SystemExit(1)


@jobs_group.command("status")
@click.argument("job_id")
@with_appcontext
def jobs_status(job_id: str) -> None:
    """A job's state (queued, scheduled, started, finished, failed) and error."""
    from lti_tool.jobs import job_status

    _needs_queue()
    info = job_status(job_id)
    if info is None:
        raise click.ClickException(f"no job {job_id}")
    click.echo(f"{info.id}\t{info.name}\t{info.status}\t{_when(info.ended_at)}")
    if info.error:
        click.echo(f"error: {info.error}")
