"""The REST client against a server that misbehaves on purpose: every failure becomes the
right typed error with a readable sentence, and the GUI thread keeps running meanwhile."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from PySide6.QtCore import QObject, QThread, QTimer
from pytestqt.qtbot import QtBot

from app.services.demo_server import free_port
from app.services.errors import (
    ConflictError,
    DeclinedError,
    ForbiddenError,
    InvalidPortalUrlError,
    NotFoundError,
    PortalError,
    ServerError,
    SlowedDownError,
    UnauthorizedError,
    UnreachableError,
    ValidationError,
)
from app.services.portal_client import PortalClient, Timeouts, normalize_portal_url
from app.services.property_filter import PropertyFilter
from app.services.tasks import BackgroundOp
from tests.client.fault_server import FaultServer, answer, malformed, problem, sequence, slow

VERSION = {"server_version": "9.9.9", "api_version": "1"}


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer().start()
    yield server
    server.stop()


def quick_client(url: str, **kwargs: object) -> PortalClient:
    return PortalClient(url, timeouts=Timeouts(connect=1.0, read=0.5), backoff=0.01, **kwargs)  # type: ignore[arg-type]


def test_connection_refused_is_unreachable() -> None:
    client = quick_client(f"http://127.0.0.1:{free_port()}/portal/test", retries=0)
    with pytest.raises(UnreachableError, match=r"Cannot reach the portal at 127.0.0.1") as caught:
        client.version()
    assert caught.value.code == "unreachable"
    assert caught.value.status is None


def test_timeout_is_unreachable_with_its_own_sentence(fault_server: FaultServer) -> None:
    fault_server.route("GET", "/version", slow(1.5, answer(200, VERSION)))
    client = quick_client(fault_server.portal_url, retries=0)
    started = time.monotonic()
    with pytest.raises(UnreachableError, match=r"did not answer in time") as caught:
        client.version()
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 1.4


def test_500_problem_json_is_server_error_with_detail(fault_server: FaultServer) -> None:
    fault_server.route("GET", "/version", problem(500, "internal", "Something broke on our side."))
    client = quick_client(fault_server.portal_url, retries=0)
    with pytest.raises(ServerError, match=r"Something broke on our side.") as caught:
        client.version()
    assert (caught.value.status, caught.value.code) == (500, "internal")


def test_500_without_body_still_has_a_sentence(fault_server: FaultServer) -> None:
    def bare(handler: object) -> None:
        handler.send_response(500)  # type: ignore[attr-defined]
        handler.send_header("Content-Length", "0")  # type: ignore[attr-defined]
        handler.end_headers()  # type: ignore[attr-defined]

    fault_server.route("GET", "/version", bare)
    with pytest.raises(ServerError, match=r"ran into a problem"):
        quick_client(fault_server.portal_url, retries=0).version()


def test_malformed_json_is_server_error(fault_server: FaultServer) -> None:
    fault_server.route("GET", "/version", malformed())
    with pytest.raises(ServerError, match=r"cannot read") as caught:
        quick_client(fault_server.portal_url).version()
    assert caught.value.code == "malformed_response"


def test_wrong_shape_is_server_error(fault_server: FaultServer) -> None:
    fault_server.route("GET", "/balance", answer(200, {"current_balance": 12.5, "due_invoice_count": 1}))
    with pytest.raises(ServerError, match=r"cannot read") as caught:
        quick_client(fault_server.portal_url).balance()
    assert caught.value.code == "unexpected_response"


def test_money_is_decimal_never_float(fault_server: FaultServer) -> None:
    body = {"current_balance": "1234.50", "due_invoice_count": 2, "unapplied_credits": "0.10"}
    fault_server.route("GET", "/balance", answer(200, body))
    balance = quick_client(fault_server.portal_url).balance(PropertyFilter.only([3, 7]))
    assert balance.current_balance == Decimal("1234.50")
    assert isinstance(balance.unapplied_credits, Decimal)


def test_429_carries_retry_after(fault_server: FaultServer) -> None:
    fault_server.route(
        "POST",
        "/auth/login",
        problem(429, "slowed_down", "Too many failed sign-ins. Try again later.", {"Retry-After": "42"}),
    )
    with pytest.raises(SlowedDownError) as caught:
        quick_client(fault_server.portal_url).login("a@example.com", "wrong-password-1")
    assert caught.value.retry_after == 42
    assert str(caught.value) == "Too many failed sign-ins. Try again later."


def test_401_is_unauthorized(fault_server: FaultServer) -> None:
    fault_server.route("GET", "/me", problem(401, "unauthenticated", "Your session has expired."))
    with pytest.raises(UnauthorizedError, match=r"Your session has expired."):
        quick_client(fault_server.portal_url, token="old").me()


@pytest.mark.parametrize(
    ("status", "code", "error_type"),
    [
        (403, "not_allowed_to_sign", ForbiddenError),
        (404, "not_found", NotFoundError),
        (409, "not_signable", ConflictError),
        (402, "card_declined", DeclinedError),
        (418, "teapot", PortalError),
    ],
)
def test_status_maps_to_error_type(
    fault_server: FaultServer, status: int, code: str, error_type: type[PortalError]
) -> None:
    fault_server.route("GET", "/config", problem(status, code, "A sentence for people."))
    with pytest.raises(error_type, match=r"A sentence for people.") as caught:
        quick_client(fault_server.portal_url).config()
    assert (caught.value.status, caught.value.code) == (status, code)


def test_422_carries_field_errors(fault_server: FaultServer) -> None:
    errors = [{"field": "new_password", "message": "Use at least 12 characters."}]
    fault_server.route(
        "POST",
        "/auth/password-change",
        problem(422, "invalid", "Please fix the marked fields.", errors=errors),
    )
    with pytest.raises(ValidationError) as caught:
        quick_client(fault_server.portal_url, token="t").change_password("old-password-1", "short")
    assert caught.value.field_errors[0].field == "new_password"
    assert caught.value.field_errors[0].message == "Use at least 12 characters."


def test_gets_are_retried_with_backoff(fault_server: FaultServer) -> None:
    flaky = sequence(problem(503, "unavailable", "Busy."), problem(502, "bad_gateway", "Busy."), answer(200, VERSION))
    fault_server.route("GET", "/version", flaky)
    assert quick_client(fault_server.portal_url, retries=2).version().server_version == "9.9.9"
    assert fault_server.hits.count(("GET", "/version")) == 3


def test_posts_are_never_retried(fault_server: FaultServer) -> None:
    fault_server.route("POST", "/auth/login", problem(503, "unavailable", "Busy right now."))
    with pytest.raises(ServerError, match=r"Busy right now."):
        quick_client(fault_server.portal_url, retries=2).login("a@example.com", "some-password-1")
    assert fault_server.hits.count(("POST", "/auth/login")) == 1


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("https://acme.example.com/portal/north", "https://acme.example.com/portal/north"),
        ("  https://acme.example.com/portal/north/ ", "https://acme.example.com/portal/north"),
        ("http://127.0.0.1:8000/portal/north/api/v1", "http://127.0.0.1:8000/portal/north"),
        ("acme.example.com/portal/south", "https://acme.example.com/portal/south"),
    ],
)
def test_portal_urls_are_normalized(typed: str, expected: str) -> None:
    assert normalize_portal_url(typed) == expected


@pytest.mark.parametrize("typed", ["", "not a url", "ftp://acme.example.com/portal/north", "https://acme.example.com/"])
def test_invalid_portal_urls_are_refused(typed: str) -> None:
    with pytest.raises(InvalidPortalUrlError, match=r"not a portal address"):
        normalize_portal_url(typed)


class Heartbeat(QObject):
    """Measures the longest pause of the GUI thread's event loop."""

    def __init__(self) -> None:
        super().__init__()
        self.worst_gap = 0.0
        self._last = time.monotonic()
        self._timer = QTimer(self)
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._beat)
        self._timer.start()

    def _beat(self) -> None:
        now = time.monotonic()
        self.worst_gap = max(self.worst_gap, now - self._last)
        self._last = now


@pytest.mark.gui
@pytest.mark.parametrize("fault", ["slow", "timeout", "refused", "500", "malformed"])
def test_gui_thread_never_blocks_during_calls(qtbot: QtBot, fault_server: FaultServer, fault: str) -> None:
    behaviours = {
        "slow": slow(0.8, answer(200, VERSION)),
        "timeout": slow(1.5, answer(200, VERSION)),
        "500": problem(500, "internal", "Broken."),
        "malformed": malformed(),
    }
    if fault in behaviours:
        fault_server.route("GET", "/version", behaviours[fault])
    url = fault_server.portal_url if fault != "refused" else f"http://127.0.0.1:{free_port()}/portal/test"
    client = PortalClient(url, timeouts=Timeouts(connect=1.0, read=2.0 if fault == "slow" else 0.5), backoff=0.01)
    owner = QObject()
    outcome: list[object] = []
    callback_threads: list[QThread] = []

    def record(result: object) -> None:
        callback_threads.append(QThread.currentThread())
        outcome.append(result)

    heartbeat = Heartbeat()
    BackgroundOp(parent=owner, op=client.version, success=record).failure(record).run_in_background()
    qtbot.waitUntil(lambda: bool(outcome), timeout=5000)
    qtbot.wait(50)
    assert heartbeat.worst_gap < 0.25
    assert callback_threads == [owner.thread()]
    if fault == "slow":
        assert getattr(outcome[0], "server_version", None) == "9.9.9"
    else:
        assert isinstance(outcome[0], PortalError)
