"""Values longer than their columns: the form refuses them with its own message, and
whatever slips past the forms is refused by the database (PostgreSQL checks lengths,
SQLite does not) with a 400 page in the user's language, never a 500, nothing saved."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError

from lti_tool.db import get_db
from lti_tool.db import session as db_session
from lti_tool.models import Rombel
from tests.conftest import build_app
from tests.test_exports import Client, _klass


@pytest.fixture
def world(tmp_path):
    app = build_app(tmp_path, JOBS_BACKEND="inline")
    k = _klass(app)
    yield app, k
    get_db(app).engine.dispose()


def _rombel_names(app) -> list[str]:
    with get_db(app).sessionmaker() as db:
        return list(db.scalars(select(Rombel.name).order_by(Rombel.id)))


def test_a_rombel_name_longer_than_its_column_is_refused(world):
    app, k = world
    before = _rombel_names(app)
    pengampu = Client(app, k, "pengampu", "pengampu")
    r = pengampu.post(pengampu.base + "/kelas/rombel", {"name": "R" * 101})
    page = pengampu.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "terlalu panjang" in page and "100" in page
    assert _rombel_names(app) == before
    r = pengampu.post(pengampu.base + "/kelas/rombel", {"name": "R" * 100})
    assert _rombel_names(app) == [*before, "R" * 100]


def test_a_value_the_database_refuses_is_a_400_page_and_nothing_is_kept(world):
    app, k = world

    @app.get("/_test/too-long")
    def too_long():
        db = db_session()
        db.add(Rombel(instance_id=k.inst.id, name="kept only if committed"))
        db.flush()
        raise DataError("INSERT ...", {}, Exception("value too long for type varchar(100)"))

    r = app.test_client().get("/_test/too-long")
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Tidak ada yang disimpan" in page and "Traceback" not in page
    assert "kept only if committed" not in _rombel_names(app)
