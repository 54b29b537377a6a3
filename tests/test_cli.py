"""The admin CLI: platforms add|list|invite|activate|remove, keys rotate|list, templates."""

import re

import pytest

from lti_tool.lti.registration import hash_token
from lti_tool.models import Platform, RegistrationInvite


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


ADD = [
    "platforms",
    "add",
    "--name",
    "Moodle LPMP",
    "--issuer",
    "https://moodle.example.id",
    "--client-id",
    "abc123",
    "--auth-login-url",
    "https://moodle.example.id/mod/lti/auth.php",
    "--auth-token-url",
    "https://moodle.example.id/mod/lti/token.php",
    "--key-set-url",
    "https://moodle.example.id/mod/lti/certs.php",
    "--deployment-id",
    "1",
    "--deployment-id",
    "2",
]


def test_platform_lifecycle(runner, db):
    r = runner.invoke(args=[*ADD, "--pending"])
    assert r.exit_code == 0, r.output
    p = db.query(Platform).one()
    assert p.status == "pending" and p.deployment_ids == ["1", "2"]

    r = runner.invoke(args=["platforms", "list"])
    assert "pending\tMoodle LPMP\thttps://moodle.example.id\tabc123\t1,2" in r.output

    # a second client id for the same issuer is a separate registration
    second = [a if a != "abc123" else "def456" for a in ADD]
    assert runner.invoke(args=[*second, "--pending"]).exit_code == 0
    # the same pair twice is refused
    dup = runner.invoke(args=ADD)
    assert dup.exit_code != 0 and "already registered" in dup.output

    r = runner.invoke(args=["platforms", "activate", "--all"])
    assert "2 platform(s) activated" in r.output
    db.expire_all()
    assert {p.status for p in db.query(Platform)} == {"active"}

    r = runner.invoke(args=["platforms", "remove", str(p.id)])
    assert r.exit_code == 0
    db.expire_all()
    assert db.query(Platform).count() == 1


def test_add_refuses_bad_urls(runner, db):
    bad = [a if a != "https://moodle.example.id/mod/lti/certs.php" else "certs.php" for a in ADD]
    r = runner.invoke(args=bad)
    assert r.exit_code != 0 and "key set URL must be an http(s) URL" in r.output
    assert db.query(Platform).count() == 0


def test_activate_needs_a_target(runner):
    r = runner.invoke(args=["platforms", "activate"])
    assert r.exit_code != 0


def test_invite_prints_single_use_url_last(runner, db, app):
    r = runner.invoke(args=["platforms", "invite", "--hours", "2"])
    assert r.exit_code == 0
    last = r.output.strip().splitlines()[-1]
    m = re.fullmatch(
        re.escape(app.config["PUBLIC_BASE_URL"]) + r"/lti/register\?invite=(\S+)", last
    )
    assert m, last
    invite = db.query(RegistrationInvite).one()
    assert invite.token_hash == hash_token(m.group(1))  # only the hash is stored
    assert invite.used_at is None


def test_keys_rotate_and_list(runner):
    before = runner.invoke(args=["keys", "list"]).output.strip().splitlines()
    assert len(before) == 1 and before[0].endswith("signing")
    r = runner.invoke(args=["keys", "rotate", "--grace-days", "3"])
    assert "1 key(s) retire in 3 day(s)" in r.output
    after = runner.invoke(args=["keys", "list"]).output.strip().splitlines()
    assert len(after) == 2
    assert sum(line.endswith("signing") for line in after) == 1
