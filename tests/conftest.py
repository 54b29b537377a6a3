"""Shared fixtures: a migrated app on a temporary SQLite database, and a live server.

With TEST_DATABASE_URL, TEST_REDIS_URL and TEST_STORAGE_URL=s3 (`make test-pg`) the
same apps run on PostgreSQL, Redis and S3-compatible storage (tests/engines.py).

The live server is the real WSGI app on a real port (werkzeug, threaded), so the
platform peer talks to it over HTTP exactly as an LMS would.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from lti_tool import create_app
from lti_tool.config import TestingConfig
from lti_tool.db import get_db
from tests import engines

TEST_TEMPLATES = Path(__file__).parent / "data" / "templates"


def pytest_report_header(config) -> str:
    return f"engines: {engines.describe()}"


def pytest_sessionstart(session) -> None:
    problem = engines.unreachable()
    if problem:
        pytest.exit(f"{problem}\n(.ci/run starts PostgreSQL and Redis; see README)", returncode=3)


def build_app(tmp_path: Path, *, templates: Iterable[Path] | None = None, **overrides) -> Flask:
    """A migrated test app; `templates` are the YAML templates to install (default: the
    shared ones in tests/data/templates; plugins add their own small modules)."""
    from tests.activity_types import TestGraded

    settings = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    settings.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'tool.db'}",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "PUBLIC_BASE_URL": "http://127.0.0.1:1",
            "SECRET_KEY": "test-secret",
            "EXTRA_ACTIVITY_TYPES": (TestGraded,),
        }
    )
    settings.update(engines.settings_for(tmp_path))  # PostgreSQL, Redis, S3 (make test-pg)
    settings.update(overrides)
    app = create_app(settings)
    engines.adopt(app, tmp_path)
    templates = sorted(TEST_TEMPLATES.glob("*.yaml")) if templates is None else templates
    prepare(app, templates, migrate=engines.needs_migration(app))
    return app


def prepare(app: Flask, templates: Iterable[Path], *, migrate: bool = True) -> None:
    """Migrate (unless the database is a clone of a migrated one), create a signing key
    and install the templates."""
    from course_templates.loader import install, load_template
    from lti_tool.migrate import upgrade
    from lti_tool.services.keys import ensure_signing_key

    if migrate:
        upgrade(app)
    with app.app_context():
        from lti_tool.db import session

        db = session()
        ensure_signing_key(db)
        activities = app.extensions["lti_activities"]
        for path in templates:
            spec = load_template(path, activities)
            install(db, spec, activities, source=path, instance_path=app.instance_path)
        db.commit()


def shared_templates(*extra: Path) -> list[Path]:
    """The shared test templates and a plugin's own."""
    return [*sorted(TEST_TEMPLATES.glob("*.yaml")), *extra]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = build_app(tmp_path)
    yield app
    get_db(app).engine.dispose()


@pytest.fixture
def db(app: Flask):
    from lti_tool.db import session

    with app.app_context():
        yield session()


@dataclass
class LiveTool:
    app: Flask
    base_url: str

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture
def live_tool(tmp_path: Path) -> Iterator[LiveTool]:
    """The tool served on a free port of 127.0.0.1; PUBLIC_BASE_URL points at it."""
    with served(build_app(tmp_path)) as tool:
        yield tool


@contextmanager
def served(app: Flask) -> Iterator[LiveTool]:
    """Serve `app` on a free port (real HTTP, threaded) until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveTool(app=app, base_url=base)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        get_db(app).engine.dispose()


# -- the platform peer ---------------------------------------------------------------
CLIENT_ID = "tool-client-1"
DEPLOYMENT_ID = "deployment-1"
COUNTED_TABLES = (
    "user",
    "context",
    "membership",
    "resource_link",
    "activity_log",
    "lti_used_nonce",
    "lti_launch_data",
    "platform",
    "platform_deployment",
)


@pytest.fixture
def lms(live_tool: LiveTool):
    """A platform peer on its own port, registered with the tool (and the tool with it)."""
    from tests.peer import TestPlatform

    with TestPlatform() as platform:
        connect_peer(live_tool, platform)
        yield platform


def connect_peer(tool: LiveTool, platform) -> None:
    """Register the platform peer with the served tool, and the tool with the peer."""
    from lti_tool.db import session
    from lti_tool.services.platforms import add_platform

    platform.register_tool(tool.base_url, client_id=CLIENT_ID, deployment_ids=[DEPLOYMENT_ID])
    with tool.app.app_context():
        add_platform(
            session(),
            name="Peer LMS",
            issuer=platform.issuer,
            client_id=CLIENT_ID,
            auth_login_url=platform.auth_url,
            auth_token_url=platform.token_url,
            key_set_url=platform.jwks_url,
            deployment_ids=[DEPLOYMENT_ID],
        )
        session().commit()


_CSRF = re.compile(r'(?:name="csrf_token" value|name="csrf-token" content)="([^"]+)"')


def make_browser():
    """The peer's browser, submitting forms as a real browser does: a POST carries the
    CSRF token of the last page of the tool it showed (tests of the CSRF check itself
    post with a plain session)."""
    from tests.peer import make_browser as peer_browser

    session = peer_browser()
    seen: dict[str, str] = {}

    def remember(response, *args, **kwargs):
        if "text/html" in response.headers.get("Content-Type", ""):
            match = _CSRF.search(response.text)
            if match:
                seen["token"] = html.unescape(match.group(1))

    session.hooks["response"].append(remember)
    post = session.post

    platform_side = ("/lti/launch", "/demo/", "/deep_link_return", "/token", "/register")

    def post_with_token(url, data=None, **kwargs):
        form = {} if data is None else data
        own_form = isinstance(form, dict) and not any(p in url for p in platform_side)
        if own_form and "csrf_token" not in form and "token" in seen:
            data = {**form, "csrf_token": seen["token"]}
        return post(url, data=data, **kwargs)

    session.post = post_with_token
    return session


@pytest.fixture
def browser():
    with make_browser() as b:
        yield b


def row_counts(app: Flask) -> dict[str, int]:
    """How many rows each table that a launch may write holds."""
    from sqlalchemy import text

    with get_db(app).engine.connect() as conn:
        return {
            t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
            for t in COUNTED_TABLES
        }


FORM_PAGE = "/module/gp-pedagogik-a/pendahuluan/rencana-belajar"


def open_a_form(browser, live_tool, context_path: str) -> None:
    """Let a peserta's browser see a page with a form (the learning plan), so that its
    next POST carries a valid CSRF token: role checks are then what is tested."""
    page = browser.get(live_tool.url(context_path + FORM_PAGE))
    assert 'name="csrf_token"' in page.text


def add_member(
    db,
    issuer: str,
    context_pk: int,
    sub: str,
    *,
    role: str = "peserta",
    first_launch=None,
    name: str | None = None,
):
    """A user with a membership in a course, written directly (a roster member when
    `first_launch` is None); for tests of rules about many or old launches."""
    from lti_tool.models import Membership, User

    user = User(issuer=issuer, sub=sub, name=name or sub)
    db.add(user)
    db.flush()
    db.add(
        Membership(
            user_id=user.id,
            context_pk=context_pk,
            lti_roles=[],
            role=role,
            first_launch_at=first_launch,
            last_launch_at=first_launch,
        )
    )
    return user


def launch_as(live_tool, lms, browser, roles, sub, target, name=None):
    """A launch from the platform peer into `target` (a path of the tool); the first page."""
    result = lms.launch(
        browser,
        roles=roles,
        user={"sub": sub, "name": name or sub.title()},
        target_link_uri=target if target.startswith("http") else live_tool.url(target),
    )
    assert result.ok, result.error
    return result.final_response
