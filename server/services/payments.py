"""Paying invoices: fees (IN-7), amount rules (IN-6), idempotency (IN-8), declines (IN-9), several at once (IN-10).

The order of operations is what keeps money and records in step:

1. One transaction claims the Idempotency-Key (unique row), checks every rule, reserves each
   invoice's amount with a conditional UPDATE (balance - reserved >= amount, so concurrent payments
   can never overdraw it; the CHECK constraints back that up) and writes the payments as "pending".
   The balance itself does not move: a payment in flight is not money taken (PF-3), the invoice stays
   due with its whole balance, and only what is not reserved can be paid again (IN-6).
2. The gateway is called with no transaction open, under an idempotency key derived from the
   payment group, so the gateway charges at most once however often it is called.
3. Success marks the payments succeeded, moves their amounts from reserved to off the balance and
   stores the answer, in one transaction; a decline deletes them and releases the reservation; a lost
   answer (timeout) is resolved by looking the charge up by its key; if even that fails the payment
   stays pending (and reserved) and the next retry with the same key, or the reconciler, finishes it.

So money is never taken without a payment row reserving it, and no payment counts as made until the
gateway confirmed the charge.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import partial
from hashlib import sha256
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.errors import FieldError, Problem, conflict, invalid
from server.models import Branch, Contact, IdempotencyRecord, Invoice, Payment, PaymentMethod
from server.models.base import utcnow
from server.models.billing import PAYMENT_PENDING, PAYMENT_SUCCEEDED, PAYMENT_TARGET, payment_reference
from server.models.search import write_terms
from server.services.access import Caller, contact_roles
from server.services.audit import captured_by_id, record_if_assisted
from server.services.clock import branch_today
from server.services.gateway import Charge, Gateway, GatewayDeclined, GatewayError
from server.services.invoices import ZERO, in_progress, may_pay, money, payable
from server.services.mail import Mailer
from server.services.payment_methods import check_type_accepted, owned_method

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
MAX_ALLOCATIONS = 100
KEY_MIN, KEY_MAX = 8, 255
# How long a request owns an in-flight key before a retry may take over and finish the payment
# (the default of Settings.payment_lease).
IN_FLIGHT_LEASE = timedelta(seconds=90)
# How long a duplicate request waits for the first one to finish before answering "in progress".
WAIT_FOR_FIRST_SECONDS = 8.0
INVOICE_PAYMENT = "invoice_payment"
GROUP_PAYMENT = "group_payment"
# The answer kept for an abandoned payment that never reached the gateway (see settle_without_charging).
NOT_COMPLETED = GatewayDeclined(
    "payment_not_completed",
    "The payment was not completed and nothing was charged. Pay again when you are ready.",
)


def convenience_fee(branch: Branch, method_type: str, amount: Decimal) -> Decimal:
    """IN-7: cards pay card_fee_percent of the amount, ACH the flat fee; half-up to the cent, exact Decimal."""
    if method_type == "card":
        return (amount * branch.card_fee_percent / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)
    return branch.ach_fee_flat.quantize(CENT)


def split_fee(fee: Decimal, amounts: Sequence[Decimal]) -> list[Decimal]:
    """Each invoice's share of one fee, proportional to its amount, in whole cents that add up exactly."""
    total = sum(amounts, ZERO)
    if total <= ZERO:
        return [ZERO for _ in amounts]
    shares = [(fee * amount / total).quantize(CENT, rounding=ROUND_DOWN) for amount in amounts]
    remainders = sorted(range(len(amounts)), key=lambda i: (fee * amounts[i] / total - shares[i], -i), reverse=True)
    left = int((fee - sum(shares, ZERO)) / CENT)
    for index in remainders[:left]:
        shares[index] += CENT
    return shares


def check_idempotency_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise Problem(
            400,
            "idempotency_key_required",
            "Payments need an Idempotency-Key header, so a retry can never charge twice.",
        )
    return check_key_format(key)


def check_key_format(key: str) -> str:
    """The form of every Idempotency-Key, also the optional ones of new requests and comments."""
    if not KEY_MIN <= len(key) <= KEY_MAX or not all("!" <= char <= "~" for char in key):
        raise Problem(
            400,
            "idempotency_key_invalid",
            f"The Idempotency-Key must be {KEY_MIN} to {KEY_MAX} visible ASCII characters.",
        )
    return key


@dataclass(frozen=True)
class Allocation:
    invoice_id: int
    amount: Decimal


@dataclass(frozen=True)
class PaymentRequest:
    operation: str  # INVOICE_PAYMENT | GROUP_PAYMENT
    payment_method_id: int
    allocations: tuple[Allocation, ...]

    def fingerprint(self) -> str:
        """Same payment, same fingerprint: amounts are compared as money ("12.3" == "12.30")."""
        canonical = json.dumps(
            [
                self.operation,
                self.payment_method_id,
                [[a.invoice_id, f"{a.amount.quantize(CENT)}"] for a in self.allocations],
            ],
            separators=(",", ":"),
        )
        return sha256(canonical.encode()).hexdigest()

    def field(self, index: int, name: str) -> str:
        return f"allocations[{index}].{name}" if self.operation == GROUP_PAYMENT else name


@dataclass(frozen=True)
class Share:
    invoice_id: int
    number: str
    amount: Decimal
    fee: Decimal
    field: str


@dataclass(frozen=True)
class Plan:
    """A payment that passed every rule: what to reserve and charge."""

    method_id: int
    method_type: str
    method_brand: str
    method_last4: str
    token: str
    shares: tuple[Share, ...]
    amount: Decimal
    fee: Decimal

    @property
    def total(self) -> Decimal:
        return self.amount + self.fee


def _amount_problem(invoice: Invoice, amount: Decimal, branch: Branch) -> Problem | None:
    """IN-6: the full open balance, or with partial payments on, anything above zero up to it; a
    payment still in flight holds its part of the balance until the processor confirms or declines it."""
    currency = branch.currency
    available = payable(invoice)
    if amount <= ZERO:
        return invalid([], "amount_not_positive", "The amount must be more than zero.")
    if available <= ZERO:
        return in_progress(invoice, currency)
    if amount > available:
        if invoice.reserved > ZERO:
            return invalid(
                [],
                "amount_exceeds_balance",
                f"{money(amount, currency)} is more than the {money(available, currency)} that can be paid on "
                f"invoice {invoice.number} now: a payment of {money(invoice.reserved, currency)} on it is in "
                "progress (the card processor has not confirmed it yet).",
            )
        return invalid(
            [],
            "amount_exceeds_balance",
            f"{money(amount, currency)} is more than the open balance of {money(invoice.balance, currency)} "
            f"on invoice {invoice.number}.",
        )
    if not branch.partial_payments and amount != available:
        return invalid(
            [],
            "partial_payments_disabled",
            f"{branch.name} takes full payments only: pay the open balance of {money(available, currency)} "
            f"on invoice {invoice.number}.",
        )
    return None


def still_in_progress() -> Problem:
    """Another request holds this key's lease: the payer's retry, a moment later, gets the stored answer."""
    return Problem(
        409,
        "payment_in_progress",
        "This payment is still being processed. Try again in a moment; it will not be charged twice.",
        "Conflict",
        headers={"Retry-After": "2"},
    )


def _raise_first(problems: list[tuple[Problem, FieldError]], grouped: bool) -> None:
    if not problems:
        return
    first = problems[0][0]
    detail = first.detail
    if grouped and len(problems) > 1:
        detail = f"{detail} {len(problems)} of the invoices cannot be paid as asked; nothing was charged."
    raise Problem(first.status, first.code, detail, first.title, [error for _, error in problems], first.headers)


def plan_payment(session: Session, branch: Branch, contact: Contact, request: PaymentRequest) -> Plan:
    """Checks IN-5..IN-8 and IN-10 for every allocation; raises the first problem with every failing allocation named."""
    if not branch.electronic_payments:
        raise conflict("electronic_payments_disabled", f"{branch.name} does not take payments in the portal.")
    method = owned_method(session, contact.id, request.payment_method_id)
    check_type_accepted(branch, method.type, field="payment_method_id")
    roles = contact_roles(session, contact.id)
    grouped = request.operation == GROUP_PAYMENT
    wanted = {a.invoice_id for a in request.allocations}
    invoices = {
        invoice.id: invoice
        for invoice in session.scalars(
            select(Invoice).where(
                Invoice.id.in_(wanted), Invoice.shared.is_(True), Invoice.property_id.in_(list(roles))
            )
        )
    }
    problems: list[tuple[Problem, FieldError]] = []
    seen: set[int] = set()
    accepted: list[tuple[Invoice, Decimal, str]] = []
    for index, allocation in enumerate(request.allocations):
        invoice = invoices.get(allocation.invoice_id)
        if allocation.invoice_id in seen:
            problem = invalid([], "duplicate_invoice", "Each invoice can appear only once in a payment.")
            problems.append((problem, FieldError(request.field(index, "invoice_id"), problem.detail)))
            continue
        seen.add(allocation.invoice_id)
        if invoice is None:
            problem = Problem(404, "not_found", "That invoice was not found.", "Not found")
            problems.append((problem, FieldError(request.field(index, "invoice_id"), problem.detail)))
            continue
        blocker: Problem | None = None
        if not may_pay(invoice, contact, roles[invoice.property_id]):
            blocker = Problem(
                403,
                "not_allowed_to_pay",
                f"Only the property's primary contact or the billing contact of invoice {invoice.number} can pay it.",
                "Forbidden",
            )
        elif invoice.balance <= ZERO:
            blocker = conflict("invoice_paid", f"Invoice {invoice.number} is already paid in full.")
        else:
            blocker = _amount_problem(invoice, allocation.amount, branch)
        if blocker is not None:
            name = "invoice_id" if blocker.status in (403, 409) else "amount"
            problems.append((blocker, FieldError(request.field(index, name), blocker.detail)))
            continue
        accepted.append((invoice, allocation.amount, request.field(index, "amount")))
    _raise_first(problems, grouped)
    amount = sum((a for _, a, _ in accepted), ZERO)
    fee = convenience_fee(branch, method.type, amount)
    fees = split_fee(fee, [a for _, a, _ in accepted])
    shares = tuple(
        Share(invoice.id, invoice.number, share_amount, share_fee, field)
        for (invoice, share_amount, field), share_fee in zip(accepted, fees, strict=True)
    )
    return Plan(method.id, method.type, method.brand, method.last4, method.gateway_token, shares, amount, fee)


def _reserve(session: Session, branch: Branch, plan: Plan) -> None:
    """Reserves each amount on its invoice only if it still fits beside the payments already in flight:
    the race-proof half of IN-6. The condition is evaluated on the row as it is when the UPDATE gets it
    (SQLite runs one writer at a time; PostgreSQL re-checks it on the latest row version after waiting
    for its lock), and the CHECK constraints back it up. The balance itself is untouched (PF-3)."""
    problems: list[tuple[Problem, FieldError]] = []
    # A fixed order (by invoice id) so two group payments lock rows in the same order and cannot deadlock.
    for share in sorted(plan.shares, key=lambda s: s.invoice_id):
        # "balance >= reserved + amount", not "balance - reserved >= amount": the amount must be bound
        # beside a money column to be stored as cents (a difference of columns is a plain integer).
        held = Invoice.reserved + share.amount
        fits = Invoice.balance >= held if branch.partial_payments else Invoice.balance == held
        result = session.execute(
            update(Invoice)
            .where(Invoice.id == share.invoice_id, fits)
            .values(reserved=Invoice.reserved + share.amount)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            problem = invalid(
                [],
                "amount_exceeds_balance",
                f"The open balance of invoice {share.number} changed while paying (another payment on it was "
                f"made or is in progress); {money(share.amount, branch.currency)} no longer fits. Nothing was charged.",
            )
            problems.append((problem, FieldError(share.field, problem.detail)))
    _raise_first(problems, grouped=len(plan.shares) > 1)


def _settle_reservations(session: Session, payments: Sequence[Payment], succeeded: bool) -> None:
    """Ends the reservations of a group's pending payments, in the transaction that changes their status:
    a success takes each amount off the balance (money taken, PF-3), a decline only releases it."""
    # By invoice id, like _reserve, so settlements and reservations lock invoices in one order.
    for payment in sorted(payments, key=lambda p: p.invoice_id):
        values: dict[str, Any] = {"reserved": Invoice.reserved - payment.amount}
        if succeeded:
            values["balance"] = Invoice.balance - payment.amount
        session.execute(
            update(Invoice)
            .where(Invoice.id == payment.invoice_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class Outcome:
    """The answer to a payment request: first time or replayed from the idempotency record."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


@dataclass(frozen=True)
class Attempt:
    """Everything the gateway call and its settlement need, as plain values (no open transaction)."""

    record_id: int
    operation: str
    group_id: str
    token: str
    total: Decimal
    currency: str

    @property
    def gateway_key(self) -> str:
        return f"portal-{self.group_id}"


class PaymentService:
    """One payment request: the request's session, the gateway, the mailer and who is paying."""

    def __init__(
        self,
        session: Session,
        gateway: Gateway,
        mailer: Mailer,
        caller: Caller,
        contact: Contact,
        lease: timedelta = IN_FLIGHT_LEASE,
    ) -> None:
        self.session = session
        self.gateway = gateway
        self.mailer = mailer
        self.caller = caller
        self.contact = contact
        self.branch = caller.branch
        self.lease = lease

    # -- quotes -------------------------------------------------------------------------------
    def quote(self, request: PaymentRequest) -> Plan:
        return plan_payment(self.session, self.branch, self.contact, request)

    # -- payments -----------------------------------------------------------------------------
    def pay(self, key: str, request: PaymentRequest) -> Outcome:
        scope = f"{self.contact.id}:{key}"
        fingerprint = request.fingerprint()
        self.session.commit()  # end the dependencies' read transaction; each step below is its own
        for _ in range(3):
            record = self.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.scope == scope))
            if record is not None:
                return self._existing(record, fingerprint)
            outcome = self._start(scope, fingerprint, request)
            if outcome is not None:
                return outcome
        raise still_in_progress()

    def _start(self, scope: str, fingerprint: str, request: PaymentRequest) -> Outcome | None:
        """Claims the key, checks the rules and reserves the balances in one transaction; None if the key was taken."""
        group_id = secrets.token_hex(16)
        record = IdempotencyRecord(
            scope=scope,
            fingerprint=fingerprint,
            operation=request.operation,
            group_id=group_id,
            locked_until=utcnow() + self.lease,
        )
        self.session.add(record)
        try:
            self.session.flush()
        except IntegrityError:
            # A concurrent request claimed this key a moment ago: the caller answers like a retry.
            self.session.rollback()
            return None
        try:
            plan = plan_payment(self.session, self.branch, self.contact, request)
            _reserve(self.session, self.branch, plan)
        except Problem:
            # Nothing started: no answer is kept for the key, so the payer can correct and resend.
            self.session.rollback()
            raise
        payer = self.contact.id
        captured_by = captured_by_id(self.caller)
        for share in plan.shares:
            self.session.add(
                Payment(
                    invoice_id=share.invoice_id,
                    group_id=group_id,
                    amount=share.amount,
                    convenience_fee=share.fee,
                    method_type=plan.method_type,
                    method_last4=plan.method_last4,
                    payment_method_id=plan.method_id,
                    payer_contact_id=payer,
                    captured_by_id=captured_by,
                    status=PAYMENT_PENDING,
                )
            )
        self.session.flush()
        attempt = Attempt(record.id, request.operation, group_id, plan.token, plan.total, self.branch.currency)
        self.session.commit()
        return self._settle(attempt, lookup_first=False)

    def _existing(self, record: IdempotencyRecord, fingerprint: str) -> Outcome:
        if record.fingerprint != fingerprint:
            self.session.rollback()
            raise conflict(
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different payment. Use a new key for a new payment.",
            )
        deadline = time.monotonic() + WAIT_FOR_FIRST_SECONDS
        record_id = record.id
        while True:
            if record.status_code is not None:
                outcome = Outcome(record.status_code, json.loads(record.response_body or "{}"), replayed=True)
                self.session.commit()
                return outcome
            now = utcnow()
            if record.locked_until is None or record.locked_until <= now:
                taken = self.session.execute(
                    update(IdempotencyRecord)
                    .where(
                        IdempotencyRecord.id == record_id,
                        IdempotencyRecord.status_code.is_(None),
                        IdempotencyRecord.locked_until <= now,
                    )
                    .values(locked_until=now + self.lease)
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    return self._recover(record)
            self.session.commit()
            if time.monotonic() >= deadline:
                raise still_in_progress()
            time.sleep(0.1)
            refreshed = self.session.get(IdempotencyRecord, record_id, populate_existing=True)
            assert refreshed is not None
            record = refreshed

    def _recover(self, record: IdempotencyRecord) -> Outcome:
        """Finishes a payment whose request lost track of it (timeout, crash): look up, never charge blindly."""
        group_id = record.group_id or ""
        pending = list(
            self.session.scalars(select(Payment).where(Payment.group_id == group_id, Payment.status == PAYMENT_PENDING))
        )
        method = self.session.get(PaymentMethod, pending[0].payment_method_id) if pending else None
        if method is None:
            # The payments were settled by a request that then died before storing its answer.
            self.session.commit()
            return self._stored_outcome(record.id)
        total = sum((p.amount + p.convenience_fee for p in pending), ZERO)
        attempt = Attempt(record.id, record.operation, group_id, method.gateway_token, total, self.branch.currency)
        self.session.commit()
        return self._settle(attempt, lookup_first=True)

    def _settle(self, attempt: Attempt, lookup_first: bool) -> Outcome:
        """Asks the gateway (no transaction open) and records what it said."""
        try:
            charge = self._charge(attempt, lookup_first)
        except GatewayDeclined as declined:
            return self._guarded(attempt, partial(self._decline, attempt, declined))
        except Exception as error:
            # A timeout, a network error or a fault in the gateway client: the outcome is unknown,
            # so the payment stays reserved and the retry settles it by looking the charge up.
            log.warning(
                "payment %s left pending: the gateway could not confirm it (%s)", attempt.group_id, type(error).__name__
            )
            self._release(attempt.record_id)
            raise Problem(
                503,
                "payment_pending",
                "The card processor did not confirm the payment yet. Try again in a moment: "
                "the retry finishes this payment and never charges twice.",
                "Payment pending",
                headers={"Retry-After": "5"},
            ) from None
        return self._guarded(attempt, partial(self._finalize, attempt, charge))

    def settle_without_charging(self, attempt: Attempt) -> Outcome | None:
        """Ends an abandoned payment from what the gateway already holds for its key (reconciliation).

        A charge found is recorded exactly as a successful payment; a decline, or no attempt at all,
        releases the reservation exactly as a decline. It never charges: the payer gave up long ago
        and a charge now would surprise them. None when the gateway cannot say: the payment stays
        pending, its key freed for the next run or the payer's retry."""
        try:
            found = self.gateway.find_charge(attempt.gateway_key)
        except GatewayDeclined as declined:
            return self._guarded(attempt, partial(self._decline, attempt, declined))
        except Exception as error:
            log.warning(
                "payment %s left pending: the gateway lookup failed (%s)", attempt.group_id, type(error).__name__
            )
            self._release(attempt.record_id)
            return None
        if found is None:
            return self._guarded(attempt, partial(self._decline, attempt, NOT_COMPLETED, "Payment not completed"))
        return self._guarded(attempt, partial(self._finalize, attempt, found))

    def _charge(self, attempt: Attempt, lookup_first: bool) -> Charge:
        """Charges, or after a lost answer looks the charge up by its key; never two charges for one key."""
        description = f"{self.branch.name} portal payment {attempt.group_id}"
        if not lookup_first:
            try:
                return self.gateway.charge(
                    attempt.token, attempt.total, attempt.currency, attempt.gateway_key, description
                )
            except GatewayError:
                log.warning("no answer from the gateway for payment %s; looking the charge up", attempt.group_id)
        found = self.gateway.find_charge(attempt.gateway_key)
        if found is not None:
            return found
        # The gateway never received it; with the same key it still charges at most once.
        return self.gateway.charge(attempt.token, attempt.total, attempt.currency, attempt.gateway_key, description)

    def _guarded(self, attempt: Attempt, step: Callable[[], Outcome]) -> Outcome:
        """Runs the recording step; should it fail unexpectedly, frees the key at once so that the
        payer's retry (a lookup, not a new charge) records the charge instead of waiting for the lease."""
        try:
            return step()
        except Problem:
            raise
        except Exception:
            self.session.rollback()
            self._release(attempt.record_id)
            raise

    def _release(self, record_id: int) -> None:
        self.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == record_id, IdempotencyRecord.status_code.is_(None))
            .values(locked_until=utcnow())
        )
        self.session.commit()

    def _pending(self, group_id: str) -> list[Payment]:
        return list(
            self.session.scalars(select(Payment).where(Payment.group_id == group_id, Payment.status == PAYMENT_PENDING))
        )

    def _finalize(self, attempt: Attempt, charge: Charge) -> Outcome:
        now = utcnow()
        pending = self._pending(attempt.group_id)
        marked = self.session.execute(
            update(Payment)
            .where(Payment.group_id == attempt.group_id, Payment.status == PAYMENT_PENDING)
            .values(status=PAYMENT_SUCCEEDED, gateway_charge_id=charge.charge_id, paid_at=now)
            .execution_options(synchronize_session=False)
        )
        if not pending or marked.rowcount != len(pending):  # type: ignore[attr-defined]
            # Another request (a retry, the reconciler) settled them first and records the answer.
            self.session.rollback()
            return self._stored_outcome(attempt.record_id)
        _settle_reservations(self.session, pending, succeeded=True)
        payments = self._group(attempt.group_id)
        # The bulk update above bypassed the flush that keeps the staff search index in step, and
        # only now is the payment one a staff member can find by its reference.
        write_terms(self.session.connection(), payments, [])
        wants_receipt = bool(self.session.scalar(select(Contact.email_receipts).where(Contact.id == self.contact.id)))
        body = self._success_body(attempt, payments, wants_receipt)
        numbers = self._numbers(payments)
        record_if_assisted(
            self.session,
            self.caller,
            "payment.create",
            f"{PAYMENT_TARGET}{attempt.group_id}",
            "; ".join(f"{numbers[p.invoice_id]} {p.amount:.2f}" for p in payments)
            + f"; fee {body['convenience_fee']}; {payments[0].method_type} ending {payments[0].method_last4}",
        )
        self._store(attempt.record_id, 201, body)
        self.session.commit()
        if wants_receipt and not self._send_receipt(attempt, payments, numbers, charge):
            body = {**body, "receipt_emailed": False}
            self._store(attempt.record_id, 201, body)
            self.session.commit()
        return Outcome(201, body)

    def _decline(self, attempt: Attempt, declined: GatewayDeclined, title: str = "Payment declined") -> Outcome:
        """IN-9: nothing changes: the reservations are released and the reason is kept for retries."""
        pending = self._pending(attempt.group_id)
        removed = self.session.execute(
            delete(Payment)
            .where(Payment.group_id == attempt.group_id, Payment.status == PAYMENT_PENDING)
            .execution_options(synchronize_session=False)
        )
        if not pending or removed.rowcount != len(pending):  # type: ignore[attr-defined]
            self.session.rollback()
            return self._stored_outcome(attempt.record_id)
        _settle_reservations(self.session, pending, succeeded=False)
        for payment in pending:
            self.session.expunge(payment)
        body = {
            "type": "about:blank",
            "title": title,
            "status": 402,
            "detail": declined.reason,
            "code": declined.code,
        }
        self._store(attempt.record_id, 402, body)
        self.session.commit()
        return Outcome(402, body)

    # -- helpers ------------------------------------------------------------------------------
    def _store(self, record_id: int, status_code: int, body: dict[str, Any]) -> None:
        self.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == record_id)
            .values(status_code=status_code, response_body=json.dumps(body), locked_until=None)
        )

    def _stored_outcome(self, record_id: int) -> Outcome:
        """The answer another request stored for this key, waiting briefly if it is about to be stored."""
        deadline = time.monotonic() + WAIT_FOR_FIRST_SECONDS
        while True:
            record = self.session.get(IdempotencyRecord, record_id, populate_existing=True)
            assert record is not None
            status_code, body = record.status_code, record.response_body
            self.session.commit()
            if status_code is not None:
                return Outcome(status_code, json.loads(body or "{}"), replayed=True)
            if time.monotonic() >= deadline:
                raise still_in_progress()
            time.sleep(0.1)

    def _group(self, group_id: str) -> list[Payment]:
        return list(
            self.session.scalars(
                select(Payment)
                .where(Payment.group_id == group_id, Payment.status == PAYMENT_SUCCEEDED)
                .order_by(Payment.id)
                .execution_options(populate_existing=True)
            )
        )

    def _numbers(self, payments: Sequence[Payment]) -> dict[int, str]:
        ids = [p.invoice_id for p in payments]
        rows = self.session.execute(select(Invoice.id, Invoice.number).where(Invoice.id.in_(ids)))
        return {invoice_id: number for invoice_id, number in rows}

    @staticmethod
    def _success_body(attempt: Attempt, payments: Sequence[Payment], receipt: bool) -> dict[str, Any]:
        amount = sum((p.amount for p in payments), ZERO)
        fee = sum((p.convenience_fee for p in payments), ZERO)
        body: dict[str, Any] = {
            "amount": f"{amount:.2f}",
            "convenience_fee": f"{fee:.2f}",
            "total_charged": f"{amount + fee:.2f}",
            "status": "succeeded",
            "receipt_emailed": receipt,
            "reference": payment_reference(attempt.group_id),
        }
        if attempt.operation == INVOICE_PAYMENT:
            return {"id": payments[0].id, "invoice_id": payments[0].invoice_id, **body}
        allocations = [{"invoice_id": p.invoice_id, "amount": f"{p.amount:.2f}"} for p in payments]
        return {"id": attempt.group_id, **body, "allocations": allocations}

    def _send_receipt(
        self, attempt: Attempt, payments: Sequence[Payment], numbers: dict[int, str], charge: Charge
    ) -> bool:
        """PM-5: a plain receipt; it names the method by brand and last 4 only (PM-4)."""
        currency = self.branch.currency
        amount = sum((p.amount for p in payments), ZERO)
        fee = sum((p.convenience_fee for p in payments), ZERO)
        first = payments[0]
        kind = "card" if first.method_type == "card" else "bank account"
        lines = [f"Hello {self.contact.name},", "", f"Thank you for your payment to {self.branch.name}.", ""]
        lines += [f"Invoice {numbers[p.invoice_id]}: {money(p.amount, currency)}" for p in payments]
        lines += [
            f"Convenience fee: {money(fee, currency)}",
            f"Total charged: {money(amount + fee, currency)}",
            f"Paid with: {kind} ending in {first.method_last4}",
            f"Date: {branch_today(self.branch).isoformat()}",
            f"Reference: {payment_reference(attempt.group_id)}",
            f"Processor reference: {charge.charge_id}",
        ]
        if self.caller.assisted_by is not None:
            lines.append(f"Taken on your behalf by {self.caller.assisted_by.name} of {self.branch.name}.")
        lines += ["", "Keep this email for your records."]
        subject = f"Payment receipt from {self.branch.name}: {money(amount + fee, currency)}"
        return self.mailer.send(self.contact.email, subject, "\n".join(lines))
