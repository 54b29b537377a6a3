"""Tool signing keys: creation, JWKS, rotation with a grace period."""

from datetime import timedelta

from lti_tool.db import utcnow
from lti_tool.models import ToolKey
from lti_tool.services import keys


def test_jwks_publishes_the_signing_key(db):
    key = keys.current_signing_key(db)
    published = keys.jwks(db)["keys"]
    assert [k["kid"] for k in published] == [key.kid]
    assert published[0]["alg"] == "RS256" and published[0]["use"] == "sig"
    assert "d" not in published[0]  # never the private part


def test_rotation_keeps_old_key_published_until_grace_ends(db):
    old = keys.current_signing_key(db)
    new, retiring = keys.rotate(db, grace_days=7)
    assert [k.kid for k in retiring] == [old.kid]
    assert keys.current_signing_key(db).kid == new.kid
    assert {k["kid"] for k in keys.jwks(db)["keys"]} == {old.kid, new.kid}
    # after the grace period the next rotation deletes it
    db.get(ToolKey, old.id).retire_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert old.kid not in {k["kid"] for k in keys.jwks(db)["keys"]}
    newest, _ = keys.rotate(db, grace_days=7)
    assert db.get(ToolKey, old.id) is None
    assert {k["kid"] for k in keys.jwks(db)["keys"]} == {new.kid, newest.kid}


def test_jwks_endpoint(app):
    client = app.test_client()
    r = client.get("/lti/jwks")
    assert r.status_code == 200
    assert r.json["keys"][0]["kty"] == "RSA"
