"""The LTI endpoints. Their paths are part of the public contract (see README)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as web_session
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from lti_tool.db import session as db_session
from lti_tool.extensions import csrf
from lti_tool.i18n import use_locale
from lti_tool.lti import deep_linking, platform_storage
from lti_tool.lti.config_json import tool_configuration
from lti_tool.lti.errors import LtiError
from lti_tool.lti.http import http_session
from lti_tool.lti.login import LOGIN_PARAMS, start_login
from lti_tool.lti.registration import register_platform
from lti_tool.lti.state import cookie_name, cookie_value, read_state
from lti_tool.lti.stores import StoredLaunch, launch_data_store, nonce_store
from lti_tool.lti.toolconf import registration_for
from lti_tool.lti.validation import ToolMessageLaunch, ValidatorSettings
from lti_tool.models import Deployment, Platform
from lti_tool.services import keys as key_service
from lti_tool.services.launches import DL_REQUEST, locale_of, record_launch
from lti_tool.services.roles import STAFF
from lti_tool.web.auth import current_user_id, review_url, sign_in, target_url

bp = Blueprint("lti", __name__, url_prefix="/lti")


def base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


def registry():
    return current_app.extensions["lti_registry"]


def _state_cookie_args() -> dict[str, Any]:
    https = current_app.config["LTI_HTTPS"]
    return {
        "path": "/lti/",
        "secure": https,
        "httponly": True,
        "samesite": "None" if https else "Lax",
        "partitioned": https,
    }


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt  # initiated by the platform (third-party login initiation)
def login():
    """OIDC third-party initiated login: sign a state, bind it to this browser."""
    source = request.form if request.method == "POST" else request.args
    params = {k: source.get(k, "") for k in LOGIN_PARAMS}
    url, state = start_login(
        db_session(),
        registry(),
        params,
        secret=current_app.config["SECRET_KEY"],
        base_url=base_url(),
        redirect_uri=base_url() + "/lti/launch",
    )
    # When the platform offers its storage, a page keeps the state there too.
    target = platform_storage.storage_target(params)
    response = _storage_login_page(url, state, target) if target else redirect(url, code=302)
    # The state cookie binds the login to this browser (partitioned inside iframes).
    response.set_cookie(
        cookie_name(state),
        cookie_value(state),
        max_age=current_app.config["LTI_STATE_TTL"],
        **_state_cookie_args(),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/launch", methods=["POST"])
@csrf.exempt  # the platform's form_post; protected by state, nonce and signature
def launch():
    """Validate the id_token, then record the launch; a refusal writes nothing."""
    form = request.form.to_dict()
    if platform_storage.has_proof(form) and not platform_storage.posted_by_own_page(
        request.headers, base_url()
    ):
        # Values read back from the platform's storage come from the tool's own page
        # only; a page elsewhere must not post a token and state it obtained.
        raise LtiError("state_mismatch", "platform storage values posted by another site")
    db = db_session()
    cfg = current_app.config
    launcher = ToolMessageLaunch(
        db,
        registry=registry(),
        keysets=current_app.extensions["lti_keysets"],
        http=http_session(),
        settings=ValidatorSettings(
            secret=cfg["SECRET_KEY"],
            state_ttl=cfg["LTI_STATE_TTL"],
            leeway=cfg["LTI_JWT_LEEWAY"],
            max_token_age=cfg["LTI_MAX_TOKEN_AGE"],
        ),
        cookies=dict(request.cookies),
        form=form,
        nonces=nonce_store(current_app),
    )
    try:
        launcher.validate()
        if launcher.new_deployment is not None:
            db.add(
                Deployment(platform_id=launcher.platform.id, deployment_id=launcher.new_deployment)
            )
        outcome = record_launch(
            db,
            launcher.platform,
            launcher.claims,
            launch_data_ttl=cfg["LTI_LAUNCH_DATA_TTL"],
            launch_store=launch_data_store(current_app),
        )
        db.commit()
    except platform_storage.PlatformStorageCheckError:
        db.rollback()
        use_locale(locale_of(launcher.unverified_claims()))
        return _storage_launch_page(launcher, form)
    except LtiError as exc:
        db.rollback()
        # Word the refusal in the language the (untrusted) token asked for.
        use_locale(locale_of(launcher.unverified_claims()))
        if exc.code == "cookies_blocked" and launcher.state is not None:
            return _cookies_blocked_page(launcher.state.login_params, exc)
        raise
    except IntegrityError as exc:  # two concurrent posts of one token: one wins
        db.rollback()
        raise LtiError("bad_nonce", "nonce used concurrently") from exc

    sign_in(outcome)
    if outcome.role in STAFF:
        from lti_tool.services.roster_refresh import after_staff_launch

        current_app.extensions["roster_refresh_last"] = after_staff_launch(
            current_app._get_current_object(), db, outcome.context_id
        )
    login_params = launcher.state.login_params if launcher.state is not None else {}
    if launcher.bound_by_storage and (
        outcome.message_type == DL_REQUEST or outcome.review is not None
    ):
        # The browser keeps no session cookie, and the picker and the review pages
        # need it on their next request: a new window it is.
        error = LtiError("cookies_blocked", "session cookie refused after a storage launch")
        response = current_app.make_response(_cookies_blocked_page(login_params, error)[0])
    elif outcome.message_type == DL_REQUEST:
        response = redirect(url_for("lti.deep_link_picker", launch_id=outcome.launch_id), 303)
    elif outcome.review is not None:  # LtiSubmissionReviewRequest, from the gradebook
        response = redirect(review_url(outcome), 303)
    else:
        # The first page is rendered in the launch response itself: one round trip
        # less on a slow mobile connection. The page replaces its URL in the
        # browser's history, so a reload is a GET of the page, not a re-POST.
        if launcher.bound_by_storage:  # no session cookie kept: a new window goes on
            g.cookies_notice = _new_window_url(login_params)
        response = render_internal(target_url(outcome))
    response.delete_cookie(cookie_name(form["state"]), **_state_cookie_args())
    return response


def render_internal(location: str):
    """Run the view behind `location` (a path of this app) within this request."""
    adapter = current_app.url_map.bind("", script_name=request.script_root or "/")
    path = location.partition("#")[0]
    endpoint, args = adapter.match(path[len(request.script_root) :] or "/", method="GET")
    g.canonical_url = location
    response = current_app.make_response(current_app.view_functions[endpoint](**args))
    response.headers["Cache-Control"] = "no-store"
    return response


def _new_window_url(login_params: dict[str, Any]) -> str:
    """The login again, for a top-level window (where the tool's cookies are
    first-party): without the platform storage, which only serves frames."""
    from urllib.parse import urlencode

    kept = {k: v for k, v in login_params.items() if k != "lti_storage_target"}
    return base_url() + "/lti/login?" + urlencode(kept)


def _cookies_blocked_page(login_params: dict[str, Any], exc: LtiError):
    """Offer to run the whole launch in a top-level window, where cookies work."""
    url = _new_window_url(login_params)
    html = render_template("lti/cookies_blocked.html", new_window_url=url, error=exc)
    return html, 400


def _storage_login_page(auth_url: str, state: str, target: str):
    """The login's answer when the platform offers its storage: static/lti_storage.js
    stores this login's entries in the platform's frame `target`, then opens
    `auth_url` (at once if the platform does not answer)."""
    cfg = current_app.config
    nonce = read_state(cfg["SECRET_KEY"], state, cfg["LTI_STATE_TTL"]).nonce
    html = render_template(
        "lti/storage_login.html",
        auth_url=auth_url,
        target=target,
        platform_origin=platform_storage.origin(auth_url),
        entries=platform_storage.entries(cfg["SECRET_KEY"], state, nonce),
    )
    return current_app.make_response(html)


def _storage_launch_page(launcher: ToolMessageLaunch, form: dict[str, str]):
    """A launch without the state cookie whose login used the platform's storage:
    static/lti_storage.js reads the entries back (only their keys are on this page)
    and posts them with the id_token and state; if it cannot, the page offers a new
    window."""
    assert launcher.state is not None and launcher.platform is not None
    login = launcher.state
    stored = platform_storage.entries(current_app.config["SECRET_KEY"], form["state"], login.nonce)
    html = render_template(
        "lti/storage_launch.html",
        action=base_url() + "/lti/launch",
        fields={"id_token": form["id_token"], "state": form["state"]},
        target=platform_storage.storage_target(login.login_params),
        platform_origin=platform_storage.origin(launcher.platform.auth_login_url),
        state_key=stored.state_key,
        nonce_key=stored.nonce_key,
        new_window_url=_new_window_url(login.login_params),
        error=LtiError("cookies_blocked", "the platform's storage did not answer"),
    )
    response = current_app.make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jwks")
def jwks():
    response = jsonify(key_service.jwks(db_session()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/config")
def config():
    """Everything an LMS admin needs for a manual registration, as JSON."""
    return jsonify(tool_configuration(base_url(), key_service.jwks(db_session())))


@bp.get("/register")
def register():
    """LTI Dynamic Registration, opened by the LMS with openid_configuration and a token."""
    db = db_session()
    try:
        platform = register_platform(
            db,
            http_session(),
            invite=request.args.get("invite", ""),
            openid_configuration=request.args.get("openid_configuration", ""),
            registration_token=request.args.get("registration_token"),
            base_url=base_url(),
        )
        db.commit()
    except LtiError:
        db.rollback()
        raise
    return render_template("lti/registered.html", platform=platform)


def _launch_data_for_user(launch_id: str) -> StoredLaunch:
    uid = current_user_id()
    if uid is None or web_session.get("dl_launch") != launch_id:
        abort(403)
    data = launch_data_store(current_app).get(db_session(), launch_id)
    if data is None:
        abort(403)
    return data


@bp.get("/deep-link/<launch_id>")
def deep_link_picker(launch_id: str):
    _launch_data_for_user(launch_id)
    items = deep_linking.placeables(db_session())
    return render_template("lti/deep_link_picker.html", items=items, launch_id=launch_id)


@bp.post("/deep-link/<launch_id>")
def deep_link_respond(launch_id: str):
    """Sign the Deep Linking response with the chosen items and send it to the platform."""
    db = db_session()
    data = _launch_data_for_user(launch_id)
    chosen_refs = request.form.getlist("item")
    available = {p.ref: p for p in deep_linking.placeables(db)}
    chosen = [available[r] for r in chosen_refs if r in available]
    claims = data.claims
    settings = claims.get(deep_linking.DL_SETTINGS) or {}
    if not chosen:
        items = list(available.values())
        error = _("Choose at least one item to place.")
        return render_template(
            "lti/deep_link_picker.html", items=items, launch_id=launch_id, error=error
        ), 400
    multiple = settings.get("accept_multiple", True) not in (False, "false")
    if not multiple and len(chosen) > 1:
        items = list(available.values())
        error = _("This course accepts only one item at a time: choose one.")
        return render_template(
            "lti/deep_link_picker.html", items=items, launch_id=launch_id, error=error
        ), 400
    platform = db.get(Platform, data.platform_id)
    if platform is None:
        abort(404)
    registration = registration_for(platform, registry().signing_key(db))
    deployment_id = claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"]
    link = deep_linking.ToolDeepLink(registration, deployment_id, settings)
    token = link.get_response_jwt(deep_linking.resources(chosen, base_url()))
    launch_data_store(current_app).delete(db, launch_id)
    db.commit()
    web_session.pop("dl_launch", None)
    return render_template(
        "lti/auto_post.html",
        action=settings["deep_link_return_url"],
        fields={"JWT": token},
        title=_("Placing the chosen items in your course..."),
    )
