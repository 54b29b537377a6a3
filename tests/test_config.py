"""Settings come from config classes with environment overrides of the same name."""

import pytest

from lti_tool.config import ProductionConfig, load_config


def test_environment_overrides_are_typed():
    env = {"PORT": "8080", "DEMO": "1", "LTI_STATE_TTL": "300", "PUBLIC_BASE_URL": "https://t.id"}
    cfg = load_config(None, env)
    assert cfg["PORT"] == 8080 and cfg["DEMO"] is True and cfg["LTI_STATE_TTL"] == 300
    assert cfg["PUBLIC_BASE_URL"] == "https://t.id"
    assert load_config(None, {"DEMO": "no"})["DEMO"] is False


def test_demo_is_off_unless_asked():
    assert load_config(None, {})["DEMO"] is False
    assert load_config(ProductionConfig, {})["DEMO"] is False


@pytest.mark.parametrize(("name", "value"), [("PORT", "eighty"), ("DEMO", "maybe")])
def test_bad_values_are_refused(name, value):
    with pytest.raises(ValueError, match=name):
        load_config(None, {name: value})


def test_unknown_environment_is_refused():
    with pytest.raises(ValueError, match="LTI_TOOL_ENV"):
        load_config(None, {"LTI_TOOL_ENV": "prod"})


def test_dict_config_ignores_the_environment(monkeypatch):
    monkeypatch.setenv("PORT", "9999")
    assert load_config({"TESTING": True})["PORT"] == 5000


def test_https_base_url_makes_iframe_cookies(tmp_path):
    from tests.conftest import build_app

    app = build_app(tmp_path, PUBLIC_BASE_URL="https://tool.example.id")
    assert app.config["SESSION_COOKIE_SAMESITE"] == "None"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_PARTITIONED"] is True
    from lti_tool.db import session
    from lti_tool.services.platforms import add_platform

    with app.app_context():
        add_platform(
            session(),
            name="p",
            issuer="https://lms.example.id",
            client_id="c",
            auth_login_url="https://lms.example.id/auth",
            auth_token_url="https://lms.example.id/t",
            key_set_url="https://lms.example.id/jwks",
            deployment_ids=["d"],
        )
    client = app.test_client()
    r = client.get(
        "/lti/login",
        base_url="https://tool.example.id",
        query_string={
            "iss": "https://lms.example.id",
            "login_hint": "u",
            "client_id": "c",
            "target_link_uri": "https://tool.example.id/lti/launch",
        },
    )
    assert r.status_code == 302
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("lti1p3-state-")
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned", "Path=/lti/"):
        assert attribute in cookie


def test_http_demo_keeps_lax_cookies(app):
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_PARTITIONED"] is False


def test_proxy_headers_are_trusted_only_when_configured(tmp_path):
    from flask import request

    from tests.conftest import build_app

    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "tool.example.id"}
    for count, expected in ((0, "http://localhost/"), (1, "https://tool.example.id/")):
        app = build_app(tmp_path / str(count), PROXY_COUNT=count)
        seen = {}

        @app.get("/where")
        def where(seen=seen):
            seen["url"] = request.host_url
            return "ok"

        app.test_client().get("/where", headers=headers)
        assert seen["url"] == expected


def test_static_files_are_fingerprinted_and_cached(app):
    import hashlib
    from pathlib import Path

    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    css = (Path(app.static_folder) / "app.css").read_bytes()
    url = f"/static/app.css?v={hashlib.sha256(css).hexdigest()[:12]}"
    assert f'href="{url}"' in page
    r = client.get(url)
    assert r.status_code == 200 and "max-age=31536000" in r.headers["Cache-Control"]
