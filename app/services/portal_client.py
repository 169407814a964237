"""HTTP access to one portal (one branch): the only module that speaks `requests`.

Each client owns one `requests.Session` so connections are reused across the many small list
calls the window makes. Only GETs are retried: a retried POST could sign or pay twice.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit

import requests

from app import __version__
from app.services import records
from app.services.abortable_http import AbortableAdapter
from app.services.billing_records import (
    Allocation,
    InvoiceDetail,
    PaymentMethod,
    PaymentResult,
    Quote,
    ReceiptsSetting,
    parse_invoice_detail,
    parse_payment,
    parse_payment_method,
    parse_quote,
    parse_receipts_setting,
)
from app.services.errors import (
    ConflictError,
    DeclinedError,
    FieldError,
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
from app.services.property_filter import PropertyFilter
from app.services.records import (
    Assist,
    AuditItem,
    Balance,
    Branch,
    InvoiceSummary,
    Login,
    Page,
    PortalConfig,
    Property,
    ProposalSummary,
    RequestSummary,
    ServerVersion,
    StaffContact,
    VisitSummary,
)
from app.services.uploads import ChosenFile
from app.services.work_records import (
    Comment,
    RequestDetail,
    VisitDetail,
    parse_comment,
    parse_request_detail,
    parse_visit_detail,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
FilePart = tuple[str, tuple[str, IO[bytes], str]]
_DOWNLOAD_CHUNK = 64 * 1024

_PORTAL_PATH = re.compile(r"^(?P<prefix>(/[^/]+)*)/portal/(?P<slug>[A-Za-z0-9_-]+)(/api/v1)?/?$")
_RETRYABLE_STATUS = frozenset({502, 503, 504})

_live_lock = threading.Lock()
_live: weakref.WeakSet[PortalClient] = weakref.WeakSet()  # under _live_lock


def abort_all_calls() -> None:
    """At quit, on the GUI thread: every client's calls in flight come back now (their sockets are cut,
    no retry follows) and any later call on them fails at once, so the network threads end instead of
    waiting out a portal that never answers. Clients made afterwards work as usual."""
    with _live_lock:
        clients = list(_live)
    for client in clients:
        client.abort()


def normalize_portal_url(text: str) -> str:
    """Accepts what people paste (trailing slash, the API base, no scheme) and returns the portal URL."""
    candidate = text.strip()
    if candidate and "://" not in candidate:
        candidate = "https://" + candidate
    parts = urlsplit(candidate)
    match = _PORTAL_PATH.match(parts.path)
    if parts.scheme not in ("http", "https") or not parts.hostname or not match or parts.query:
        raise InvalidPortalUrlError(
            "That is not a portal address. It looks like https://example.com/portal/your-branch.",
            code="invalid_portal_url",
        )
    return f"{parts.scheme}://{parts.netloc}{match['prefix']}/portal/{match['slug']}"


@dataclass(frozen=True)
class Timeouts:
    """Connect and read limits in seconds; every call gets both so nothing waits forever."""

    connect: float = 5.0
    read: float = 20.0


def _retry_after_seconds(value: str | None) -> int:
    if value and value.strip().isascii() and value.strip().isdigit():
        return max(1, int(value.strip()))
    return 60


class PortalClient:
    """Typed calls for the endpoints of api.md; thread-safe for concurrent GETs."""

    def __init__(
        self,
        portal_url: str,
        *,
        token: str | None = None,
        timeouts: Timeouts = Timeouts(),
        retries: int = 2,
        backoff: float = 0.3,
    ) -> None:
        self.portal_url = normalize_portal_url(portal_url)
        self.api_base = self.portal_url + "/api/v1"
        self.token = token
        # Tokens signing in again replaced (use_token): a call sent with one may still answer 401.
        self.replaced_tokens: set[str] = set()
        self._timeouts = timeouts
        self._retries = retries
        self._backoff = backoff
        self._aborted = False
        self._adapter = AbortableAdapter()
        self._session = requests.Session()
        self._session.mount("http://", self._adapter)
        self._session.mount("https://", self._adapter)
        self._session.headers.update({"Accept": "application/json", "User-Agent": f"PortalDesk/{__version__}"})
        with _live_lock:
            _live.add(self)

    def close(self) -> None:
        self._session.close()

    def abort(self) -> None:
        """From any thread: see abort_all_calls."""
        self._aborted = True
        self._adapter.cut_connections()

    # -- transport -------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        body: Mapping[str, Any] | None = None,
        form: Mapping[str, str] | None = None,
        files: Sequence[FilePart] | None = None,
        stream: bool = False,
        extra_headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """`body` goes out as JSON; `form` with `files` as multipart/form-data."""
        sent_token = self.token
        headers = {"Authorization": f"Bearer {sent_token}"} if sent_token else {}
        headers.update(extra_headers or {})
        attempts = 1 + (self._retries if method == "GET" else 0)
        url = self.api_base + path
        for attempt in range(attempts):
            last_try = attempt + 1 == attempts
            if self._aborted:
                raise UnreachableError("The app is closing; the portal was not asked.", code="aborted")
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    data=form,
                    files=files,
                    headers=headers,
                    timeout=(self._timeouts.connect, self._timeouts.read),
                    stream=stream,
                )
            except requests.Timeout as exc:
                if not last_try:
                    self._pause(attempt)
                    continue
                raise UnreachableError(
                    f"The portal at {self._host()} did not answer in time. Please try again.", code="timeout"
                ) from exc
            except requests.RequestException as exc:
                if not last_try:
                    self._pause(attempt)
                    continue
                # The connection, not the address: this is said mostly to a signed-in customer
                # (a visit's page, a reply), who typed no address to check.
                raise UnreachableError(
                    f"Cannot reach the portal at {self._host()}. Check your internet connection, then try again.",
                    code="unreachable",
                ) from exc
            if response.status_code in _RETRYABLE_STATUS and not last_try:
                self._pause(attempt)
                continue
            log.debug("%s %s -> %s", method, path, response.status_code)
            if response.status_code >= 400:
                error = self._error(response)
                response.close()
                if isinstance(error, UnauthorizedError):
                    error.refused_token = sent_token
                raise error
            return response
        raise AssertionError("unreachable: the loop always returns or raises")

    def _post_with_files(
        self, path: str, body: Mapping[str, Any], files: Sequence[ChosenFile], idempotency_key: str | None = None
    ) -> requests.Response:
        """The same fields as JSON or, with files, as multipart text fields (the server accepts both)."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        if not files:
            return self._send("POST", path, body=body, extra_headers=headers)
        with ExitStack() as stack:
            parts: list[FilePart] = []
            for chosen in files:
                try:
                    handle = stack.enter_context(chosen.path.open("rb"))
                except OSError as exc:
                    raise PortalError(
                        f"“{chosen.name}” cannot be read any more: {exc.strerror or 'access denied'}.",
                        code="file_unreadable",
                    ) from exc
                parts.append(("files", (chosen.name, handle, chosen.content_type)))
            return self._send(
                "POST", path, form={k: str(v) for k, v in body.items()}, files=parts, extra_headers=headers
            )

    def _pause(self, attempt: int) -> None:
        time.sleep(self._backoff * (2**attempt))

    def _host(self) -> str:
        return urlsplit(self.portal_url).netloc

    def _error(self, response: requests.Response) -> PortalError:
        status = response.status_code
        try:
            problem = response.json()
            if not isinstance(problem, dict):
                problem = {}
        except ValueError:
            problem = {}
        code = str(problem.get("code") or "http_" + str(status))
        detail = str(problem.get("detail") or problem.get("title") or _fallback_detail(status))
        if status == 401:
            return UnauthorizedError(detail, status=status, code=code)
        if status == 402:
            return DeclinedError(detail, status=status, code=code)
        if status == 403:
            return ForbiddenError(detail, status=status, code=code)
        if status == 404:
            return NotFoundError(detail, status=status, code=code)
        if status == 409:
            return ConflictError(detail, status=status, code=code)
        if status in (400, 413, 415, 422):
            errors = tuple(
                FieldError(field=str(e.get("field", "")), message=str(e.get("message", "")))
                for e in problem.get("errors") or ()
                if isinstance(e, dict)
            )
            return ValidationError(detail, status=status, code=code, field_errors=errors)
        if status == 429:
            return SlowedDownError(
                detail,
                status=status,
                code=code,
                retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status >= 500:
            return ServerError(detail, status=status, code=code)
        return PortalError(detail, status=status, code=code)

    def _json(self, response: requests.Response, parser: Callable[[Any], T]) -> T:
        try:
            data = response.json()
        except ValueError as exc:
            raise ServerError(
                "The portal sent an answer this app cannot read. Please try again later.",
                status=response.status_code,
                code="malformed_response",
            ) from exc
        return records.parse(data, parser)

    def _get(self, path: str, parser: Callable[[Any], T], params: Sequence[tuple[str, str]] | None = None) -> T:
        return self._json(self._send("GET", path, params=params), parser)

    def _list(
        self,
        path: str,
        parse_item: Callable[[records.Json], T],
        *,
        properties: PropertyFilter | None,
        cursor: str | None,
        limit: int | None,
        extra: Sequence[tuple[str, str]] = (),
    ) -> Page[T]:
        params = list(extra)
        if properties is not None:
            params += properties.query()
        if limit is not None:
            params.append(("limit", str(limit)))
        if cursor:
            params.append(("cursor", cursor))
        return self._get(path, lambda data: records.parse_page(data, parse_item), params)

    # -- auth and account ------------------------------------------------------------------

    def login(self, email: str, password: str) -> Login:
        """Signs in and keeps the token for the following calls."""
        result = self._json(
            self._send("POST", "/auth/login", body={"email": email, "password": password}),
            records.parse_login,
        )
        self.token = result.token
        return result

    def use_token(self, token: str) -> None:
        """Signing in again in place: the calls that follow carry `token`."""
        if self.token is not None and self.token != token:
            self.replaced_tokens.add(self.token)
        self.token = token

    def logout(self) -> None:
        self._send("POST", "/auth/logout")
        self.token = None

    def request_password_reset(self, email: str) -> None:
        self._send("POST", "/auth/password-reset", body={"email": email})

    def change_password(self, current_password: str, new_password: str) -> None:
        self._send(
            "POST",
            "/auth/password-change",
            body={"current_password": current_password, "new_password": new_password},
        )

    def me(self) -> records.User:
        return self._get("/me", lambda data: records.parse_user(data["user"]))

    def branches(self) -> tuple[Branch, ...]:
        return self._get("/auth/branches", lambda data: tuple(records.parse_branch(b) for b in data["items"]))

    def config(self) -> PortalConfig:
        return self._get("/config", records.parse_config)

    def version(self) -> ServerVersion:
        return self._get("/version", records.parse_version)

    # -- data ------------------------------------------------------------------------------

    def properties(self) -> tuple[Property, ...]:
        return self._get("/properties", lambda data: tuple(records.parse_property(p) for p in data["items"]))

    def balance(self, properties: PropertyFilter | None = None) -> Balance:
        return self._get("/balance", records.parse_balance, properties.query() if properties else [])

    def proposals(
        self,
        status: str = "all",
        properties: PropertyFilter | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[ProposalSummary]:
        return self._list(
            "/proposals",
            records.parse_proposal,
            properties=properties,
            cursor=cursor,
            limit=limit,
            extra=[("status", status)],
        )

    def proposal(self, proposal_id: int) -> records.ProposalDetail:
        return self._get(f"/proposals/{proposal_id}", records.parse_proposal_detail)

    def proposal_pdf(self, proposal_id: int) -> bytes:
        """The proposal document (once signed: exactly the document that was signed)."""
        return self._pdf(f"/proposals/{proposal_id}/pdf")

    def signed_proposal_pdf(self, proposal_id: int) -> bytes:
        """The signed copy with its signature certificate (PR-9); ConflictError while unsigned."""
        return self._pdf(f"/proposals/{proposal_id}/signed-pdf")

    def sign_proposal(
        self,
        proposal_id: int,
        *,
        signer_name: str,
        signature_png: bytes,
        optional_service_ids: Sequence[int],
        expected_approved_total: Decimal | None = None,
        expected_revision: int | None = None,
    ) -> records.ProposalDetail:
        """Never retried (a POST); the caller has already had the signer tick "I agree".

        `expected_approved_total` is the amount the signer was shown and `expected_revision` the revision
        of the proposal: the portal refuses to sign for another one (409 proposal_changed), also when
        staff changed its text but not its total."""
        body: dict[str, object] = {
            "signer_name": signer_name,
            "signature_png": base64.b64encode(signature_png).decode("ascii"),
            "optional_service_ids": list(optional_service_ids),
            "agree": True,
        }
        if expected_approved_total is not None:
            body["expected_approved_total"] = f"{expected_approved_total:.2f}"
        if expected_revision is not None:
            body["expected_revision"] = expected_revision
        return self._json(
            self._send("POST", f"/proposals/{proposal_id}/signature", body=body), records.parse_proposal_detail
        )

    def _pdf(self, path: str) -> bytes:
        response = self._send("GET", path)
        if not response.content.startswith(b"%PDF"):
            raise ServerError(
                "The portal sent a document this app cannot open. Please try again later.",
                status=response.status_code,
                code="malformed_response",
            )
        return response.content

    def visits(
        self,
        when: str = "upcoming",
        properties: PropertyFilter | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        days: int | None = None,
    ) -> Page[VisitSummary]:
        extra = [("when", when)] + ([("days", str(days))] if days is not None else [])
        return self._list(
            "/visits", records.parse_visit, properties=properties, cursor=cursor, limit=limit, extra=extra
        )

    def invoices(
        self,
        status: str = "all",
        properties: PropertyFilter | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[InvoiceSummary]:
        return self._list(
            "/invoices",
            records.parse_invoice,
            properties=properties,
            cursor=cursor,
            limit=limit,
            extra=[("status", status)],
        )

    # -- invoices and payments (IN-4..IN-10, PM-1..PM-5) -------------------------------------

    def invoice(self, invoice_id: int) -> InvoiceDetail:
        return self._get(f"/invoices/{invoice_id}", parse_invoice_detail)

    def invoice_pdf(self, invoice_id: int) -> bytes:
        return self._pdf(f"/invoices/{invoice_id}/pdf")

    def payment_methods(self) -> tuple[PaymentMethod, ...]:
        return self._get("/payment-methods", lambda data: tuple(parse_payment_method(m) for m in data["items"]))

    def add_payment_method(self, details: Mapping[str, Any]) -> PaymentMethod:
        """Card or ACH details go to the portal (and from there to the gateway) and nowhere else (PM-4)."""
        return self._json(self._send("POST", "/payment-methods", body=details), parse_payment_method)

    def set_default_payment_method(self, method_id: int) -> PaymentMethod:
        return self._json(self._send("POST", f"/payment-methods/{method_id}/default"), parse_payment_method)

    def remove_payment_method(self, method_id: int) -> None:
        self._send("DELETE", f"/payment-methods/{method_id}")

    def email_receipts(self) -> ReceiptsSetting:
        return self._get("/me", lambda data: parse_receipts_setting(data["preferences"]))

    def set_email_receipts(self, enabled: bool) -> ReceiptsSetting:
        response = self._send("PATCH", "/me/preferences", body={"email_receipts": enabled})
        return self._json(response, parse_receipts_setting)

    def payment_quote(self, allocations: Sequence[Allocation], method_id: int) -> Quote:
        path, body = _payment_request(allocations, method_id, "/payment-quote")
        return self._json(self._send("POST", path, body=body), parse_quote)

    def pay(self, allocations: Sequence[Allocation], method_id: int, idempotency_key: str) -> PaymentResult:
        """Never retried here: the caller retries with the same key, which the portal answers without charging twice."""
        path, body = _payment_request(allocations, method_id, "/payments")
        response = self._send("POST", path, body=body, extra_headers={"Idempotency-Key": idempotency_key})
        return self._json(response, parse_payment)

    def requests(
        self, properties: PropertyFilter | None = None, cursor: str | None = None, limit: int | None = None
    ) -> Page[RequestSummary]:
        return self._list("/requests", records.parse_request, properties=properties, cursor=cursor, limit=limit)

    # -- visit and request details, uploads and downloads (issue 6) ------------------------

    def visit(self, visit_id: int) -> VisitDetail:
        return self._get(f"/visits/{visit_id}", parse_visit_detail)

    def request(self, request_id: int) -> RequestDetail:
        return self._get(f"/requests/{request_id}", parse_request_detail)

    def create_request(
        self,
        property_id: int,
        subject: str,
        description: str,
        files: Sequence[ChosenFile] = (),
        idempotency_key: str | None = None,
    ) -> RequestDetail:
        """RQ-2: JSON without files, multipart with them; never retried here. The caller resends a draft
        with the same key, which the portal answers with the request it already made (no duplicate)."""
        body = {"property_id": property_id, "subject": subject, "description": description}
        response = self._post_with_files("/requests", body, files, idempotency_key)
        return self._json(response, parse_request_detail)

    def add_comment(
        self, request_id: int, body: str, files: Sequence[ChosenFile] = (), idempotency_key: str | None = None
    ) -> Comment:
        """Like create_request: resending with the same key gives back the comment already made."""
        response = self._post_with_files(f"/requests/{request_id}/comments", {"body": body}, files, idempotency_key)
        return self._json(response, parse_comment)

    def attachment_pdf(self, attachment_id: int) -> bytes:
        """A PDF attachment's bytes for the embedded viewer (attachments are at most 10 MB)."""
        return self._pdf(f"/attachments/{attachment_id}")

    def attachment_bytes(self, attachment_id: int) -> bytes:
        """An attachment's bytes, to show a picture in the app (attachments are at most 10 MB)."""
        return self._send("GET", f"/attachments/{attachment_id}").content

    def download_attachment(self, attachment_id: int, destination: Path) -> Path:
        """Streams the file next to `destination` and renames it into place only when complete,
        so a broken connection never leaves a half file under the name the user chose."""
        partial = destination.with_name(destination.name + ".part")
        response = self._send("GET", f"/attachments/{attachment_id}", stream=True)
        try:
            with partial.open("wb") as out:
                for chunk in response.iter_content(_DOWNLOAD_CHUNK):
                    out.write(chunk)
            os.replace(partial, destination)
        except requests.RequestException as exc:
            partial.unlink(missing_ok=True)
            raise UnreachableError(
                f"The download from {self._host()} was interrupted. Please try again.", code="interrupted"
            ) from exc
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise PortalError(
                f"“{destination.name}” could not be saved: {exc.strerror or 'the folder is not writable'}.",
                code="save_failed",
            ) from exc
        finally:
            response.close()
        return destination

    # -- staff (SA-1..SA-3) ----------------------------------------------------------------

    def staff_contacts(self, query: str, cursor: str | None = None, limit: int | None = None) -> Page[StaffContact]:
        return self._list(
            "/staff/contacts",
            records.parse_staff_contact,
            properties=None,
            cursor=cursor,
            limit=limit,
            extra=[("q", query)],
        )

    def open_assist(self, contact_id: int, reason: str) -> Assist:
        """A token acting as the contact; the caller builds a separate client around it."""
        return self._json(
            self._send("POST", "/staff/assist", body={"contact_id": contact_id, "reason": reason}),
            records.parse_assist,
        )

    def staff_audit(
        self, contact_id: int | None = None, cursor: str | None = None, limit: int | None = None
    ) -> Page[AuditItem]:
        extra = [("contact_id", str(contact_id))] if contact_id is not None else []
        return self._list(
            "/staff/audit", records.parse_audit_item, properties=None, cursor=cursor, limit=limit, extra=extra
        )


def _payment_request(allocations: Sequence[Allocation], method_id: int, action: str) -> tuple[str, dict[str, Any]]:
    """One invoice uses the invoice's own endpoint; several use the shared one (IN-10)."""
    if len(allocations) == 1:
        only = allocations[0]
        return f"/invoices/{only.invoice_id}{action}", {"amount": f"{only.amount:.2f}", "payment_method_id": method_id}
    return action, {
        "payment_method_id": method_id,
        "allocations": [{"invoice_id": a.invoice_id, "amount": f"{a.amount:.2f}"} for a in allocations],
    }


def _fallback_detail(status: int) -> str:
    if status >= 500:
        return "The portal ran into a problem. Please try again in a few minutes."
    return f"The portal refused the request (HTTP {status})."
