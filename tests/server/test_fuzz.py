"""Schemathesis against the live OpenAPI document: no input may cause a 5xx or an answer the document does not describe.

Every operation in /openapi.json is fuzzed, so endpoints added later are covered without touching
this file, in two ways:

- test_no_input_breaks_the_api: schemathesis' examples, coverage and fuzzing phases (valid and
  invalid data), as a contact (Pat, with properties on the north branch) and as a staff member
  (the office), each on its own copy of the test company's database. A caller the endpoint
  refuses by role (403) while the other gets through is skipped: 403 is all it would ever see.
- test_hostile_values_in_every_field: one valid request per operation, then each hostile value
  (NUL, 10 000 characters, integers past 32 and 64 bits...) in turn in every parameter and body field;
  random generation reaches those only by luck, and they are what breaks databases.

Every request carries a freshly minted token, so a fuzzed sign-out cannot starve the requests
after it. The run is bounded (PORTAL_FUZZ_EXAMPLES examples per operation in the fuzzing phase,
fewer on PostgreSQL where each request costs more) and derandomized, so CI sees the same cases
every time. What it finds is fixed in the server and kept as a plain test in test_regressions.py.
"""

from __future__ import annotations

import copy
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
from hypothesis import HealthCheck, Phase, find, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from server.api.app import create_app
from server.models import AuthSession, Branch, Identity
from server.models.base import utcnow
from server.services.secrets import new_token, token_hash
from server.services.sign_in import account_on_branch
from server.settings import Settings
from tests.server.conftest import POSTGRES_URL

MAX_EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES") or (12 if POSTGRES_URL else 25))
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


# Values that break servers: NUL (PostgreSQL refuses it), very long or right-to-left text, SQL and
# header injection, numbers in text, integers past 32 bits (PostgreSQL `integer`) and 64 bits (SQLite).
HOSTILE_TEXT = [
    "\x00",
    "x\x00y",
    "x" * 10_000,
    "\u202e😀\u0301",
    "' OR 1=1 --",
    "%00",
    "\r\nX-Injected: 1",
    "-1",
    str(2**31),
    str(2**64),
    "1e999",
]
HOSTILE_INTEGERS = [-1, 0, 2**31, 2**63, 2**64, -(2**63) - 1, 10**30]


def fuzz_config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": 9,
            # Mixed into generated parameters too (schemathesis does not put them into bodies).
            "dictionaries": {"integers": {"values": HOSTILE_INTEGERS}, "text": {"values": HOSTILE_TEXT}},
            "generation": {
                "mode": "all",
                "deterministic": True,
                "max-examples": MAX_EXAMPLES,
                # Unknown query parameters are ignored, as most HTTP APIs do (unknown JSON fields are a 422).
                "allow-extra-parameters": False,
                "dictionaries": {
                    "integer": {"dictionary": "integers", "probability": 0.2},
                    "string": {"dictionary": "text", "probability": 0.1},
                },
            },
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
OPERATIONS = [result.ok() for result in schema.get_all_operations()]
HOSTILE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Operations without sign-in behave the same whoever holds a token: fuzzed once, as the contact.
PUBLIC = {
    f"{method.upper()} {path}"
    for path, operations in schema.raw_schema["paths"].items()
    for method, operation in operations.items()
    if not operation.get("security")
}


PLACEHOLDER = "Bearer minted-when-sent"


@schema.auth(refresh_interval=None)
class MintedToken:
    """Marks the cases that carry valid credentials; the token itself is minted when the case is sent.

    Schemathesis builds some cases while collecting, before any database exists, and leaves the
    mark off the cases that test a missing or invalid Authorization header.
    """

    def get(self, case: Any, context: Any) -> str:
        return PLACEHOLDER

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": data}


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


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copied = copy.copy(value)
    copied[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copied


def _copy(operation: Any, base: Any, **changes: Any) -> Any:
    fields = {
        "method": base.method,
        "path_parameters": dict(base.path_parameters or {}),
        "headers": dict(base.headers or {}),
        "query": dict(base.query or {}),
        "body": copy.deepcopy(base.body) if isinstance(base.body, (dict, list)) else base.body,
        "media_type": base.media_type,
    }
    return operation.Case(**{**fields, **changes})


def _parameter_variants(operation: Any, base: Any) -> Iterator[tuple[str, Any]]:
    """(description, case) for each hostile value in each path and query parameter of `base`."""
    for parameter in operation.iter_parameters():
        location = parameter.location.value
        if location not in ("path", "query") or parameter.name == "branch_slug":
            continue
        container = "path_parameters" if location == "path" else "query"
        for text in HOSTILE_TEXT:
            values = {**(getattr(base, container) or {}), parameter.name: text}
            yield f"{parameter.name}={text[:20]!r}", _copy(operation, base, **{container: values})


def _body_variants(operation: Any, base: Any, media_type: str) -> Iterator[tuple[str, Any]]:
    """(description, case) for each hostile value in each field of `base`'s body, sent as `media_type`."""
    if isinstance(base.body, (dict, list)):
        for path, leaf in _leaves(base.body):
            if isinstance(leaf, bool) or not isinstance(leaf, (str, int)):
                continue
            for odd in HOSTILE_TEXT if isinstance(leaf, str) else HOSTILE_INTEGERS:
                yield (
                    f"{media_type} body{list(path)}={str(odd)[:20]!r}",
                    _copy(operation, base, body=_replaced(base.body, path, odd), media_type=media_type),
                )


def _base_case(operation: Any) -> Any:
    """A valid request (the same every run), so each hostile value is the only thing wrong with it."""
    strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE)
    once = settings(database=None, derandomize=True, max_examples=1, phases=[Phase.generate])
    base = find(strategy, lambda _: True, settings=once)
    base.path_parameters = {**(base.path_parameters or {}), "branch_slug": BRANCH}
    return base


# Status of the base request per (operation, caller): decides who fuzzes what.
_BASE_STATUS: dict[tuple[str, str], int] = {}


def _base_status(operation: Any, app: FastAPI, email: str) -> int:
    key = (operation.label, email)
    if key not in _BASE_STATUS:
        probe = _copy(operation, _base_case(operation))
        probe.headers["Authorization"] = f"Bearer {mint_token(app, email)}"
        _BASE_STATUS[key] = probe.call(app=app).status_code
    return _BASE_STATUS[key]


def refused_by_role(operation: Any, app: FastAPI, email: str) -> bool:
    """The endpoint answers this caller 403 (staff on a contact's page, a contact on staff pages), the other not."""
    other = next(caller for caller in CALLERS.values() if caller != email)
    return _base_status(operation, app, email) == 403 and _base_status(operation, app, other) != 403


@pytest.fixture(params=sorted(CALLERS))
def caller(request: pytest.FixtureRequest) -> str:
    return CALLERS[request.param]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_breaks_the_api(case: Any, app: FastAPI, caller: str, report_counts: None) -> None:
    operation = case.operation
    if caller != CALLERS["contact"] and operation.label in PUBLIC:
        pytest.skip("no sign-in needed: fuzzed as the contact only")
    if refused_by_role(operation, app, caller):
        pytest.skip("this caller's role is refused (403); fuzzed as the other caller")
    SENT[f"{operation.label} [{caller}]"] += 1
    if case.headers and case.headers.get("Authorization") == PLACEHOLDER:
        case.headers["Authorization"] = f"Bearer {mint_token(app, caller)}"
    # `app` routes the request to this test's own database rather than the collection-time app.
    case.call_and_validate(app=app)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS])
def test_hostile_values_in_every_field(operation: Any, app: FastAPI, report_counts: None) -> None:
    # As the contact, unless only staff get past the role check to the code that uses the values.
    email = CALLERS["staff"] if refused_by_role(operation, app, CALLERS["contact"]) else CALLERS["contact"]
    base = _base_case(operation)
    variants = list(_parameter_variants(operation, base))
    # The body's fields in each type the operation takes: a number in a multipart form arrives as text.
    for media_type in operation.get_request_payload_content_types():
        variants += _body_variants(operation, base, media_type)
    failures = []
    for description, variant in variants:
        variant.headers["Authorization"] = f"Bearer {mint_token(app, email)}"
        SENT[f"{operation.label} [hostile values, {email}]"] += 1
        response = variant.call(app=app)
        try:
            variant.validate_response(response, checks=HOSTILE_CHECKS)
        except AssertionError as failure:
            failures.append(f"{description}: {response.status_code} {failure}")
    assert not failures, "\n".join(failures)
