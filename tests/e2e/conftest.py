"""Fixtures of the end-to-end tests: the tool over HTTPS on localhost, the LMS peer on
127.0.0.1 with course pages embedding the tool in an iframe, and a headless Chromium
(one per test module) driving them.

`browser_options` may be overridden in a module (or parametrized indirectly) to run a
path with other browser settings, such as third-party cookies blocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CLIENT_ID, DEPLOYMENT_ID, LiveTool, build_app, shared_templates
from tests.e2e import harness
from tests.e2e.frame import LmsBrowser

LAPORAN_TEMPLATE = (
    Path(__file__).resolve().parents[2]
    / "plugins"
    / "laporan"
    / "tests"
    / "data"
    / "plpg-laporan-uji.yaml"
)


@pytest.fixture(scope="module", autouse=True)
def _chromium_present() -> None:
    reason = harness.missing_browser()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory) -> tuple[Path, Path]:
    return harness.make_tls_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def e2e_tool(tmp_path_factory, tls_cert) -> Iterator[LiveTool]:
    """The tool with the shared test templates and a PLPG module, over HTTPS."""
    app = build_app(
        tmp_path_factory.mktemp("tool"),
        templates=shared_templates(LAPORAN_TEMPLATE),
        PUBLIC_BASE_URL="https://localhost:1",  # https: the production cookie settings
    )
    with harness.served_https(app, *tls_cert) as tool:
        yield tool


@pytest.fixture(scope="module")
def e2e_lms(e2e_tool: LiveTool, tls_cert):
    """The platform peer, registered with the tool and the tool with it."""
    from lti_tool.db import session
    from lti_tool.services.platforms import add_platform
    from tests.peer import TestPlatform

    with TestPlatform() as platform:
        platform.tool_tls_verify = str(tls_cert[0])
        platform.register_tool(
            e2e_tool.base_url, client_id=CLIENT_ID, deployment_ids=[DEPLOYMENT_ID]
        )
        with e2e_tool.app.app_context():
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
        yield platform


@pytest.fixture(scope="module")
def browser_options(request) -> harness.BrowserOptions:
    """The Chromium settings; parametrize it indirectly to run a module's paths with
    others (say BrowserOptions(block_third_party_cookies=True))."""
    return getattr(request, "param", None) or harness.BrowserOptions()


@pytest.fixture(scope="module")
def driver(browser_options: harness.BrowserOptions):
    """One headless Chromium for the whole module."""
    drv = harness.new_driver(browser_options)
    try:
        yield drv
    finally:
        drv.quit()


@pytest.fixture
def lms_browser(driver, e2e_tool: LiveTool, e2e_lms, request) -> Iterator[LmsBrowser]:
    """The module's Chromium, fresh (no cookies, no cache), on LMS course pages."""
    driver.delete_all_cookies()
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    harness.set_viewport(driver, *harness.PHONE)
    browser = LmsBrowser(driver, e2e_tool, e2e_lms, test_name=request.node.name)
    yield browser
    browser.write_axe_report()  # test-artifacts/e2e/axe-<test>.txt
    driver.get("about:blank")
