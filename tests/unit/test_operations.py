"""The 24/7 desk (issue #6): rosters and hand-overs, alerts by e-mail (a real SMTP server)
and signed webhooks (a real HTTP server), quiet hours, the escalation ladder with a frozen
clock, the dashboard's flat query count, calendars, metrics, the public on-call document."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hanoi247.accounts.models import ApiToken
from hanoi247.cooperation import services as cooperation
from hanoi247.cooperation.models import Deadline, Request, RequestEvent
from hanoi247.cooperation.schemas import REQUEST_TYPES
from hanoi247.directory import services as directory
from hanoi247.federation.envelope import iso
from hanoi247.federation.models import OutboxMessage
from hanoi247.operations import services
from hanoi247.operations.logs import JsonFormatter
from hanoi247.operations.models import Escalation, EscalationRung, Notification, Shift
from tests.conftest import verified_client
from tests.unit.test_inbox import envelope, post, request_message

ALLOWED = ["officer", "central", "supervisor"]
DENIED = ["admin", "secretariat", "foreign"]


def incoming(network: Any, own_keys: Any, code: str = "preservation") -> Request:
    """A request FRA sent to this node (VNM), as it arrives over the federation inbox."""
    msg = request_message(network["fra"])
    if code != "preservation":
        msg["body"]["request"]["type"] = code
        msg["body"]["request"]["payload"] = dict(REQUEST_TYPES[code].examples["complete"])
    response = post(envelope(network["fra"], msg, own_keys))
    assert response.status_code == 200, response.content
    return Request.objects.get(pk=msg["case_ref"])


def ack_due(req: Request) -> datetime:
    return Deadline.objects.get(request=req, kind=Deadline.Kind.ACKNOWLEDGEMENT).due_at


def on_call(user: Any, *, hours: int = 8, start: datetime | None = None) -> Shift:
    start = start or timezone.now() - timedelta(hours=1)
    return Shift.objects.create(user=user, starts_at=start, ends_at=start + timedelta(hours=hours))


# -- a real SMTP server and a real webhook receiver ---------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp(settings: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    with socket.socket() as probe:  # a free port (the controller's own check cannot use 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.DEFAULT_FROM_EMAIL = "desk@vnm.test"
    yield inbox
    controller.stop()


class Hooks(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook_server() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    server = HTTPServer(("127.0.0.1", 0), Hooks)
    Hooks.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", Hooks.received
    server.shutdown()
    server.server_close()


def with_email(personas: Any) -> None:
    for key in ("officer", "central", "supervisor"):
        personas[key].email = f"{key}@vnm.test"
        personas[key].save()


# -- alerts ---------------------------------------------------------------------------------


def test_a_new_emergency_reaches_the_officer_on_call_and_the_supervisor_by_mail(
    network: Any, own_keys: Any, personas: Any, smtp: Inbox
) -> None:
    with_email(personas)
    on_call(personas["officer"])
    req = incoming(network, own_keys, "assistance_emergency")
    alerts = services.alert_new_requests()
    assert [a.recipients for a in alerts] == [["officer", "supervisor"]]
    assert services.send_pending() == 2
    assert services.alert_new_requests() == [] and services.send_pending() == 0  # once only
    by_to = {m["To"]: m for m in smtp.messages}
    assert set(by_to) == {"officer@vnm.test", "supervisor@vnm.test"}
    mail = by_to["officer@vnm.test"]
    assert mail["Subject"] == f"[EMERGENCY] {req.reference} from FRA: Electronic data to avert an emergency"
    assert mail["From"] == "desk@vnm.test" and mail["X-Hanoi247-Event"] == "emergency"
    text = mail.get_content()
    assert f"Reference:  {req.reference}" in text and "(Art. 41)" in text
    assert f"/requests/{req.pk}/" in text and "Acknowledge by" in text and "(Asia/Ho_Chi_Minh)" in text
    # None of the request's contents travel by e-mail.
    assert "bluefern" not in text and "pills" not in text


def test_webhooks_are_signed_with_hmac_sha256(network: Any, own_keys: Any, personas: Any, hook_server: Any) -> None:
    url, received = hook_server
    officer = personas["officer"]
    endpoint = services.add_webhook(officer, url)
    on_call(officer)
    req = incoming(network, own_keys)
    services.alert_new_requests()
    assert services.send_pending() == 1
    [(headers, body)] = received
    timestamp, mac = dict(p.split("=", 1) for p in headers["X-Hanoi247-Signature"].split(",")).values()
    expected = hmac.new(endpoint.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(mac, expected)
    payload = json.loads(body)
    assert payload["event"] == "new_request" and headers["X-Hanoi247-Event"] == "new_request"
    assert payload["request"]["reference"] == req.reference and payload["request"]["emergency"] is False
    assert payload["request"]["requesting_state"] == "FRA" and "payload" not in payload["request"]
    assert payload["acknowledge_by"] == iso(ack_due(req))
    assert Notification.objects.get().status == "sent"


def test_a_failing_webhook_is_retried_then_given_up(network: Any, own_keys: Any, personas: Any) -> None:
    services.add_webhook(personas["officer"], "http://127.0.0.1:9/closed")
    on_call(personas["officer"])
    incoming(network, own_keys)
    services.alert_new_requests()
    moment = timezone.now()
    for _ in range(services.MAX_ATTEMPTS):
        assert services.send_pending(moment) == 0
        moment += timedelta(hours=1)
    n = Notification.objects.get()
    assert (n.status, n.attempts) == ("failed", services.MAX_ATTEMPTS) and n.last_error


def test_off_duty_is_quiet_except_for_emergencies(network: Any, own_keys: Any, personas: Any, hook_server: Any) -> None:
    url, received = hook_server
    officer = personas["officer"]
    services.add_webhook(officer, url)
    # Nobody is on call: every officer is alerted, but this one asked for quiet off duty.
    incoming(network, own_keys)
    services.alert_new_requests()
    assert services.send_pending() == 0 and received == []
    assert Notification.objects.get().status == "quiet"
    incoming(network, own_keys, "assistance_emergency")
    services.alert_new_requests()
    assert services.send_pending() == 1
    assert json.loads(received[0][1])["event"] == "emergency"
    # Without quiet hours, the next ordinary request comes through too.
    services.set_preference(officer, email=True, webhook=True, quiet_off_duty=False)
    incoming(network, own_keys)
    services.alert_new_requests()
    assert services.send_pending() == 1


# -- escalation, with a frozen clock --------------------------------------------------------


def test_every_escalation_step_fires_once_at_its_time(network: Any, own_keys: Any, personas: Any, smtp: Inbox) -> None:
    with_email(personas)
    on_call(personas["officer"], hours=24)
    req = incoming(network, own_keys, "assistance_emergency")
    due = ack_due(req)
    assert due - req.delivered_at == timedelta(minutes=15)  # type: ignore[operator]
    ladder = [(r.order, r.after_minutes, r.label) for r in EscalationRung.objects.all()]
    assert ladder == [(1, 0, "Officer on call"), (2, 15, "Supervisor"), (3, 60, "Head of unit")]

    def at(minutes: float) -> list[str]:
        with time_machine.travel(due + timedelta(minutes=minutes), tick=False):
            fired = [e.label for e in services.escalate_overdue()]
            services.send_pending()
        return fired

    assert at(-1) == []  # not yet due
    assert at(0.5) == ["Officer on call"]
    assert at(1) == []  # idempotent: the rung is recorded
    assert at(14) == []
    assert at(15.5) == ["Supervisor"]
    assert at(59) == []
    assert at(61) == ["Head of unit"]
    assert at(600) == []
    events = list(RequestEvent.objects.filter(request=req, kind="escalated").order_by("at"))
    assert [e.data["level"] for e in events] == ["Officer on call", "Supervisor", "Head of unit"]
    assert "Not acknowledged by" in events[1].note and "Supervisor" in events[1].note
    # The requesting State is told at each step: its request is escalated, not silent.
    sent = OutboxMessage.objects.filter(recipient="FRA", type="request.event").order_by("seq")
    assert [m.message["body"]["event"]["data"]["level"] for m in sent] == [e.data["level"] for e in events]
    subjects = [(m["To"], m["Subject"]) for m in smtp.messages if "ESCALATED" in m["Subject"]]
    assert subjects == [
        ("officer@vnm.test", f"[ESCALATED: Officer on call] {req.reference} from FRA not acknowledged"),
        ("supervisor@vnm.test", f"[ESCALATED: Supervisor] {req.reference} from FRA not acknowledged"),
        ("central@vnm.test", f"[ESCALATED: Head of unit] {req.reference} from FRA not acknowledged"),
    ]
    escalated_mail = next(m for m in smtp.messages if m["Subject"].startswith("[ESCALATED: Supervisor]"))
    assert "min late. You are on the ladder as: Supervisor." in escalated_mail.get_content()


def test_escalation_stops_once_acknowledged_and_runs_in_the_node_configured_ladder(
    network: Any, own_keys: Any, personas: Any
) -> None:
    EscalationRung.objects.all().delete()
    EscalationRung.objects.create(order=1, after_minutes=5, user=personas["central"], label="Head of unit")
    req = incoming(network, own_keys)
    due = ack_due(req)
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        assert services.escalate_overdue() == []
        cooperation.acknowledge(personas["officer"], req)
    with time_machine.travel(due + timedelta(minutes=6), tick=False):
        assert services.escalate_overdue() == []
    assert not Escalation.objects.exists()


def test_the_worker_runs_escalation_every_30_seconds() -> None:
    from hanoi247.federation.services import PERIODIC

    assert PERIODIC["hanoi247.operations.tasks.escalate"][0] == 30
    assert PERIODIC["hanoi247.operations.tasks.alert_desk"][0] == 2


# -- rosters and the network's view ---------------------------------------------------------


def test_hand_over_splits_the_shift_and_moves_who_is_on_call(personas: Any) -> None:
    officer, central = personas["officer"], personas["central"]
    start = timezone.now() - timedelta(hours=2)
    shift = services.add_shift(officer, user=officer, starts_at=start, ends_at=start + timedelta(hours=8))
    assert services.on_call_users() == [officer]
    with pytest.raises(services.OperationsError, match="supervisor"):
        services.add_shift(officer, user=central, starts_at=start, ends_at=start + timedelta(hours=1))
    taken = services.hand_over(officer, shift, to=central, note="FRA-2026-00001 waits for the provider")
    assert services.on_call_users() == [central]
    shift.refresh_from_db()
    assert shift.ends_at == taken.starts_at and taken.ends_at == start + timedelta(hours=8)
    assert taken.handed_over_from == shift and "waits" in taken.handover_note


def test_the_on_call_document_is_signed_and_shows_no_private_number(network: Any, personas: Any, own_keys: Any) -> None:
    Shift.objects.create(
        user=personas["officer"],
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=7),
        public_channel="24/7 desk +84 24 0000 0000",
        private_phone="+84 90 1234 5678",
    )
    response = Client().get("/directory/v1/on-call")
    assert response.status_code == 200 and response["Content-Type"] == "application/jose"
    document = services.verify_on_call("VNM", response.content.decode())
    assert document["reachable_now"] is True and document["channels_now"] == ["24/7 desk +84 24 0000 0000"]
    assert document["time_zone"] == "Asia/Ho_Chi_Minh"
    text = json.dumps(document)
    assert "1234 5678" not in text and "Lan Nguyen" not in text and "officer" not in text
    with pytest.raises(services.OperationsError):
        services.verify_on_call("FRA", response.content.decode())  # not FRA's key


def test_the_roster_is_planned_in_the_node_time_zone(network: Any, personas: Any) -> None:
    client = verified_client(personas["supervisor"])
    response = client.post(
        "/ops/",
        {"user": personas["officer"].pk, "starts_at": "2026-03-02T22:00", "ends_at": "2026-03-03T06:00"},
    )
    assert response.status_code == 302, response.content
    shift = Shift.objects.get()
    assert shift.starts_at == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 22:00 in Ha Noi (UTC+7)


# -- the dashboard --------------------------------------------------------------------------


def test_the_dashboard_puts_emergencies_first_and_shows_who_is_on_call(
    network: Any, own_keys: Any, personas: Any
) -> None:
    on_call(personas["officer"])
    ordinary = incoming(network, own_keys)
    emergency = incoming(network, own_keys, "assistance_emergency")
    board = services.dashboard(personas["officer"])
    assert [r.pk for r in board.unacknowledged] == [emergency.pk, ordinary.pk]
    assert [r.pk for r in board.emergencies] == [emergency.pk]
    page = verified_client(personas["officer"]).get("/")
    html = page.content.decode()
    assert "24/7 desk" in html and "Emergencies: risk to life" in html and "Lan Nguyen" in html
    assert html.index(emergency.reference) < html.index("Waiting for acknowledgement")
    partial = verified_client(personas["officer"]).get("/", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and b"<html" not in partial.content and b"Incoming" in partial.content


def _desk_queries(client: Client) -> int:
    directory._cache.clear()  # the directory is cached for 2 s: read it in every measured call
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/", headers={"HX-Request": "true"}).status_code == 200
    return len(ctx.captured_queries)


def test_the_dashboard_query_count_does_not_grow_with_the_inbox(network: Any, own_keys: Any, personas: Any) -> None:
    on_call(personas["officer"])
    client = verified_client(personas["officer"])

    def grow_to(n: int) -> None:
        while Request.objects.count() < n:
            req = incoming(network, own_keys, "assistance_emergency" if Request.objects.count() % 3 else "preservation")
            if Request.objects.count() % 4 == 0:
                cooperation.acknowledge(personas["officer"], req)
        with time_machine.travel(timezone.now() + timedelta(hours=30), tick=False):
            services.escalate_overdue()

    grow_to(5)
    _desk_queries(client)  # warm caches (directory, session)
    five = _desk_queries(client)
    grow_to(50)
    fifty = _desk_queries(client)
    print(f"desk queries: {five} with 5 requests, {fifty} with 50")
    assert Request.objects.count() == 50 and five == fifty, (five, fifty)


# -- calendars ------------------------------------------------------------------------------


def test_calendar_feeds_list_shifts_and_deadlines(network: Any, own_keys: Any, personas: Any) -> None:
    officer = personas["officer"]
    shift = on_call(officer)
    req = incoming(network, own_keys)
    client = verified_client(officer)
    roster = client.get("/ops/calendars/roster.ics")
    assert roster["Content-Type"] == "text/calendar; charset=utf-8"
    text = roster.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert f"UID:shift-{shift.pk}@vnm.hanoi247" in text
    assert f"DTSTART:{shift.starts_at.astimezone(UTC):%Y%m%dT%H%M%SZ}" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    deadlines = client.get("/ops/calendars/deadlines.ics").content.decode()
    assert f"SUMMARY:Acknowledgement due: {req.reference} (FRA)" in deadlines
    assert "Phishing" not in deadlines  # references only, no case contents
    # A calendar app subscribes with the secret address instead of a session.
    page = client.post("/ops/calendars/")
    token = page.context["token"]
    assert Client().get(f"/ops/feeds/{token}/roster.ics").content.decode().count("BEGIN:VEVENT") == 1
    assert Client().get(f"/ops/feeds/{token}x/roster.ics").status_code == 404
    assert Client().get(f"/ops/feeds/{token}/other.ics").status_code == 404
    client.post("/ops/calendars/")  # a new address: the old one stops working
    assert Client().get(f"/ops/feeds/{token}/roster.ics").status_code == 404


def test_ics_lines_are_folded_at_75_octets() -> None:
    folded = services._fold("DESCRIPTION:" + "é" * 100)
    assert all(len(line.encode()) <= 75 for line in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == "DESCRIPTION:" + "é" * 100


# -- metrics and logs -----------------------------------------------------------------------


def test_metrics_are_counts_only_and_protected(network: Any, own_keys: Any, personas: Any, settings: Any) -> None:
    req = incoming(network, own_keys)
    response = Client().get("/metrics")  # the test client comes from 127.0.0.1
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.content.decode()
    assert 'hanoi247_requests{direction="incoming",status="delivered"} 1' in text
    assert "# TYPE hanoi247_outbox_depth gauge" in text and "hanoi247_deadlines_missed" in text
    assert 'hanoi247_delivery_latency_seconds{quantile="0.5"}' in text
    assert req.reference not in text and "FRA" not in text
    assert Client(REMOTE_ADDR="10.0.0.7").get("/metrics").status_code == 404
    settings.METRICS_TOKEN = "s3cret-metrics"
    assert (
        Client(REMOTE_ADDR="10.0.0.7", headers={"Authorization": "Bearer s3cret-metrics"}).get("/metrics").status_code
        == 200
    )
    assert Client(REMOTE_ADDR="10.0.0.7", headers={"Authorization": "Bearer wrong"}).get("/metrics").status_code == 404
    with time_machine.travel(ack_due(req) + timedelta(hours=2), tick=False):
        later = Client().get("/metrics").content.decode()
    assert 'hanoi247_deadlines_missed{kind="acknowledgement"} 1' in later


def test_json_logs_carry_the_extra_fields() -> None:
    record = logging.LogRecord("hanoi247.operations", logging.WARNING, __file__, 1, "request escalated", None, None)
    record.request, record.rung = "FRA-2026-00001", 2
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING" and line["message"] == "request escalated"
    assert line["request"] == "FRA-2026-00001" and line["rung"] == 2 and line["ts"].endswith("+00:00")


# -- personas: every page and endpoint ------------------------------------------------------


@pytest.fixture
def desk(network: Any, own_keys: Any, personas: Any) -> dict[str, Any]:
    shift = on_call(personas["officer"])
    return {"request": incoming(network, own_keys, "assistance_emergency"), "shift": shift}


def pages() -> list[str]:
    return [
        "/ops/",
        "/ops/preferences/",
        "/ops/calendars/",
        "/ops/calendars/roster.ics",
        "/ops/calendars/deadlines.ics",
    ]


def posts(desk: dict[str, Any], personas: Any) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("/ops/", {"user": personas["officer"].pk, "starts_at": "2026-03-02T22:00", "ends_at": "2026-03-03T06:00"}),
        (f"/ops/shifts/{desk['shift'].pk}/hand-over/", {"to": personas["central"].pk}),
        ("/ops/preferences/", {"email": "on"}),
        ("/ops/webhooks/", {"url": "https://example.org/hook"}),
        ("/ops/calendars/", {}),
    ]


def api_calls(desk: dict[str, Any]) -> list[str]:
    return ["/api/v1/ops/dashboard", "/api/v1/ops/on-call", f"/api/v1/ops/requests/{desk['request'].pk}/timeline"]


def state() -> list[Any]:
    return [Shift.objects.count(), list(Shift.objects.values_list("user_id", "ends_at")), Notification.objects.count()]


@pytest.mark.parametrize("role", ALLOWED)
def test_case_handlers_use_the_desk(desk: Any, personas: Any, role: str) -> None:
    client = verified_client(personas[role])
    for url in pages():
        assert client.get(url).status_code == 200, url
    _, token = ApiToken.issue(personas[role], "t")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    for url in api_calls(desk):
        assert api.get(url).status_code == 200, url
    timeline = api.get(api_calls(desk)[2]).json()
    assert timeline["emergency"] is True and [s["kind"] for s in timeline["steps"]][:2] == ["submitted", "received"]
    assert api.get("/api/v1/ops/on-call").json()[0]["name"] == "Lan Nguyen"


@pytest.mark.parametrize("role", DENIED)
def test_others_get_404_from_the_desk_and_change_nothing(desk: Any, personas: Any, role: str) -> None:
    client = verified_client(personas[role])
    before = state()
    for url in pages():
        assert client.get(url).status_code == 404, url
    for url, data in posts(desk, personas):
        assert client.post(url, data).status_code == 404, url
    _, token = ApiToken.issue(personas[role], "t")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    for url in api_calls(desk):
        assert api.get(url).status_code == 404, url
    assert state() == before


def test_outsiders_are_sent_to_log_in_or_get_401(desk: Any, personas: Any) -> None:
    before = state()
    for url in pages():
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    for url, data in posts(desk, personas):
        assert Client().post(url, data).status_code in (302, 403), url
    for url in api_calls(desk):
        assert Client(headers={"Authorization": "Bearer h247_nope"}).get(url).status_code == 401, url
    assert state() == before


def test_an_officer_cannot_hand_over_a_colleagues_shift(desk: Any, personas: Any) -> None:
    response = verified_client(personas["central"]).post(
        f"/ops/shifts/{desk['shift'].pk}/hand-over/", {"to": personas["central"].pk}, follow=True
    )
    assert b"only the officer on the shift or a supervisor" in response.content
    assert services.on_call_users() == [personas["officer"]]


def test_the_network_page_shows_who_is_reachable_now_in_each_state(
    network: Any, personas: Any, own_keys: Any, monkeypatch: Any
) -> None:
    """Peers' signed on-call documents are fetched by the worker and verified with the
    directory's keys; the page shows only the published channel of the window that covers now."""
    from django.test import Client
    from django.utils import timezone

    from hanoi247.federation.envelope import iso
    from hanoi247.operations import services as ops
    from hanoi247.operations.models import PeerOnCall

    now = timezone.now()
    document = {
        "state": "FRA",
        "windows": [
            {"starts_at": iso(now - timedelta(hours=1)), "ends_at": iso(now + timedelta(hours=7)),
             "channel": "+33 1 00 00 00 00 (24/7 desk)"},
            {"starts_at": iso(now + timedelta(hours=7)), "ends_at": iso(now + timedelta(hours=15)),
             "channel": "night desk"},
        ],
    }  # fmt: skip

    def fake_fetch(state: str, *, timeout: float = 5.0) -> dict[str, Any]:
        if state == "FRA":
            return document
        raise ops.OperationsError(f"{state}'s on-call document could not be fetched: refused")

    monkeypatch.setattr(ops, "fetch_on_call", fake_fetch)
    assert ops.refresh_peer_on_call() == 1
    assert PeerOnCall.objects.get(state="BRA").error.endswith("refused")
    page = Client().get("/network/").content.decode()
    assert "+33 1 00 00 00 00 (24/7 desk)" in page and "night desk" not in page
