"""Housekeeping: what a retention period is over for goes, what anything still needs stays.

Rows are made through the API where one writes them, then dated back (or housekeeping is run at a later
`now`), as the weeks would have done.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Engine

from server.api.app import create_app
from server.cli import main as cli_main
from server.db import make_engine, make_session_factory
from server.models import AuditEntry, AuthSession, IdempotencyRecord, OneTimeToken, SignInFailures
from server.models.base import utcnow
from server.services.housekeeping import HousekeepingReport, housekeeping
from server.services.importer import import_document
from server.services.reconcile import reconcile_pending_payments
from server.services.secrets import token_hash
from server.settings import Settings
from tests.server.company import build_company
from tests.server.conftest import NORTH, POSTGRES_URL, database, login, mails, property_ids
from tests.server.live_helpers import serving, wait_for
from tests.server.payment_helpers import LOST_ANSWER, VISA, add_card, invoice_ids, new_key, pay, portal_payments
from tests.server.staff_helpers import assist
from tests.server.test_payments_reconcile import LookupDown, abandon

NEW_PASSWORD = "a-brand-new-password-9"


def run(settings: Settings, *, after: timedelta = timedelta(0), batch_size: int = 1000) -> HousekeepingReport:
    """Housekeeping on the test's database as it would run `after` from now."""
    engine = make_engine(settings.database_url)
    try:
        factory = make_session_factory(engine)
        return housekeeping(factory, settings, now=utcnow() + after, batch_size=batch_size, pause=timedelta(0))
    finally:
        engine.dispose()


def count(settings: Settings, model: Any, *conditions: Any) -> int:
    with database(settings) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


def key_records(settings: Settings) -> list[tuple[str, int | None]]:
    with database(settings) as session:
        rows = session.execute(select(IdempotencyRecord.operation, IdempotencyRecord.status_code))
        return sorted((operation, status) for operation, status in rows)


def test_answered_keys_are_replayed_until_their_retention_ends_and_then_deleted(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-8
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat, VISA)
    key = new_key()
    assert pay(client, pat, due, "10.00", card, key).status_code == 201
    oak = property_ids(client, pat)["Oak Plaza"]
    made = client.post(
        f"{NORTH}/requests",
        headers={**pat, "Idempotency-Key": new_key()},
        json={"property_id": oak, "subject": "Shrubs"},
    )
    assert made.status_code == 201, made.text
    assert key_records(settings) == [("invoice_payment", 201), ("request_create", 201)]

    assert run(settings, after=timedelta(days=6, hours=23)).idempotency_records == 0
    replay = pay(client, pat, due, "10.00", card, key)
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"

    report = run(settings, after=timedelta(days=7, minutes=1))
    assert report.idempotency_records == 2
    assert key_records(settings) == []


def test_a_payment_still_in_flight_keeps_its_key_for_the_reconciler(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # IN-8, IN-6
    due = invoice_ids(client, pat)["INV-I-DUE"]
    card = add_card(client, pat, LOST_ANSWER)
    lookup_down = LookupDown(client.app.state.session_factory)  # type: ignore[attr-defined]
    abandon(client, pat, lookup_down, due, "100.00", card)
    assert key_records(settings) == [("invoice_payment", None)]

    assert run(settings, after=timedelta(days=365)).idempotency_records == 0
    assert key_records(settings) == [("invoice_payment", None)]
    # The reconciler still finds the pending payment through its key and records the charge.
    state = client.app.state  # type: ignore[attr-defined]
    report = reconcile_pending_payments(state.session_factory, state.gateway, state.mailer, timedelta(0))
    assert report.settled == 1
    assert [(p.status, p.amount) for p in portal_payments(settings)] == [("succeeded", Decimal("100.00"))]
    assert key_records(settings) == [("invoice_payment", 201)]


def _end_sessions(settings: Settings, ended_ago: dict[int, timedelta], *, revoked: bool) -> None:
    with database(settings) as session:
        for session_id, ago in ended_ago.items():
            at = utcnow() - ago
            values = {"revoked_at": at} if revoked else {"expires_at": at, "created_at": at - timedelta(hours=12)}
            session.execute(update(AuthSession).where(AuthSession.id == session_id).values(**values))
        session.commit()


def _session_id(headers: dict[str, str], settings: Settings) -> int:
    token = headers["Authorization"].removeprefix("Bearer ")
    with database(settings) as session:
        found = session.scalar(select(AuthSession.id).where(AuthSession.token_hash == token_hash(token)))
    assert found is not None
    return found


def test_ended_sessions_say_why_for_30_days_and_are_then_deleted(client: TestClient, settings: Settings) -> None:
    # AC-5
    live = login(client, "pat@example.com")
    revoked_lately, revoked_long_ago = login(client, "pat@example.com"), login(client, "pat@example.com")
    expired_lately, expired_long_ago = login(client, "otto@example.com"), login(client, "otto@example.com")
    tokens = {
        "live": live,
        "revoked_lately": revoked_lately,
        "revoked_long_ago": revoked_long_ago,
        "expired_lately": expired_lately,
        "expired_long_ago": expired_long_ago,
    }
    ids = {name: _session_id(headers, settings) for name, headers in tokens.items()}
    _end_sessions(
        settings, {ids["revoked_lately"]: timedelta(days=29), ids["revoked_long_ago"]: timedelta(days=31)}, revoked=True
    )
    _end_sessions(
        settings,
        {ids["expired_lately"]: timedelta(days=29), ids["expired_long_ago"]: timedelta(days=31)},
        revoked=False,
    )

    assert run(settings).sessions == 2
    with database(settings) as session:
        kept = set(session.scalars(select(AuthSession.id)))
    assert kept >= {ids["live"], ids["revoked_lately"], ids["expired_lately"]}
    assert not kept & {ids["revoked_long_ago"], ids["expired_long_ago"]}

    def code(headers: dict[str, str]) -> tuple[int, str]:
        response = client.get(f"{NORTH}/properties", headers=headers)
        return response.status_code, response.json().get("code", "") if response.status_code != 200 else ""

    assert code(live) == (200, "")
    assert code(revoked_lately) == (401, "session_revoked")
    assert code(expired_lately) == (401, "session_expired")
    assert code(revoked_long_ago) == (401, "unauthorized")
    assert code(expired_long_ago) == (401, "unauthorized")


@pytest.mark.parametrize("batch_size", [1, 1000])
def test_an_assist_session_goes_before_the_staff_session_it_was_opened_from(
    client: TestClient, settings: Settings, batch_size: int
) -> None:  # SA-4
    office = login(client, "office@example.com")
    assisted = assist(client, office, "pat@example.com")
    assert client.post(f"{NORTH}/auth/logout", headers=office).status_code == 204  # ends the assist too
    audit_before = count(settings, AuditEntry)
    assert run(settings, after=timedelta(days=29)).sessions == 0
    report = run(settings, after=timedelta(days=30, minutes=1), batch_size=batch_size)
    # Both go, in one run, whatever the batches (the foreign key from the assist is never violated).
    assert report.sessions == 2
    assert count(settings, AuthSession) == 0
    assert client.get(f"{NORTH}/properties", headers=assisted).status_code == 401
    assert count(settings, AuditEntry) == audit_before > 0  # SA-3: the trail stays


def test_spent_reset_tokens_go_and_invitations_stay(client: TestClient, settings: Settings) -> None:  # AC-1, AC-3
    for _ in range(2):
        assert client.post(f"{NORTH}/auth/password-reset", json={"email": "pat@example.com"}).status_code == 202
    used = re.search(r"Your reset code: (\S+)", mails(settings)[0]).group(1)  # type: ignore[union-attr]
    confirm = client.post(f"{NORTH}/auth/password-reset/confirm", json={"token": used, "new_password": NEW_PASSWORD})
    assert confirm.status_code == 204, confirm.text
    invitation = {"token": "invite-nora-0123456789", "password": NEW_PASSWORD}
    assert client.post(f"{NORTH}/auth/invitations/accept", json=invitation).status_code == 200

    assert run(settings, after=timedelta(days=6)).reset_tokens == 0  # one used, one unused: within the grace
    # The unused one expired after 2 hours, the used one was used now: a week on, both go.
    assert run(settings, after=timedelta(days=7, hours=3)).reset_tokens == 2
    assert count(settings, OneTimeToken, OneTimeToken.purpose == "reset") == 0
    assert count(settings, OneTimeToken, OneTimeToken.purpose == "invitation") >= 1
    # Re-importing the company file must not bring the accepted invitation back to life.
    import_document(settings, build_company(date.today()))
    again = client.post(f"{NORTH}/auth/invitations/accept", json=invitation)
    assert again.status_code == 422 and again.json()["code"] == "invalid_token"


def test_sign_in_failure_counters_go_once_their_window_and_block_are_long_over(
    client: TestClient, settings: Settings
) -> None:  # AC-4
    for _ in range(settings.account_failure_limit):
        bad = client.post(f"{NORTH}/auth/login", json={"email": "pat@example.com", "password": "wrong-password-0"})
        assert bad.status_code == 401
    assert count(settings, SignInFailures) == 2  # the account's and the address's
    assert run(settings, after=timedelta(days=6)).sign_in_failures == 0
    assert run(settings, after=timedelta(days=7, minutes=20)).sign_in_failures == 2
    assert count(settings, SignInFailures) == 0


def _old_rows(settings: Settings, n: int) -> None:
    """`n` answered keys from a month ago."""
    with database(settings) as session:
        old = utcnow() - timedelta(days=30)
        session.add_all(
            IdempotencyRecord(scope=f"0:old-{i}", fingerprint="f", status_code=201, response_body="{}", created_at=old)
            for i in range(n)
        )
        session.commit()


@pytest.fixture
def deletes(settings: Settings) -> Iterator[list[int]]:
    """The row counts of every DELETE on idempotency_records, by any engine of this process."""
    counts: list[int] = []

    def seen(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        if statement.startswith("DELETE FROM idempotency_records"):
            counts.append(cursor.rowcount)

    event.listen(Engine, "after_cursor_execute", seen)
    yield counts
    event.remove(Engine, "after_cursor_execute", seen)


def test_a_backlog_is_deleted_in_bounded_batches(settings: Settings, deletes: list[int]) -> None:
    _old_rows(settings, 25)
    assert run(settings, batch_size=10).idempotency_records == 25
    assert deletes == [10, 10, 5, 0]


def test_two_processes_at_once_delete_each_row_once(settings: Settings) -> None:
    _old_rows(settings, 3000)
    reports: list[HousekeepingReport] = []
    start = threading.Barrier(2)

    def one() -> None:
        start.wait()
        reports.append(run(settings, batch_size=50))

    workers = [threading.Thread(target=one) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert len(reports) == 2, "a run failed"
    assert sum(r.idempotency_records for r in reports) == 3000
    assert count(settings, IdempotencyRecord) == 0


def test_command_line(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    _old_rows(settings, 3)
    assert cli_main(["housekeeping", "--database-url", settings.database_url]) == 0
    assert "deleted 3 answered idempotency record(s)" in capsys.readouterr().out
    assert count(settings, IdempotencyRecord) == 0


def test_a_server_on_its_own_database_keeps_it_tidy_while_serving(settings: Settings) -> None:
    _old_rows(settings, 3)
    app = create_app(settings, housekeeping_every=timedelta(milliseconds=300))
    try:
        with TestClient(app) as served:
            wait_for("the start-up round", lambda: count(settings, IdempotencyRecord) == 0, 10)
            _old_rows(settings, 3)
            wait_for("a later round", lambda: count(settings, IdempotencyRecord) == 0, 10)
            assert served.get(f"{NORTH}/properties", headers=login(served, "pat@example.com")).status_code == 200
    finally:
        app.state.engine.dispose()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="serve does housekeeping by itself on SQLite only")
def test_serve_on_sqlite_does_housekeeping_as_it_starts(settings: Settings, tmp_path: Path) -> None:
    _old_rows(settings, 3)
    with serving(settings, tmp_path):
        wait_for("housekeeping at start-up", lambda: count(settings, IdempotencyRecord) == 0, 20)
