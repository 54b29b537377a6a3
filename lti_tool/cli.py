"""`lti-tool`: the admin command line (a Flask CLI group over the app factory)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from lti_tool.db import session as db_session


def _create_app():
    from lti_tool.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """Guru Pembelajar LTI tool administration."""


def register_commands(app) -> None:
    """Commands are attached to the app so `flask --app lti_tool` sees them too."""
    commands = [
        db_group,
        platforms_group,
        keys_group,
        templates_group,
        grades_group,
        init,
        serve,
        cleanup,
    ]
    from lti_tool.jobs_cli import jobs_group, worker

    commands += [worker, jobs_group]
    from lti_tool.users_cli import users_group

    commands.append(users_group)
    from lti_tool.mail.cli import mail_group

    commands.append(mail_group)
    commands.append(demo_group)
    from lti_tool.reports.cli import reports_group

    commands.append(reports_group)
    commands += [p.cli for p in app.extensions["lti_activities"] if p.cli is not None]
    for command in commands:
        if command.name not in app.cli.commands:
            app.cli.add_command(command)


# -- database ------------------------------------------------------------------------
@click.group("db")
def db_group() -> None:
    """Database migrations."""


@db_group.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: all heads)."""
    from lti_tool.migrate import upgrade

    upgrade(current_app, revision)
    click.echo(f"database at {revision}: {current_app.config['DATABASE_URL']}")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Create a migration from the difference between models and database."""
    from lti_tool.migrate import revision

    revision(current_app, message)


# -- platforms -----------------------------------------------------------------------
@click.group("platforms")
def platforms_group() -> None:
    """LMS registrations (issuer + client id)."""


@platforms_group.command("add")
@click.option("--name", required=True, help="A name for admins, e.g. 'Moodle LPMP Bali'.")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--auth-login-url", required=True, help="Platform OIDC authorization URL.")
@click.option("--auth-token-url", required=True, help="Platform OAuth2 token URL.")
@click.option("--key-set-url", required=True, help="Platform public key set (JWKS) URL.")
@click.option("--auth-audience", default=None, help="Token audience, if not the token URL.")
@click.option("--deployment-id", "deployment_ids", multiple=True, help="Repeat for several.")
@click.option("--pending", is_flag=True, help="Register but do not accept launches yet.")
@click.option(
    "--auto-deployments",
    is_flag=True,
    help="Record new deployment ids from signed launches (Canvas course installs).",
)
@with_appcontext
def platforms_add(
    name,
    issuer,
    client_id,
    auth_login_url,
    auth_token_url,
    key_set_url,
    auth_audience,
    deployment_ids,
    pending,
    auto_deployments,
) -> None:
    """Register a platform manually."""
    from lti_tool.services import platforms

    try:
        platform = platforms.add_platform(
            db_session(),
            name=name,
            issuer=issuer,
            client_id=client_id,
            auth_login_url=auth_login_url,
            auth_token_url=auth_token_url,
            key_set_url=key_set_url,
            auth_audience=auth_audience,
            deployment_ids=list(deployment_ids),
            active=not pending,
            auto_deployments=auto_deployments,
        )
    except platforms.PlatformError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"platform {platform.id} added ({platform.status}): {issuer} {client_id}")


@platforms_group.command("list")
@click.option("-v", "--verbose", is_flag=True, help="Also show the platform's URLs.")
@with_appcontext
def platforms_list(verbose: bool) -> None:
    """List registrations: id, status, name, issuer, client id, deployments."""
    from lti_tool.models import Platform

    rows = db_session().scalars(select(Platform).order_by(Platform.id)).all()
    if not rows:
        click.echo("no platforms registered")
    for p in rows:
        deployments = ",".join(p.deployment_ids) or "-"
        if p.auto_deployments:
            deployments += " (+auto)"
        click.echo(f"{p.id}\t{p.status}\t{p.name}\t{p.issuer}\t{p.client_id}\t{deployments}")
        if verbose:
            click.echo(f"\tauth login URL: {p.auth_login_url}")
            click.echo(f"\tauth token URL: {p.auth_token_url}")
            click.echo(f"\tkey set URL:    {p.key_set_url}")


@platforms_group.command("add-deployment")
@click.argument("platform_id", type=int)
@click.argument("deployment_id")
@with_appcontext
def platforms_add_deployment(platform_id: int, deployment_id: str) -> None:
    """Accept launches from one more deployment of a registered platform."""
    from lti_tool.services import platforms

    try:
        platforms.add_deployment(db_session(), platform_id, deployment_id)
    except platforms.PlatformError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"deployment {deployment_id} added to platform {platform_id}")


@platforms_group.command("activate")
@click.argument("platform_id", type=int, required=False)
@click.option("--all", "all_", is_flag=True, help="Activate every pending registration.")
@with_appcontext
def platforms_activate(platform_id: int | None, all_: bool) -> None:
    """Accept launches from a pending registration."""
    from lti_tool.services import platforms

    if platform_id is None and not all_:
        raise click.UsageError("give a PLATFORM_ID or --all")
    try:
        count = platforms.activate(db_session(), None if all_ else platform_id)
    except platforms.PlatformError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{count} platform(s) activated")


@platforms_group.command("remove")
@click.argument("platform_id", type=int)
@with_appcontext
def platforms_remove(platform_id: int) -> None:
    """Delete a registration (its launches stop working at once)."""
    from lti_tool.services import platforms

    try:
        platforms.remove(db_session(), platform_id)
    except platforms.PlatformError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"platform {platform_id} removed")


@platforms_group.command("invite")
@click.option(
    "--hours", type=int, default=None, help="Validity in hours (default LTI_INVITE_TTL_HOURS)."
)
@click.option("--note", default=None, help="Who the invite is for.")
@with_appcontext
def platforms_invite(hours: int | None, note: str | None) -> None:
    """Print a single-use, expiring dynamic registration URL (last line)."""
    from lti_tool.lti.registration import create_invite

    hours = hours or current_app.config["LTI_INVITE_TTL_HOURS"]
    token = create_invite(db_session(), hours=hours, note=note)
    base = current_app.config["PUBLIC_BASE_URL"]
    click.echo(f"Paste this URL into the LMS as the registration URL (valid {hours} h, once):")
    click.echo(f"{base}/lti/register?invite={token}")


# -- keys ----------------------------------------------------------------------------
@click.group("keys")
def keys_group() -> None:
    """The tool's signing keys."""


@keys_group.command("rotate")
@click.option("--grace-days", type=int, default=None, help="Keep old keys published this long.")
@with_appcontext
def keys_rotate(grace_days: int | None) -> None:
    """Add a new signing key; old keys are retired after the grace period."""
    from lti_tool.services import keys

    days = current_app.config["LTI_KEY_GRACE_DAYS"] if grace_days is None else grace_days
    new, retiring = keys.rotate(db_session(), days)
    click.echo(f"new signing key {new.kid}; {len(retiring)} key(s) retire in {days} day(s)")


@keys_group.command("list")
@with_appcontext
def keys_list() -> None:
    """List keys: kid, created, and when each retires."""
    from lti_tool.models import ToolKey

    for k in db_session().scalars(select(ToolKey).order_by(ToolKey.created_at)):
        state = "signing" if k.retire_at is None else f"retires {k.retire_at:%Y-%m-%d %H:%M}"
        click.echo(f"{k.kid}\t{k.created_at:%Y-%m-%d %H:%M}\t{state}")


# -- course templates ----------------------------------------------------------------
def _activities():
    return current_app.extensions["lti_activities"]


@click.group("templates")
def templates_group() -> None:
    """Course templates (the 6-week structures)."""


@templates_group.command("list")
@with_appcontext
def templates_list() -> None:
    """Installed templates: id, version, mode, title."""
    from lti_tool.models import CourseModule

    rows = db_session().scalars(select(CourseModule).order_by(CourseModule.key, CourseModule.id))
    found = False
    for m in rows:
        found = True
        click.echo(f"{m.key}\t{m.version}\t{m.mode}\t{m.title}")
    if not found:
        click.echo("no templates installed")


@templates_group.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def templates_validate(paths: tuple[Path, ...]) -> None:
    """Check templates; exit 0 when all are valid, else print file:line: field: message."""
    from course_templates.loader import TemplateError, load_template

    failed = False
    for path in paths:
        try:
            spec = load_template(path, _activities())
        except TemplateError as exc:
            failed = True
            click.echo(str(exc), err=True)
        else:
            click.echo(f"{path}: valid ({spec.id} {spec.version})")
    if failed:
        sys.exit(1)


@templates_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def templates_import(paths: tuple[Path, ...]) -> None:
    """Install templates as new versions; courses keep the version they started with."""
    from course_templates.loader import TemplateError, install, load_template

    db = db_session()
    try:
        specs = [load_template(p, _activities()) for p in paths]
        results = [
            install(db, spec, _activities(), source=p, instance_path=current_app.instance_path)
            for p, spec in zip(paths, specs, strict=True)
        ]
    except TemplateError as exc:
        db.rollback()
        raise click.ClickException(str(exc)) from exc
    db.commit()
    for spec, (_module, created) in zip(specs, results, strict=True):
        state = "installed" if created else "already installed"
        click.echo(f"{spec.id} {spec.version}: {state}")


@templates_group.command("export")
@click.argument("template_id")
@click.option("--version", "version", default=None, help="Default: the newest installed.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
@with_appcontext
def templates_export(template_id: str, version: str | None, output: Path | None) -> None:
    """Write an installed template back as YAML (standard output by default)."""
    import yaml

    from lti_tool.models import CourseModule

    query = select(CourseModule).where(CourseModule.key == template_id)
    if version:
        query = query.where(CourseModule.version == version)
    module = db_session().scalars(query.order_by(CourseModule.id.desc())).first()
    if module is None:
        raise click.ClickException(f"no installed template {template_id} {version or ''}".strip())
    text = yaml.safe_dump(module.definition, allow_unicode=True, sort_keys=False, width=100)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")


# -- setup and serving ---------------------------------------------------------------
@click.command("init")
@click.option("--demo/--no-demo", default=None, help="Register the demo platform.")
@with_appcontext
def init(demo: bool | None) -> None:
    """Prepare a database: migrations, signing key, shipped templates, demo platform."""
    from course_templates.loader import install, load_template, shipped_templates
    from lti_tool.migrate import upgrade
    from lti_tool.services import keys

    upgrade(current_app)
    db = db_session()
    key, created = keys.ensure_signing_key(db)
    click.echo(f"signing key {key.kid} ({'created' if created else 'kept'})")
    from lti_tool.models import CourseModule

    loaded = {(m.key, m.version) for m in db.scalars(select(CourseModule))}
    for path in shipped_templates():
        spec = load_template(path, _activities())
        if (spec.id, spec.version) not in loaded:
            install(db, spec, _activities(), source=path, instance_path=current_app.instance_path)
            click.echo(f"loaded template {spec.id} {spec.version}")
    db.commit()
    if demo if demo is not None else current_app.config.get("DEMO"):
        from lti_tool.demo.platform import ensure_demo_registration

        ensure_demo_registration(current_app, db)
        click.echo(f"demo launcher: {current_app.config['PUBLIC_BASE_URL']}/demo/")


@click.command("serve")
@click.option(
    "--workers", type=int, default=None, help="Default: WEB_CONCURRENCY, or 2*cores+1 (at most 12)."
)
@click.option("--threads", type=int, default=None, help="Threads per worker (default 4).")
@with_appcontext
def serve(workers: int | None, threads: int | None) -> None:
    """Serve with gunicorn on HOST:PORT."""
    from lti_tool.server import default_workers, run_gunicorn

    cfg = current_app.config
    n = workers or default_workers(os.environ, os.cpu_count())
    if cfg.get("DEMO"):
        click.echo(f"Demo launcher: {cfg['PUBLIC_BASE_URL']}/demo/")
    click.echo(f"Serving {cfg['PUBLIC_BASE_URL']} with {n} worker(s)")
    from lti_tool.jobs import uses_rq

    if uses_rq(current_app):
        click.echo("Background jobs go through Redis: run `lti-tool worker` as well")
    sys.stdout.flush()
    run_gunicorn(f"{cfg['HOST']}:{cfg['PORT']}", workers=n, threads=threads or 4)


@click.command("cleanup")
@with_appcontext
def cleanup() -> None:
    """Delete expired used-nonce records, deep-linking launch data, resumable
    uploads and export files (EXPORT_KEEP_DAYS); let each activity plugin do its
    housekeeping (e.g. finish quiz attempts whose time is up)."""
    from lti_tool.db import utcnow
    from lti_tool.services.launches import purge_expired

    db = db_session()
    for table, n in purge_expired(db).items():
        click.echo(f"{table}: {n} deleted")
    from lti_tool.uploads.sessions import purge_expired as purge_uploads

    for what, n in purge_uploads(db, current_app, utcnow()).items():
        click.echo(f"uploads: {what}: {n}")
    from lti_tool.exports import purge_expired as purge_exports

    for what, n in purge_exports(db, current_app, utcnow(), sweep=True).items():
        click.echo(f"exports: {what}: {n}")
    for plugin in current_app.extensions["lti_activities"]:
        for what, n in plugin.housekeeping(db, utcnow()).items():
            click.echo(f"{plugin.name}: {what}: {n}")
    db.commit()


# -- gradebook passback -----------------------------------------------------------------
@click.group("grades")
def grades_group() -> None:
    """Scores on their way to the LMS gradebooks (AGS)."""


@grades_group.command("sync")
@click.option("--context", "context_pk", type=int, default=None, help="Only this course (id).")
@click.option("--all", "resend_failed", is_flag=True, help="Also retry failed scores now.")
@with_appcontext
def grades_sync(context_pk: int | None, resend_failed: bool) -> None:
    """Deliver every score that is due now (and with --all, the failed ones too)."""
    from grading.delivery import deliver_due
    from grading.outbox import retry_failed
    from lti_tool.lti.http import http_session

    db = db_session()
    if resend_failed:
        click.echo(f"{retry_failed(db, context_pk)} failed score(s) queued again")
        db.commit()
    key = current_app.extensions["lti_registry"].signing_key(db)
    total = 0
    while True:
        out = deliver_due(db, key, http_session(), context_pk=context_pk)
        total += out.delivered
        for err in out.errors[:5]:
            click.echo(f"  LMS: {err}", err=True)
        if out.retried or not (out.delivered + out.failed + out.superseded):
            break  # done, or the rest waits for its retry time
    click.echo(f"{total} delivered")
    _grades_status(db, context_pk)


@grades_group.command("status")
@click.option("--context", "context_pk", type=int, default=None, help="Only this course (id).")
@with_appcontext
def grades_status(context_pk: int | None) -> None:
    """Scores per state, and the failed ones with the LMS's answer."""
    _grades_status(db_session(), context_pk)


def _grades_status(db, context_pk: int | None) -> None:
    from grading.outbox import status

    st = status(db, context_pk)
    click.echo(
        "pending {pending}  sending {sending}  delivered {delivered}  failed {failed}".format(
            **st.counts
        )
    )
    if st.last_delivered:
        click.echo(f"last delivered {st.last_delivered:%Y-%m-%d %H:%M:%S} UTC")
    if st.next_try:
        click.echo(f"next try {st.next_try:%Y-%m-%d %H:%M:%S} UTC")
    for row in st.failed:
        click.echo(
            f"failed\tcontext {row.context_pk}\tuser {row.user_id}\t{row.resource_id}\t"
            f"{row.last_status or '-'}\t{(row.last_error or '')[:200]}"
        )


# -- demo data -----------------------------------------------------------------------
@click.group("demo")
def demo_group() -> None:
    """Demo data for trials and benchmarks."""


@demo_group.command("seed")
@click.option(
    "--participants",
    "-n",
    type=click.IntRange(1, 1_000_000),
    required=True,
    help="How many synthetic peserta the new class gets.",
)
@click.option("--module", "module_key", default=None, help="Template id (default DEMO_MODULE).")
@click.option("--seed", "seed", type=int, default=1, show_default=True, help="Random seed.")
@with_appcontext
def demo_seed(participants: int, module_key: str | None, seed: int) -> None:
    """Create a finished demo class full of synthetic peserta and their activity (scores,
    UKG and TA, survey answers, logins, attendance); the last line is its context id."""
    import time

    from lti_tool.demo.seed import SeedError, seed_class

    key = module_key or current_app.config["DEMO_MODULE"]
    began = time.perf_counter()
    try:
        result = seed_class(
            current_app._get_current_object(),
            db_session(),
            participants,
            key,
            seed=seed,
            echo=click.echo,
        )
    except SeedError as exc:
        raise click.ClickException(str(exc)) from exc
    total = sum(result.counts.values())
    click.echo(f"{total:,} rows in {time.perf_counter() - began:.1f} s")
    click.echo(str(result.context_pk))
