"""The web journey in a real browser (Debian's Chromium driven by Playwright) across two
nodes of the live network: an officer of Viet Nam asks France to preserve data, France
acknowledges and executes, and Viet Nam sees it happen — plus refusal and who may look.

Skipped when Chromium is not installed, unless HANOI247_REQUIRE_BROWSER=1 (then it fails).
Screenshots go to the test's temporary directory; with HANOI247_SCREENSHOTS=1 they are
also copied to docs/screenshots/.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from hanoi247.demo import Network, Node
from tests.conftest import COMPLETE
from tests.e2e.conftest import api

pytestmark = [pytest.mark.browser, pytest.mark.network]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
WAIT_MS = 15_000  # the longest any expectation waits: several htmx polls (every 3 s) and a delivery
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
UUID_PATH = r"/requests/[0-9a-f-]{36}/$"


# -- the network --------------------------------------------------------------------------


def nodes(net: Network) -> tuple[Node, Node]:
    vnm, fra = net.node("VNM"), net.node("FRA")
    for node in (vnm, fra):
        assert node.login.get("state") == node.state, (
            f"the node started for {node.state} says it is {node.login.get('state')}: "
            "a node must take its identity from its own data directory, not from the environment"
        )
    return vnm, fra


# -- browser ------------------------------------------------------------------------------


def _chromium_path() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session. Listed first by the tests so that a missing
    browser skips them before the network of nodes is started."""
    path = _chromium_path()
    reason = ""
    if path is None:
        reason = f"Chromium is not installed ({CHROMIUM} absent and no `chromium` on PATH)"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            reason = "the Python package `playwright` is not installed"
    if reason:
        if os.environ.get("HANOI247_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and HANOI247_REQUIRE_BROWSER=1 requires the browser tests", pytrace=False)
        pytest.skip(f"browser tests need Debian's Chromium: {reason}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Any, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """Pages in separate browser contexts: the nodes all live on 127.0.0.1, and cookies do not
    tell ports apart, so each node (and each person) gets its own cookie jar."""
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    contexts: list[Any] = []
    console: list[str] = []

    def make() -> Any:
        context = browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="UTC")
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        return page

    yield make
    for i, context in enumerate(contexts):
        for j, page in enumerate(context.pages):  # the last state of every page, for a failing run
            with contextlib.suppress(Exception):
                page.screenshot(path=tmp_path / f"context{i}-page{j}-last.png", full_page=True)
        context.close()
    if console:
        print("browser console errors:\n  " + "\n  ".join(dict.fromkeys(console)))


@pytest.fixture(scope="session")
def screenshot(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Save a PNG into the session's temporary directory; copy it to docs/screenshots/
    only when HANOI247_SCREENSHOTS=1, so an ordinary run leaves the tree clean."""
    directory = tmp_path_factory.mktemp("screenshots")
    publish = os.environ.get("HANOI247_SCREENSHOTS") == "1"

    def take(page: Any, name: str, *, full_page: bool = False) -> Path:
        path = directory / name
        page.screenshot(path=path, full_page=full_page, animations="disabled", caret="hide")
        if publish:
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_SCREENSHOTS / name)
        return path

    return take


# -- logging in ---------------------------------------------------------------------------

STEP = 30
_used_step: dict[tuple[str, str], int] = {}


def _demo_user(node: Node, username: str) -> dict[str, Any]:
    return next(u for u in node.login["users"] if u["username"] == username)


def _current_code(node: Node, user: dict[str, Any]) -> str:
    """The user's TOTP code for a time step this device has not accepted yet (django-otp
    refuses a step twice): waits for the next step only if this user already used this one."""
    from django_otp.oath import TOTP

    secret = user["totp_secret"]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    who = (node.state, user["username"])
    deadline = time.monotonic() + STEP + 2
    while int(time.time()) // STEP <= _used_step.get(who, -1) and time.monotonic() < deadline:
        time.sleep(0.25)
    totp = TOTP(key, step=STEP)
    totp.time = time.time()
    _used_step[who] = totp.t()
    return f"{totp.token():06d}"


def log_in(page: Any, node: Node, username: str, *, shot: Callable[[Any], Any] | None = None) -> None:
    """Password, then the authenticator code — as a person does it."""
    from playwright.sync_api import expect

    user = _demo_user(node, username)
    page.goto(node.url + "/accounts/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Username").fill(user["username"])
    page.get_by_label("Password").fill(user["password"])
    if shot:
        shot(page)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code from your authenticator app").fill(_current_code(node, user))
    page.get_by_role("button", name="Verify").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


# -- helpers ------------------------------------------------------------------------------


def _status(page: Any) -> Any:
    return page.locator("#status-h .status")


def _wait_for(check: Callable[[], bool], what: str, timeout: float = WAIT_MS / 1000) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def _submitted_through_api(net: Network) -> dict[str, Any]:
    """A complete request from VNM to FRA, submitted and held by FRA."""
    with api(net, "VNM") as vnm:
        created = vnm.post("/requests", json={"type": "preservation", "recipient": "FRA", **COMPLETE})
        assert created.status_code == 201, created.text
        req = created.json()
        submitted = vnm.post(f"/requests/{req['id']}/submit")
        assert submitted.status_code == 200, submitted.text
    with api(net, "FRA") as fra:

        def held() -> bool:
            r = fra.get(f"/requests/{req['id']}")
            return r.status_code == 200 and r.json()["status"] == "delivered"

        _wait_for(held, "FRA to hold the request")
    return req


# -- the journey --------------------------------------------------------------------------


def test_pages_get_their_stylesheet_and_htmx(browser: Any, live_network: Network, new_page: Callable[[], Any]) -> None:
    """Everything below leans on the node serving its own CSS and htmx (no CDN)."""
    for node in nodes(live_network):
        page = new_page()
        page.goto(node.url + "/accounts/login/")
        for asset in ("/static/hanoi247/site.css", "/static/hanoi247/htmx.min.js"):
            status = page.request.get(node.url + asset).status
            assert status == 200, f"{node.state} answers {status} for {asset}"
        assert page.evaluate("getComputedStyle(document.querySelector('header.top')).display") == "flex", (
            f"the stylesheet is not applied on {node.state}"
        )
        assert page.evaluate("typeof window.htmx") == "object", f"htmx did not load on {node.state}"


def test_preservation_journey_between_two_nodes(
    browser: Any,
    live_network: Network,
    new_page: Callable[[], Any],
    screenshot: Callable[..., Path],
) -> None:
    from playwright.sync_api import expect

    vnm, fra = nodes(live_network)

    # 1. Viet Nam's 24/7 officer logs in: password, then the authenticator code.
    page = new_page()
    log_in(page, vnm, "vnm.officer", shot=lambda p: screenshot(p, "login.png"))
    expect(page.get_by_role("heading", name="24/7 desk")).to_be_visible()

    # 2. A preservation request to France with only some elements, submitted too early.
    page.get_by_role("main").get_by_role("link", name="New request").click()
    expect(page.get_by_role("heading", name="New request")).to_be_visible()
    screenshot(page, "choose-type.png", full_page=True)
    page.get_by_role("link", name="Expedited preservation of stored electronic data").click()
    expect(page.get_by_role("heading", name="Expedited preservation of stored electronic data")).to_be_visible()

    def field(name: str) -> Any:
        return page.locator(f'[name="{name}"]')

    field("recipient").select_option("FRA")
    field("requesting_authority").fill(COMPLETE["requesting_authority"])
    field("offence").fill(COMPLETE["offence"])
    field("summary_of_facts").fill(COMPLETE["summary_of_facts"])
    page.get_by_label("Subscriber information").check()
    page.get_by_label("Traffic data").check()
    # An IP address without its time of use and time zone: a lawyer would send it back.
    field("identifiers-0-kind").select_option("ip_address")
    field("identifiers-0-value").fill("203.0.113.7")
    field("period-start").fill("2026-11-01")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Submit to the requested State").click()
    assert posted.value.status == 422

    errors = page.locator("#form-errors")
    expect(errors).to_be_visible()
    expect(errors.get_by_role("heading")).to_have_text("This request cannot be sent yet")
    for expected in (
        "Stored data to preserve: missing (Art. 42 (c))",
        "Relation of the data to the offence: missing (Art. 42 (c))",
        "Why preservation is necessary: missing (Art. 42 (e))",
        "an IP address's time of use means nothing without its time zone (Art. 42 (c))",
        "a period needs its end date (Art. 42 (c))",
    ):
        expect(errors).to_contain_text(expected)
    expect(page.locator("#f-necessity .error")).to_contain_text("Art. 42 (e)")
    expect(page.locator("#f-data_to_preserve .error")).to_contain_text("Art. 42 (c)")
    expect(page.locator("#f-identifiers-0-time_zone .error")).to_contain_text("time zone")
    # Everything typed is still there.
    expect(field("recipient")).to_have_value("FRA")
    expect(field("requesting_authority")).to_have_value(COMPLETE["requesting_authority"])
    expect(field("offence")).to_have_value(COMPLETE["offence"])
    expect(field("summary_of_facts")).to_have_value(COMPLETE["summary_of_facts"])
    expect(field("identifiers-0-value")).to_have_value("203.0.113.7")
    expect(field("period-start")).to_have_value("2026-11-01")
    expect(page.get_by_label("Subscriber information")).to_be_checked()
    expect(page.get_by_label("Traffic data")).to_be_checked()
    expect(page.get_by_label("Content data")).not_to_be_checked()
    draft = page.get_by_role("main").get_by_text(re.compile(r"VNM-\d{4}-\d{5} · draft"))
    expect(draft).to_be_visible()
    reference = draft.inner_text().split(" ")[0]
    screenshot(page, "form-missing.png")

    # 3. Completed and submitted: delivered to France within seconds.
    field("identifiers-0-observed_at").fill("2026-11-12T21:04")
    field("identifiers-0-time_zone").fill("Asia/Ho_Chi_Minh")
    field("period-end").fill("2026-11-20")
    field("data_to_preserve").fill(COMPLETE["data_to_preserve"])
    field("relation_to_offence").fill(COMPLETE["relation_to_offence"])
    field("custodian").fill(COMPLETE["custodian"])
    field("necessity").fill(COMPLETE["necessity"])
    field("follow_up_mla").check()
    page.get_by_role("button", name="Submit to the requested State").click()
    expect(page).to_have_url(re.compile(UUID_PATH))
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)  # the same draft, not a second one
    expect(page.get_by_role("status")).to_contain_text("Request submitted")
    expect(_status(page)).to_have_text(re.compile(r"^(Submitted|Delivered)$"))
    expect(_status(page)).to_have_text("Delivered")
    request_path = page.url.removeprefix(vnm.url)

    # 4. France's officer, in another browser, finds it on the desk, acknowledges, executes.
    fra_page = new_page()
    log_in(fra_page, fra, "fra.officer")
    incoming = fra_page.get_by_role("region", name=re.compile("^Incoming"))
    row = incoming.get_by_role("row").filter(has=fra_page.get_by_role("link", name=reference))
    expect(row).to_contain_text("Viet Nam")
    expect(row).to_contain_text("Delivered")
    expect(incoming.locator(".badge")).to_be_visible()
    screenshot(fra_page, "desk-incoming.png")
    row.get_by_role("link", name=reference).click()
    expect(fra_page).to_have_url(fra.url + request_path)
    expect(_status(fra_page)).to_have_text("Delivered")
    expect(fra_page.get_by_role("main")).to_contain_text(COMPLETE["necessity"])
    fra_page.get_by_role("button", name="Acknowledge").click()
    expect(_status(fra_page)).to_have_text("Acknowledged")

    until = date.today() + timedelta(days=75)
    note = "Preserved at Example Mail SAS; the provider was ordered not to inform the user."
    fra_page.get_by_label("Data preserved until").fill(until.isoformat())
    fra_page.get_by_label("Note to the requesting State").fill(note)
    fra_page.get_by_role("button", name="Mark executed").click()
    expect(_status(fra_page)).to_have_text("Executed")
    expect(fra_page.locator("#live")).to_contain_text(f"Data preserved until: {until.isoformat()}")

    # 5. Viet Nam's page, left open, follows: executed, the date, who did what for France.
    expect(_status(page)).to_have_text("Executed")
    expect(page.locator("#live")).to_contain_text(f"Data preserved until: {until.isoformat()}")
    timeline = page.get_by_role("region", name="Timeline")
    for kind in ("created", "submitted", "delivered", "acknowledged", "executed"):
        expect(timeline.locator(f"li.ev-{kind}")).to_have_count(1)
    for kind in ("acknowledged", "executed"):
        expect(timeline.locator(f"li.ev-{kind}")).to_contain_text("24/7 Officer FRA")
        expect(timeline.locator(f"li.ev-{kind}")).to_contain_text("FRA)")
    expect(timeline.locator("li.ev-executed")).to_contain_text(note)
    expect(timeline.locator("li.ev-submitted")).to_contain_text("24/7 Officer VNM")
    screenshot(page, "request-executed.png", full_page=True)


def test_refusal_grounds_and_reasons_reach_the_requesting_state(
    browser: Any,
    live_network: Network,
    new_page: Callable[[], Any],
) -> None:
    from playwright.sync_api import expect

    vnm, _ = nodes(live_network)
    req = _submitted_through_api(live_network)
    reasons = "The conduct described is not an offence under French law, and dual criminality is reserved."
    with api(live_network, "FRA") as fra:
        refused = fra.post(f"/requests/{req['id']}/refuse", json={"grounds": ["dual_criminality"], "reasons": reasons})
        assert refused.status_code == 200, refused.text

    page = new_page()
    log_in(page, vnm, "vnm.supervisor")
    page.goto(f"{vnm.url}/requests/{req['id']}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(req["reference"])
    expect(_status(page)).to_have_text("Refused")  # the refusal travels back; htmx shows it
    refusal = page.locator(".refusal")
    expect(refusal).to_contain_text("Dual criminality is reserved for this offence and is not met")
    expect(refusal).to_contain_text(reasons)
    refused_event = page.get_by_role("region", name="Timeline").locator("li.ev-refused")
    expect(refused_event).to_contain_text("24/7 Officer FRA")
    expect(refused_event).to_contain_text("FRA)")
    expect(refused_event).to_contain_text(reasons)


def assert_not_found(page: Any, url: str, reference: str) -> None:
    """404, the styled "Not found" page, and not a trace of the request."""
    from playwright.sync_api import expect

    response = page.goto(url)
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert reference not in page.content()


def test_outsiders_and_other_nodes_cannot_see_a_request(
    browser: Any,
    live_network: Network,
    new_page: Callable[[], Any],
) -> None:
    from playwright.sync_api import expect

    vnm, fra = nodes(live_network)
    with api(live_network, "VNM") as client:
        created = client.post("/requests", json={"type": "preservation", "recipient": "FRA", **COMPLETE})
        assert created.status_code == 201, created.text
        draft = created.json()
    path = f"/requests/{draft['id']}/"

    # Not logged in: sent to log in, and nothing of the request is shown.
    outsider = new_page()
    for target in (path, path + "live/"):
        outsider.goto(vnm.url + target)
        expect(outsider).to_have_url(re.compile(r"/accounts/login/\?next=" + re.escape(target) + "$"))
        expect(outsider.get_by_role("heading", name="Log in")).to_be_visible()
        assert draft["reference"] not in outsider.content()

    # France's officer, logged in on France's node: Viet Nam's draft does not exist there.
    foreign = new_page()
    log_in(foreign, fra, "fra.central")
    assert_not_found(foreign, fra.url + path, draft["reference"])
    # …and France's session means nothing to Viet Nam's node.
    foreign.goto(vnm.url + path)
    expect(foreign).to_have_url(re.compile(r"/accounts/login/"))
    assert draft["reference"] not in foreign.content()

    # Logged in on Viet Nam's node, but not in a role that handles cases: 404, not 403.
    admin = new_page()
    log_in(admin, vnm, "vnm.admin")
    assert_not_found(admin, vnm.url + path, draft["reference"])


def test_case_page_shows_both_directions_on_one_timeline(
    browser: Any,
    live_network: Network,
    new_page: Callable[[], Any],
    screenshot: Callable[..., Path],
) -> None:
    """A preservation and its follow-up MLA request, one case; the requested State's page
    offers the moves open to it, with the conditions the requesting State set."""
    from playwright.sync_api import expect

    from hanoi247.cooperation.schemas import REQUEST_TYPES

    vnm, fra = nodes(live_network)
    conditions = {"confidential": True, "use_limitation": "Only for the fraud investigation 12/2026"}
    with api(live_network, "VNM") as client:
        first = client.post(
            "/requests",
            json={"type": "preservation", "recipient": "FRA", "case_title": "Phishing of 300 savers",
                  "handling": "TLP:AMBER", "conditions": conditions, **COMPLETE},
        ).json()  # fmt: skip
        client.post(f"/requests/{first['id']}/submit")
    with api(live_network, "FRA") as client:
        _wait_for(lambda: client.get(f"/requests/{first['id']}").status_code == 200, "FRA to hold it")
        client.post(f"/requests/{first['id']}/actions/acknowledged", json={})
        until = (date.today() + timedelta(days=90)).isoformat()
        client.post(f"/requests/{first['id']}/actions/executed", json={"data": {"preserved_until": until}})
    with api(live_network, "VNM") as client:
        _wait_for(lambda: client.get(f"/requests/{first['id']}").json()["status"] == "executed", "execution")
        mla = client.post(
            "/requests",
            json={"type": "mla_stored_data", "recipient": "FRA", "case_id": first["case_id"], "follows": first["id"],
                  "conditions": conditions, **REQUEST_TYPES["mla_stored_data"].examples["complete"]},
        ).json()  # fmt: skip
        assert client.post(f"/requests/{mla['id']}/submit").status_code == 200

    page = new_page()
    log_in(page, vnm, "vnm.central")
    page.goto(f"{vnm.url}/cases/{first['case_id']}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Phishing of 300 savers")
    expect(page.get_by_role("row")).to_have_count(3)  # header + the two requests
    expect(page.locator("ol.timeline li.ev-executed")).to_have_count(1)
    expect(page.locator("ol.timeline li.ev-submitted")).to_have_count(2)
    screenshot(page, "case.png", full_page=True)

    fra_page = new_page()
    log_in(fra_page, fra, "fra.central")
    fra_page.goto(f"{fra.url}/requests/{mla['id']}/")
    expect(fra_page.locator(".conditions")).to_contain_text("Only for the fraud investigation 12/2026")
    expect(fra_page.locator(".conditions")).to_contain_text("TLP:AMBER")
    expect(fra_page.locator(".parties")).to_contain_text(f"Follows up {first['reference']}")
    fra_page.get_by_role("button", name="Acknowledge").click()
    expect(_status(fra_page)).to_have_text("Acknowledged")
    for move in ("Ask for additional information", "Consult before refusing or postponing", "Mark executed"):
        expect(fra_page.get_by_text(move, exact=True).first).to_be_visible()
    screenshot(fra_page, "request-actions.png", full_page=True)
