"""The payment gateway interface and the embedded sandbox gateway.

Card and bank details go to `tokenize_*` and nowhere else (PM-4); the portal keeps the token the
gateway returns. Charges carry an idempotency key: the gateway performs at most one charge per key
and answers a repeated key with the first outcome, so after a lost answer the portal looks the
charge up (or repeats the call with the same key) instead of charging again.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from server.models import SandboxCharge, SandboxMethod

# Decline codes the API reports (402) and the sentence a payer reads for each (IN-9).
DECLINE_REASONS = {
    "card_declined": "The card was declined by the card issuer. Try another card or contact your bank.",
    "insufficient_funds": "The card was declined for insufficient funds. Try another card or a smaller amount.",
    "ach_rejected": "The bank rejected the transfer from this account. Check the account or use another method.",
}


@dataclass(frozen=True)
class CardDetails:
    """A card as typed by the payer; repr never shows the number or the CVC so it cannot leak into logs."""

    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)
    holder_name: str
    postal_code: str


@dataclass(frozen=True)
class BankAccountDetails:
    routing_number: str
    account_number: str = field(repr=False)
    account_type: str  # checking | savings
    holder_name: str


@dataclass(frozen=True)
class Tokenized:
    """What the portal may keep about a payment method (PM-4)."""

    token: str
    kind: str  # card | ach
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None


@dataclass(frozen=True)
class Charge:
    charge_id: str
    amount: Decimal
    idempotency_key: str


class GatewayError(Exception):
    """The gateway did not give a definite answer: the charge may or may not have happened."""


class GatewayTimeout(GatewayError):
    """The call timed out; the gateway may have acted on it."""


class GatewayDeclined(Exception):
    """A definite refusal: nothing was charged (or, for tokenize, nothing was stored)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Gateway(Protocol):
    def tokenize_card(self, card: CardDetails) -> Tokenized:
        """Stores the card at the gateway; raises GatewayDeclined when the gateway refuses it."""
        ...

    def tokenize_bank_account(self, account: BankAccountDetails) -> Tokenized: ...

    def charge(self, token: str, amount: Decimal, currency: str, idempotency_key: str, description: str) -> Charge:
        """Charges at most once per idempotency key: a repeated key gets the first outcome back.

        Raises GatewayDeclined (nothing taken) or GatewayError (outcome unknown: look it up)."""
        ...

    def find_charge(self, idempotency_key: str) -> Charge | None:
        """The outcome of the attempt made with this key: the charge, GatewayDeclined, or None if none was made."""
        ...


def card_brand(number: str) -> str | None:
    """The card network from the number's prefix (IIN ranges), or None when unknown."""
    if number.startswith("4"):
        return "Visa"
    two, four = int(number[:2]), int(number[:4])
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "Mastercard"
    if two in (34, 37):
        return "American Express"
    if number.startswith("6011") or number.startswith("65") or 644 <= int(number[:3]) <= 649:
        return "Discover"
    return None


# The sandbox's test card numbers (api.md) and what a charge with each one does.
_SANDBOX_CARDS = {
    "4242424242424242": "approve",
    "5555555555554444": "approve",
    "378282246310005": "approve",
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000119": "timeout_once",
}


class SandboxGateway:
    """The embedded gateway: no network, deterministic test numbers, state in the shared database.

    It opens its own short transactions, like a remote service would commit on its side: a charge
    stays taken even when the portal's own transaction is lost. `charge_latency` is the time its
    answer takes once the money is taken (Settings.sandbox_charge_latency), the window in which a
    real gateway's answer can be lost to a crash or a dropped connection.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        new_id: Callable[[], str] | None = None,
        charge_latency: timedelta = timedelta(0),
    ) -> None:
        self._sessions = session_factory
        self._new_id = new_id or (lambda: secrets.token_hex(12))
        self._charge_latency = charge_latency.total_seconds()

    def tokenize_card(self, card: CardDetails) -> Tokenized:
        behavior = _SANDBOX_CARDS.get(card.number)
        if behavior is None:
            raise GatewayDeclined(
                "card_declined",
                "The card processor refused this card. In test mode only the sandbox test card numbers work.",
            )
        brand = card_brand(card.number) or "Card"
        method = SandboxMethod(
            token=f"tok_{self._new_id()}",
            kind="card",
            brand=brand,
            last4=card.number[-4:],
            behavior="approve" if behavior == "timeout_once" else behavior,
            first_charge_times_out=behavior == "timeout_once",
        )
        self._store(method)
        return Tokenized(method.token, "card", brand, method.last4, card.exp_month, card.exp_year)

    def tokenize_bank_account(self, account: BankAccountDetails) -> Tokenized:
        brand = "Savings account" if account.account_type == "savings" else "Checking account"
        method = SandboxMethod(
            token=f"btok_{self._new_id()}",
            kind="ach",
            brand=brand,
            last4=account.account_number[-4:],
            behavior="ach_rejected" if account.account_number.endswith("0002") else "approve",
            first_charge_times_out=False,
        )
        self._store(method)
        return Tokenized(method.token, "ach", brand, method.last4, None, None)

    def _store(self, method: SandboxMethod) -> None:
        with self._sessions() as session, session.begin():
            session.add(method)

    def charge(self, token: str, amount: Decimal, currency: str, idempotency_key: str, description: str) -> Charge:
        times_out = False
        with self._sessions() as session:
            try:
                with session.begin():
                    record = self._charge_by_key(session, idempotency_key)
                    if record is None:
                        record = self._new_charge(session, token, amount, currency, idempotency_key)
                        times_out = self._claim_timeout(session, token)
                        session.flush()
            except IntegrityError:
                # Another process charged with this key at the same moment: its outcome is ours.
                times_out = False
                with session.begin():
                    record = self._charge_by_key(session, idempotency_key)
            assert record is not None
        if self._charge_latency > 0:
            time.sleep(self._charge_latency)  # the answer's way back: the charge is already committed
        if record.token != token or record.amount != amount:
            raise GatewayError("The idempotency key was already used for a different charge.")
        if times_out:
            # The money is taken (committed above) but the answer never reaches the caller.
            raise GatewayTimeout("The card processor did not answer in time.")
        return self._outcome(record)

    def _new_charge(
        self, session: Session, token: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> SandboxCharge:
        method = session.get(SandboxMethod, token)
        if method is None:
            raise GatewayDeclined("card_declined", "The payment method is not known to the card processor.")
        declined = None if method.behavior == "approve" else method.behavior
        record = SandboxCharge(
            id=f"ch_{self._new_id()}",
            idempotency_key=idempotency_key,
            token=token,
            amount=amount,
            currency=currency,
            status="declined" if declined else "succeeded",
            decline_code=declined,
        )
        session.add(record)
        return record

    @staticmethod
    def _claim_timeout(session: Session, token: str) -> bool:
        """True for the one attempt (in any process) that takes the money and then times out."""
        claimed = session.execute(
            update(SandboxMethod)
            .where(SandboxMethod.token == token, SandboxMethod.first_charge_times_out.is_(True))
            .values(first_charge_times_out=False)
        )
        return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]

    def find_charge(self, idempotency_key: str) -> Charge | None:
        with self._sessions() as session, session.begin():
            existing = self._charge_by_key(session, idempotency_key)
            return None if existing is None else self._outcome(existing)

    @staticmethod
    def _charge_by_key(session: Session, idempotency_key: str) -> SandboxCharge | None:
        return session.scalar(select(SandboxCharge).where(SandboxCharge.idempotency_key == idempotency_key))

    @staticmethod
    def _outcome(record: SandboxCharge) -> Charge:
        if record.status == "declined":
            code = record.decline_code or "card_declined"
            raise GatewayDeclined(code, DECLINE_REASONS.get(code, DECLINE_REASONS["card_declined"]))
        return Charge(record.id, record.amount, record.idempotency_key)
