"""The pieces of the end-to-end harness that are not fixtures: a TLS test certificate,
the tool served over HTTPS, a headless Chromium, and what each page of a path is
checked for (no horizontal scroll, page weight, language; later checks add a JS
snippet to PAGE_CHECKS).

The tool runs on https://localhost:<port> and the LMS (the platform peer) on
http://127.0.0.1:<port>: two sites, so the tool's cookies inside the LMS iframe are
third-party cookies, SameSite=None; Secure; Partitioned, exactly as in production.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from lti_tool.db import get_db
from tests.conftest import LiveTool

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
#: axe-core from the npm registry (`make axe`), run in every page of the E2E paths
AXE_JS = (
    Path(__file__).resolve().parents[2]
    / ".cache"
    / "axe"
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)
AXE_FAILS = ("serious", "critical")  # impacts that fail a path; the others are reported
PHONE = (360, 740)
DESKTOP = (1280, 800)
BUDGET_BYTES = 60 * 1024  # every learner page, compressed, user files excluded


def missing_browser() -> str | None:
    """Why the E2E tests cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists() and shutil.which(path.name) is None:
            return (
                f"{path} is missing: `make browser` installs Debian's chromium and chromium-driver"
            )
    return None


# -- TLS -------------------------------------------------------------------------------
def make_tls_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1 (two days)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "tool-cert.pem", directory / "tool-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def log_error(self, format: str, *args: Any) -> None:
        return None  # TLS handshakes Chromium abandons (preconnects) are not errors


@contextmanager
def served_https(app: Flask, cert: Path, key: Path) -> Iterator[LiveTool]:
    """Serve `app` over HTTPS on https://localhost:<free port> until the block ends.
    The app must have been built with an https PUBLIC_BASE_URL (cookie settings)."""
    assert app.config["LTI_HTTPS"], "build the app with an https PUBLIC_BASE_URL"
    server = make_server(
        "127.0.0.1",
        0,
        app,
        threaded=True,
        ssl_context=(str(cert), str(key)),
        request_handler=_QuietHandler,
    )
    base = f"https://localhost:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveTool(app=app, base_url=base)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        get_db(app).engine.dispose()


# -- the browser -----------------------------------------------------------------------
@dataclass(frozen=True)
class BrowserOptions:
    """How a test's Chromium is set up; later checks (blocked cookies, another UI
    language) only add fields here."""

    width: int = PHONE[0]
    height: int = PHONE[1]
    lang: str = "en-US"
    block_third_party_cookies: bool = False
    #: Safari's way: refuse every cookie of the tool (localhost) inside the LMS
    #: (127.0.0.1), partitioned ones too; the tool's own top-level windows keep theirs
    refuse_tool_cookies_in_lms: bool = False
    disable_features: tuple[str, ...] = ()  # merged: Chromium reads one --disable-features
    extra_args: tuple[str, ...] = ()


def new_driver(options: BrowserOptions):
    """A headless Chromium driven by Debian's chromedriver (never a download)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must not try to fetch anything
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium"))
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--ignore-certificate-errors",  # the tool's test certificate is self-signed
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--hide-scrollbars",
        # The tool's frame in the LMS page's process: chromedriver's performance log
        # then holds the frame's network events too (cookies are partitioned alike).
        "--disable-site-isolation-trials",
        "--disable-features="
        + ",".join(("IsolateOrigins", "site-per-process", *options.disable_features)),
        f"--lang={options.lang}",
        f"--window-size={options.width},{options.height}",
        *options.extra_args,
    ):
        opts.add_argument(arg)
    prefs: dict[str, Any] = {
        "intl.accept_languages": options.lang,
        "profile.block_third_party_cookies": options.block_third_party_cookies,
        "download.prompt_for_download": False,
    }
    if options.refuse_tool_cookies_in_lms:
        # A cookie content setting for (cookie's site, top-level site): block
        prefs["profile.content_settings.exceptions.cookies"] = {
            "localhost,127.0.0.1": {"setting": 2}
        }
    opts.add_experimental_option("prefs", prefs)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver_path = CHROMEDRIVER if CHROMEDRIVER.exists() else Path(shutil.which("chromedriver"))
    driver = webdriver.Chrome(service=Service(str(driver_path)), options=opts)
    driver.set_page_load_timeout(30)
    set_viewport(driver, options.width, options.height)
    return driver


def set_viewport(driver, width: int, height: int) -> None:
    """An exact CSS viewport (a desktop window has a minimum width; a phone has none)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


# -- network: what a page load transfers -----------------------------------------------
@dataclass
class Transfer:
    url: str
    bytes: int
    status: int | None = None
    from_cache: bool = False
    headers: dict[str, str] = field(default_factory=dict)  # response headers, lower-case


@dataclass
class PageLoad:
    """The requests one page load made to the tool, with their bytes on the wire
    (CDP Network.loadingFinished encodedDataLength: headers and compressed body)."""

    name: str
    url: str
    transfers: list[Transfer] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(t.bytes for t in self.transfers)

    @property
    def static_fetched(self) -> list[Transfer]:
        """Static files that came over the network (not from the browser's cache)."""
        return [
            t
            for t in self.transfers
            if "/static/" in urlsplit(t.url).path and not t.from_cache and t.bytes > 0
        ]


def drain_network(driver) -> None:
    driver.get_log("performance")


def collect_network(driver, origin: str, *, exclude: Callable[[str], bool]) -> list[Transfer]:
    """The tool's requests since the last drain (all frames; user files excluded)."""
    sent: dict[str, str] = {}
    received: dict[str, dict[str, Any]] = {}
    cached: set[str] = set()
    done: dict[str, int] = {}
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        method, params = msg.get("method"), msg.get("params", {})
        rid = params.get("requestId")
        if method == "Network.requestWillBeSent":
            sent[rid] = params["request"]["url"]
        elif method == "Network.responseReceived":
            received[rid] = params["response"]
        elif method == "Network.requestServedFromCache":
            cached.add(rid)
        elif method == "Network.loadingFinished":
            done[rid] = int(params.get("encodedDataLength", 0))
    transfers = []
    for rid, url in sent.items():
        if not url.startswith(origin) or exclude(url):
            continue
        response = received.get(rid, {})
        from_cache = (
            rid in cached
            or response.get("fromDiskCache", False)
            or response.get("fromPrefetchCache", False)
        )
        headers = {k.lower(): str(v) for k, v in (response.get("headers") or {}).items()}
        transfers.append(
            Transfer(url, done.get(rid, 0), response.get("status"), bool(from_cache), headers)
        )
    return transfers


def write_weights(test_name: str, loads: list[PageLoad]) -> Path:
    """The page weights of a path as a test artefact (one line a page)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{test_name}-page-weights.txt"
    lines = [f"{'KB':>6}  {'requests':>8}  page"]
    for load in loads:
        lines.append(f"{load.total / 1024:6.1f}  {len(load.transfers):8d}  {load.name}")
    path.write_text("\n".join(lines) + "\n")
    return path


# -- checks on every page of a path ----------------------------------------------------
#: (name, JS returning a list of problems) run in the tool's frame on every page; axe-core
#: runs after them (run_axe).
PAGE_CHECKS: list[tuple[str, str]] = [
    (
        "no horizontal scroll",
        "var d = document.documentElement;"
        "return d.scrollWidth > d.clientWidth ? ['page is ' + d.scrollWidth + "
        "'px wide in a ' + d.clientWidth + 'px viewport: ' + "
        "Array.from(document.querySelectorAll('body *')).filter(function (e) {"
        "  var r = e.getBoundingClientRect(); return r.right > d.clientWidth + 0.5;"
        "}).slice(0, 5).map(function (e) {"
        "  return e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') +"
        "  ' (' + Math.round(e.getBoundingClientRect().right) + 'px)';"
        "}).join(', ')] : [];",
    ),
]


# -- accessibility: axe-core in the tool's document ---------------------------------------
_AXE_RUN = """
var done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations'], iframes: false}).then(function (r) {
  done(r.violations.map(function (v) {
    return {id: v.id, impact: v.impact || 'minor', help: v.help, helpUrl: v.helpUrl,
            targets: v.nodes.map(function (n) { return n.target.join(' '); })};
  }));
}, function (e) { done({error: String(e)}); });
"""


@dataclass(frozen=True)
class AxeViolation:
    """One axe rule broken on one page, with the elements that break it."""

    rule: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]
    page: str

    @property
    def fails(self) -> bool:
        return self.impact in AXE_FAILS

    def __str__(self) -> str:
        return (
            f"{self.impact} {self.rule}: {self.help} on {self.page}: "
            f"{', '.join(self.targets)} ({self.help_url})"
        )


@lru_cache(maxsize=1)
def axe_source() -> str:
    """axe.min.js, or a failure saying how to get it (the checks are not optional)."""
    if not AXE_JS.exists():
        raise AssertionError(
            f"{AXE_JS} is missing: the accessibility checks need axe-core from the npm "
            "registry; run `make axe` (needs node and npm) or `make test`, which does"
        )
    return AXE_JS.read_text(encoding="utf-8")


def run_axe(driver, page: str) -> list[AxeViolation]:
    """axe-core's violations in the document the driver is in (the tool's frame); nested
    frames (a video player) are not the tool's and are left out."""
    if not driver.execute_script("return !!window.axe;"):
        driver.execute_script(axe_source())
    driver.set_script_timeout(60)
    found = driver.execute_async_script(_AXE_RUN)
    if isinstance(found, dict):
        raise AssertionError(f"axe-core failed on {page}: {found.get('error')}")
    return [
        AxeViolation(v["id"], v["impact"], v["help"], v["helpUrl"], tuple(v["targets"]), page)
        for v in found
    ]


def write_axe_report(test_name: str, found: list[AxeViolation], pages: int) -> Path:
    """Every axe violation of a path (the failing ones also fail the test)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"axe-{test_name}.txt"
    counts: dict[str, int] = {}
    for v in found:
        counts[v.impact] = counts.get(v.impact, 0) + 1
    head = ", ".join(f"{n} {impact}" for impact, n in sorted(counts.items())) or "none"
    lines = [f"axe-core on {pages} pages, violations: {head}", *sorted(str(v) for v in found)]
    path.write_text("\n".join(lines) + "\n")
    return path


def wait_until(predicate: Callable[[], Any], timeout: float = 15, what: str = "") -> Any:
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)
