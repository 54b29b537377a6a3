"""The reference point of the launch benchmark: a bare pylti1p3 Flask tool.

The login and launch views of the pylti1p3 Flask example (dmitry-viskov/
pylti1.3-flask-example, game/app.py) stripped to what issue 2 names as the reference:
the registration in memory (ToolConfDict), the platform key set cached, a one-line page;
the state and nonce in Flask's cookie session, no cookie-check page, no debug print.

With BASELINE_KEYSET_CACHE=0 the key set is fetched at every launch instead, as the
example and pylti1p3's defaults do (the library caches it only when told to,
`set_public_key_caching`): bench/launch.py measures that beside it as an extra figure.
Configured by environment variables written by bench/launch.py.
"""

from __future__ import annotations

import json
import os

from flask import Flask
from pylti1p3.contrib.flask import (
    FlaskCacheDataStorage,
    FlaskMessageLaunch,
    FlaskOIDCLogin,
    FlaskRequest,
)
from pylti1p3.tool_config import ToolConfDict


class _Cache:
    """A process-local dict cache with the Flask-Caching interface pylti1p3 uses."""

    def __init__(self) -> None:
        self.data: dict[str, object] = {}

    def get(self, key):
        return self.data.get(key)

    def set(self, key, value, timeout=None):
        self.data[key] = value
        return True


app = Flask(__name__)
app.secret_key = "bench-baseline"
settings = json.loads(os.environ["BASELINE_TOOL_CONF"])
with open(os.environ["BASELINE_PRIVATE_KEY"]) as f:
    private_key = f.read()
tool_conf = ToolConfDict(settings)
for iss in settings:
    tool_conf.set_private_key(iss, private_key, client_id=settings[iss][0]["client_id"])
cache = _Cache()


@app.route("/lti/login", methods=["GET", "POST"])
def login():
    flask_request = FlaskRequest()
    target = flask_request.get_param("target_link_uri")
    oidc = FlaskOIDCLogin(flask_request, tool_conf)  # state and nonce in the cookie session
    return oidc.disable_check_cookies().redirect(target)


@app.route("/lti/launch", methods=["POST"])
def launch():
    flask_request = FlaskRequest()
    message_launch = FlaskMessageLaunch(flask_request, tool_conf)
    if os.environ.get("BASELINE_KEYSET_CACHE", "1") == "1":
        message_launch.set_public_key_caching(FlaskCacheDataStorage(cache), cache_lifetime=7200)
    data = message_launch.get_launch_data()
    return f"<p>Hello {data.get('name', '')}</p>"
