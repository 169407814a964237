"""Schemathesis against the live OpenAPI document: no input may cause a 5xx or an answer the document does not describe.

Every operation in /openapi.json is fuzzed, so endpoints added later are covered without touching
this file. Each operation runs twice: as a contact (Pat, who has properties on the north branch)
and as a staff member (the office), each on its own copy of the test company's database. Every
request carries a freshly minted token so a fuzzed sign-out cannot starve the requests after it.

The run is bounded (PORTAL_FUZZ_EXAMPLES examples per operation in the fuzzing phase, fewer on
PostgreSQL where each request costs more) and derandomized, so CI sees the same cases every time.
Whatever it finds is fixed in the server and kept as a plain test in test_regressions.py.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from sqlalchemy import select

from server.api.app import create_app
from server.models import AuthSession, Branch, Identity
from server.models.base import utcnow
from server.services.secrets import new_token, token_hash
from server.services.sign_in import account_on_branch
from server.settings import Settings
from tests.server.conftest import POSTGRES_URL

MAX_EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES") or (15 if POSTGRES_URL else 30))
BRANCH = "north"
CALLERS = {"contact": "pat@example.com", "staff": "office@example.com"}

# The checks that hold the server to its document. Left out: positive_data_acceptance (random ids
# are rightly 404) and the stateful/object-level checks, which need links the API does not declare.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "ignored_auth",
    "missing_required_header",
    "unsupported_method",
)


def fuzz_config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": 9,
            "generation": {"mode": "all", "deterministic": True, "max-examples": MAX_EXAMPLES},
            "phases": {"stateful": {"enabled": False}},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "parameters": {"path.branch_slug": BRANCH},
        }
    )


def mint_token(app: FastAPI, email: str) -> str:
    """A bearer token for `email` on the fuzzed branch, as sign-in would issue (without argon2's cost)."""
    with app.state.session_factory() as session:
        identity = session.scalar(select(Identity).where(Identity.email == email))
        branch = session.scalar(select(Branch).where(Branch.slug == BRANCH))
        assert identity is not None
        assert branch is not None
        contact, staff = account_on_branch(session, identity, branch)
        token = new_token()
        session.add(
            AuthSession(
                token_hash=token_hash(token),
                identity_id=identity.id,
                branch_id=branch.id,
                kind="contact" if contact else "staff",
                contact_id=contact.id if contact else None,
                staff_id=staff.id if staff else None,
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
        session.commit()
    return token


def _load_schema() -> Any:
    """The document as served, read at collection time from an app with no database behind it."""
    folder = Path(tempfile.mkdtemp(prefix="portal-fuzz-schema-"))
    document_app = create_app(Settings(data_dir=folder, database_url="sqlite://", mail_url=folder.as_uri()))
    loaded = schemathesis.openapi.from_asgi("/openapi.json", document_app, config=fuzz_config())
    document_app.state.engine.dispose()
    return loaded


schema = _load_schema()


# Requests sent per "METHOD /path [caller]", summed up at the end of the module for the CI log.
SENT: Counter[str] = Counter()


@pytest.fixture(scope="module")
def report_counts(request: pytest.FixtureRequest) -> Iterator[None]:
    started = time.monotonic()
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not SENT:
        return
    database = "PostgreSQL" if POSTGRES_URL else "SQLite"
    with capture.global_and_fixture_disabled():
        reporter.write_line(
            f"\nfuzz: {sum(SENT.values())} requests over {len(SENT)} operation/caller pairs in "
            f"{time.monotonic() - started:.0f} s (max_examples={MAX_EXAMPLES}, {database})"
        )
        for label, count in sorted(SENT.items()):
            reporter.write_line(f"fuzz: {count:5d}  {label}")


@pytest.fixture(params=sorted(CALLERS))
def caller_email(request: pytest.FixtureRequest, report_counts: None) -> str:
    return CALLERS[request.param]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_breaks_the_api(case: Any, app: FastAPI, caller_email: str) -> None:
    SENT[f"{case.operation.label} [{caller_email}]"] += 1
    # `app` routes the request to this test's own database rather than the collection-time app.
    case.call_and_validate(headers={"Authorization": f"Bearer {mint_token(app, caller_email)}"}, app=app)
