"""The engines the suite runs on: SQLite and a local folder by default (each tmp_path's
SQLite file a copy of one migrated once per session); PostgreSQL, Redis and
S3-compatible storage when these are set (`make test-pg`):

- `TEST_DATABASE_URL` (e.g. `postgresql+psycopg://postgres@127.0.0.1:5432/test`): each
  app `build_app` makes gets a database of its own, cloned (`CREATE DATABASE ...
  TEMPLATE`) from one migrated once per session, so no test pays for the migrations;
- `TEST_REDIS_URL` (e.g. `redis://127.0.0.1:6379/0`): REDIS_URL, with a key prefix and
  a job queue of the app's own;
- `TEST_STORAGE_URL=s3`: one moto server (S3 API on 127.0.0.1) for the session, and a
  bucket of the app's own as STORAGE_URL.

An app built twice on the same `tmp_path` shares them, as two apps on one SQLite file
would. They are removed once no app uses them any more (the next `build_app` drops
what was released, the end of the session drops the rest); names carry the process
id, and leftovers of a session that died are dropped by the next one.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import itertools
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATABASE = os.environ.get("TEST_DATABASE_URL") or None
REDIS = os.environ.get("TEST_REDIS_URL") or None
STORAGE = (os.environ.get("TEST_STORAGE_URL") or "").lower() or None
if STORAGE not in (None, "s3"):
    raise RuntimeError(f"TEST_STORAGE_URL must be s3 or unset, got {STORAGE!r}")

#: Past this many live apps, look for released ones that only a reference cycle still
#: keeps (a full collection takes a while, so not at every test).
COLLECT_ABOVE = 12
_PID = os.getpid()
_counter = itertools.count(1)
_lock = threading.RLock()


@dataclass
class Resources:
    """What one tmp_path's apps share."""

    tag: str
    database: str | None = None
    bucket: str | None = None
    users: int = 0
    settings: dict[str, Any] = field(default_factory=dict)
    engines: list[Any] = field(default_factory=list)  # to close before the drop


_by_path: dict[str, Resources] = {}
_released: list[tuple[str, Resources]] = []  # appended by finalizers (no lock there)
_template: dict[str, Any] = {}  # the template database, its plugins, the admin engine
_services: dict[str, Any] = {}  # the moto server and its endpoint, the Redis client
#: Drops and spare clones happen on a thread of their own, while tests run.
_chores: queue.Queue = queue.Queue()
_spares: queue.Queue = queue.Queue()


def active() -> bool:
    return bool(DATABASE or REDIS or STORAGE)


def describe() -> str:
    parts = [
        "PostgreSQL" if DATABASE else "SQLite",
        "Redis" if REDIS else None,
        "S3 (moto)" if STORAGE else "local files",
    ]
    return " + ".join(p for p in parts if p)


def unreachable() -> str | None:
    """Why the chosen services cannot be used (None when they can), said once at the
    start rather than by every test."""
    if DATABASE:
        try:
            _admin_execute("SELECT 1")
        except Exception as exc:  # any failure means the same here
            return f"TEST_DATABASE_URL={DATABASE} cannot be used: {exc}"
    if REDIS:
        from redis import Redis

        try:
            Redis.from_url(REDIS, socket_connect_timeout=2).ping()
        except Exception as exc:  # any failure means the same here
            return f"TEST_REDIS_URL={REDIS} cannot be used: {exc}"
    return None


# -- the app's settings -----------------------------------------------------------------


def settings_for(tmp_path: Path) -> dict[str, Any]:
    """The settings that put an app built on `tmp_path` on the chosen engines (nothing
    with the defaults)."""
    if not active():
        return _sqlite_copy(tmp_path)
    _drop_released()
    key = str(tmp_path)
    with _lock:
        res = _by_path.get(key)
        if res is not None:
            return dict(res.settings)
        res = _by_path[key] = Resources(tag=f"t{_PID}_{next(_counter)}")
    if DATABASE:
        res.database = _take_clone()
        res.settings["DATABASE_URL"] = _url_of(res.database)
    if REDIS:
        prefix = f"lti-test:{res.tag}:"
        res.settings.update(
            REDIS_URL=REDIS, REDIS_KEY_PREFIX=prefix, JOBS_QUEUE=f"lti-test-{res.tag}"
        )
        _known_redis(prefix)
    if STORAGE:
        res.bucket = res.tag.replace("_", "-")
        endpoint = _moto_endpoint()
        _s3().create_bucket(Bucket=res.bucket)
        res.settings.update(STORAGE_URL=f"s3://{res.bucket}/tool", S3_ENDPOINT_URL=endpoint)
    return dict(res.settings)


def adopt(app: Any, tmp_path: Path) -> None:
    """Keep the tmp_path's resources while `app` lives."""
    if not active():
        return
    res = _by_path.get(str(tmp_path))
    if res is None:
        return
    from lti_tool.db import get_db

    res.users += 1
    res.engines.append(get_db(app).engine)  # the engine does not keep the app alive
    weakref.finalize(app, _release, str(tmp_path), res)


def needs_migration(app: Any) -> bool:
    """False when the app's database is a clone of the migrated template (with the same
    activity plugins, whose branches the migrations include)."""
    url = str(app.config.get("DATABASE_URL") or "")
    if DATABASE:
        ours = any(url == r.settings.get("DATABASE_URL") for r in list(_by_path.values()))
    else:
        ours = url in _sqlite["copies"]
    return not ours or _plugins_of(app) != _template.get("plugins")


def _release(key: str, res: Resources) -> None:
    # Called by the garbage collector at any moment: no lock, no I/O, only a note.
    res.users -= 1
    if res.users <= 0:
        _released.append((key, res))


def _drop_released() -> None:
    if len(_by_path) > COLLECT_ABOVE:
        gc.collect()
    while _released:
        key, res = _released.pop()
        with _lock:
            if _by_path.get(key) is res:
                del _by_path[key]
        _chore(_drop, res)


def _drop(res: Resources) -> None:
    for engine in res.engines:
        engine.dispose()  # closed connections make the drop quick (FORCE would wait)
    res.engines.clear()
    if res.database:
        _admin_execute(f'DROP DATABASE IF EXISTS "{res.database}" WITH (FORCE)')
    if REDIS:
        _flush_redis(res)
    if res.bucket:
        _drop_bucket(res.bucket)


# -- chores on a thread of their own ------------------------------------------------------


def _chore(f: Any, *args: Any) -> None:
    if not _services.get("janitor"):
        thread = threading.Thread(target=_janitor, name="test-engines", daemon=True)
        _services["janitor"] = thread
        thread.start()
    _chores.put((f, args))


def _janitor() -> None:
    while True:
        f, args = _chores.get()
        try:
            f(*args)
        except Exception as exc:  # reported; the session goes on
            print(f"tests/engines.py: {f.__name__} failed: {exc}", file=sys.stderr)
        finally:
            _chores.task_done()


@atexit.register
def _drop_everything() -> None:
    if _sqlite.get("dir"):
        shutil.rmtree(_sqlite["dir"], ignore_errors=True)
    if not active():
        return
    if _services.get("janitor"):
        _chores.join()
    with _lock:
        rest = [r for _k, r in _released] + list(_by_path.values())
        _released.clear()
        _by_path.clear()
    for res in rest:
        with contextlib.suppress(Exception):  # the session is over; leftovers go next time
            _drop(res)
    while not _spares.empty():
        _admin_execute(f'DROP DATABASE IF EXISTS "{_spares.get()}" WITH (FORCE)')
    if _template.get("name"):
        _admin_execute(f'DROP DATABASE IF EXISTS "{_template["name"]}" WITH (FORCE)')
    if _services.get("server"):
        _services["server"].stop()


# -- SQLite -------------------------------------------------------------------------------

_sqlite: dict[str, Any] = {"copies": set()}


def _sqlite_copy(tmp_path: Path) -> dict[str, Any]:
    """`make test`: the tmp_path's SQLite file starts as a copy of one migrated once per
    session (a file copy instead of running every migration for every test)."""
    target = tmp_path / "tool.db"
    url = f"sqlite:///{target}"
    if not target.exists():
        template = _sqlite.get("template") or _sqlite_template()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, target)
        _sqlite["copies"].add(url)
    return {"DATABASE_URL": url}


def _sqlite_template() -> Path:
    from sqlalchemy import text

    from lti_tool.db import get_db
    from lti_tool.migrate import upgrade

    folder = _session_dir()
    path = folder / "template.db"
    app = _template_app(f"sqlite:///{path}", folder / "instance")
    upgrade(app)
    engine = get_db(app).engine
    with engine.connect() as conn:  # everything in the main file: it alone is copied
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        conn.execute(text("PRAGMA journal_mode=DELETE"))
    engine.dispose()
    _template["plugins"] = _plugins_of(app)
    _sqlite["template"] = path
    return path


def _session_dir() -> Path:
    """A folder for the templates, removed at the end of the session."""
    if not _sqlite.get("dir"):
        _sqlite["dir"] = Path(tempfile.mkdtemp(prefix="lti-tpl-"))
    return _sqlite["dir"]


def _template_app(url: str, instance: Path) -> Any:
    from lti_tool import create_app
    from lti_tool.config import TestingConfig
    from tests.activity_types import TestGraded

    settings = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    settings.update(
        DATABASE_URL=url,
        SECRET_KEY="template",
        EXTRA_ACTIVITY_TYPES=(TestGraded,),
        INSTANCE_PATH=str(instance),
    )
    return create_app(settings)


# -- PostgreSQL ---------------------------------------------------------------------------


def _url_of(database: str) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(DATABASE).set(database=database)
    # Commits need not wait for the disk in tests (a crash only loses test data).
    query = dict(url.query)
    query.setdefault("options", "-c synchronous_commit=off")
    return url.set(query=query).render_as_string(hide_password=False)


def _admin():
    engine = _template.get("admin")
    if engine is None:
        from sqlalchemy import create_engine

        engine = create_engine(DATABASE, isolation_level="AUTOCOMMIT", pool_size=2)
        _template["admin"] = engine
    return engine


def _admin_execute(sql: str) -> Any:
    from sqlalchemy import text

    with _admin().connect() as conn:
        result = conn.execute(text(sql))
        return result.all() if result.returns_rows else None


def _take_clone() -> str:
    """A fresh clone of the template: one made ahead on the chores thread if ready,
    else one made now; and the next one is started."""
    if not _template.get("name"):
        _make_template()
    try:
        name = _spares.get_nowait()
    except queue.Empty:
        name = _clone()
    _chore(lambda: _spares.put(_clone()))
    return name


def _clone() -> str:
    name = f"lti_t{_PID}_{next(_counter)}"
    _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{_template["name"]}"')
    return name


def _make_template() -> str:
    """A database migrated to heads, once per session; the clones start from it."""
    from lti_tool.db import get_db
    from lti_tool.migrate import upgrade

    _drop_leftovers()
    name = f"lti_tpl_{_PID}"
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin_execute(f'CREATE DATABASE "{name}"')
    app = _template_app(_url_of(name), _session_dir() / "instance-pg")
    upgrade(app)
    get_db(app).engine.dispose()  # a template must have no connections when cloned
    _template["plugins"] = _plugins_of(app)
    _template["name"] = name
    return name


def _plugins_of(app: Any) -> tuple[str, ...]:
    return tuple(sorted(p.name for p in app.extensions["lti_activities"]))


def _drop_leftovers() -> None:
    """Databases of earlier sessions whose process is gone."""
    rows = _admin_execute(
        "SELECT datname FROM pg_database WHERE datname LIKE 'lti\\_t%' ESCAPE '\\'"
    )
    for (name,) in rows:
        pid = name.split("_")[2] if name.startswith("lti_tpl_") else name.split("_")[1][1:]
        if pid.isdigit() and not _alive(int(pid)):
            _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- Redis --------------------------------------------------------------------------------


def _redis() -> Any:
    from redis import Redis

    client = _services.get("redis")
    if client is None:
        client = _services["redis"] = Redis.from_url(REDIS)
    return client


def _known_redis(prefix: str) -> None:
    """Start the app's nonce epoch (lti_tool/lti/stores.py) an hour ago, as if the tool
    had known this Redis for a while: a fresh prefix otherwise starts it when the app
    starts, and refuses a launch of that same second (iat is in whole seconds)."""
    client = _redis()
    run_id = client.info("server").get("run_id", "norunid")
    client.set(f"{prefix}nonce-epoch", f"{run_id} {time.time() - 3600:.3f}")


def _flush_redis(res: Resources) -> None:
    client = _redis()
    for pattern in (f"{res.settings['REDIS_KEY_PREFIX']}*", f"rq:*{res.settings['JOBS_QUEUE']}*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)


# -- S3 (moto's server mode) ---------------------------------------------------------------


def _moto_endpoint() -> str:
    """One moto server for the session, on a free port of 127.0.0.1."""
    if "endpoint" not in _services:
        from moto.server import ThreadedMotoServer

        # Any credentials do for moto; never let boto3 look further (~/.aws, metadata).
        os.environ["AWS_ACCESS_KEY_ID"] = "testing"
        os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
        os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        _services["server"] = server
        _services["endpoint"] = f"http://{host}:{port}"
    return _services["endpoint"]


def _s3() -> Any:
    from lti_tool.storage_s3 import client

    return client(_moto_endpoint())


def _drop_bucket(bucket: str) -> None:
    s3 = _s3()
    for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", ()):
        s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", ()):
            s3.delete_object(Bucket=bucket, Key=obj["Key"])
    s3.delete_bucket(Bucket=bucket)


def stored_names(app: Any, area: str) -> list[str]:
    """Everything in one storage area of an app, unfinished copies included (for tests
    that check that nothing was left behind, whatever the backend)."""
    from lti_tool.storage import storage_for

    return sorted(e.name for e in storage_for(area, app).entries())
