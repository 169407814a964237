"""Payment methods: validating what the payer typed (PM-2, PM-3) and keeping only the gateway's token (PM-4).

Every message here names what is wrong without repeating a card number, CVC or account number:
these sentences reach the client, and a sentence that reaches a client can end up in a log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.errors import FieldError, Problem, conflict, invalid, not_found
from server.models import Branch, Contact, PaymentMethod
from server.models.base import utcnow
from server.services.gateway import BankAccountDetails, CardDetails, Gateway, GatewayDeclined, GatewayError

MAX_EXPIRY_YEARS = 20
_CARD_SEPARATORS = re.compile(r"[ -]")
_POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")


def ascii_digits(text: str) -> bool:
    """0-9 only: str.isdigit() also takes superscripts and other scripts' digits, which int() may refuse
    (a 500 with the number in its traceback) or which a gateway would not read as the payer meant."""
    return text.isascii() and text.isdigit()


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def aba_ok(routing: str) -> bool:
    """The ABA routing-number checksum: 3-7-1 weights over the nine digits sum to a multiple of 10."""
    d = [int(c) for c in routing]
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8])) % 10 == 0


def card_errors(
    number: str, exp_month: int, exp_year: int, cvc: str, holder_name: str, postal_code: str, today: date
) -> tuple[str, list[FieldError]]:
    """PM-2: Luhn, expiry not in the past, CVC of 3-4 digits. Returns the number without spaces and the errors."""
    errors: list[FieldError] = []
    digits = _CARD_SEPARATORS.sub("", number)
    if not digits:
        errors.append(FieldError("card_number", "Enter the card number."))
    elif not ascii_digits(digits):
        errors.append(FieldError("card_number", "A card number has digits only (spaces are fine)."))
    elif not 12 <= len(digits) <= 19:
        errors.append(FieldError("card_number", f"A card number has 12 to 19 digits; this one has {len(digits)}."))
    elif not luhn_ok(digits):
        errors.append(
            FieldError("card_number", "This card number is not valid (its check digit is wrong); check for a typo.")
        )
    month_ok = 1 <= exp_month <= 12
    if not month_ok:
        errors.append(FieldError("exp_month", "The expiry month must be 1 to 12."))
    if exp_year < 100:
        errors.append(FieldError("exp_year", "Give the expiry year with four digits, for example 2031."))
    elif exp_year > today.year + MAX_EXPIRY_YEARS:
        errors.append(FieldError("exp_year", f"The expiry year {exp_year} is too far in the future."))
    elif month_ok and (exp_year, exp_month) < (today.year, today.month):
        errors.append(FieldError("exp_year", f"This card expired at the end of {exp_month:02d}/{exp_year}."))
    if not (ascii_digits(cvc) and 3 <= len(cvc) <= 4):
        errors.append(FieldError("cvc", "The security code (CVC) is 3 or 4 digits."))
    if not holder_name.strip():
        errors.append(FieldError("holder_name", "Enter the name on the card."))
    if not _POSTAL_CODE.match(postal_code.strip()):
        errors.append(FieldError("postal_code", "Enter the billing postal code (letters, digits, spaces)."))
    return digits, errors


def routing_account_errors(value: str) -> tuple[str, str, list[FieldError]]:
    """PM-3: one field "routing/account": digits and one '/', ABA-valid 9-digit routing, 4-17 digit account."""
    field = "routing_account"
    if not value:
        return "", "", [FieldError(field, "Enter the routing number and the account number separated by '/'.")]
    if any(not (ascii_digits(char) or char == "/") for char in value):
        found = "spaces" if any(char.isspace() for char in value) else "other characters"
        return "", "", [FieldError(field, f"Use digits and one '/', no spaces or other characters (found {found}).")]
    if value.count("/") != 1:
        return "", "", [FieldError(field, "Use digits and one '/': the routing number, '/', then the account number.")]
    routing, account = value.split("/")
    errors: list[FieldError] = []
    if len(routing) != 9:
        errors.append(FieldError(field, f"The routing number has 9 digits; this one has {len(routing)}."))
    elif not aba_ok(routing):
        errors.append(
            FieldError(field, f"Routing number {routing} fails its checksum; check it on a check or with your bank.")
        )
    if not 4 <= len(account) <= 17:
        errors.append(FieldError(field, f"The account number has 4 to 17 digits; this one has {len(account)}."))
    return routing, account, errors


@dataclass(frozen=True)
class NewCard:
    number: str
    exp_month: int
    exp_year: int
    cvc: str
    holder_name: str
    postal_code: str


@dataclass(frozen=True)
class NewBankAccount:
    routing_account: str
    holder_name: str
    account_type: str


def active_methods(session: Session, contact_id: int) -> list[PaymentMethod]:
    """Default first, then newest first."""
    return list(
        session.scalars(
            select(PaymentMethod)
            .where(PaymentMethod.contact_id == contact_id, PaymentMethod.deleted_at.is_(None))
            .order_by(PaymentMethod.is_default.desc(), PaymentMethod.created_at.desc(), PaymentMethod.id.desc())
        )
    )


def owned_method(session: Session, contact_id: int, method_id: int) -> PaymentMethod:
    method = session.get(PaymentMethod, method_id)
    if method is None or method.contact_id != contact_id or method.deleted_at is not None:
        raise not_found("That payment method")
    return method


def check_type_accepted(branch: Branch, kind: str, field: str = "type") -> None:
    """PM-1, IN-8: the branch decides which electronic payment types exist at all."""
    if not branch.electronic_payments:
        raise conflict("electronic_payments_disabled", f"{branch.name} does not take payments in the portal.")
    if kind not in branch.accepted_payment_types:
        label = "Cards" if kind == "card" else "Bank accounts (ACH)"
        raise invalid(
            [FieldError(field, f"{label} are not accepted by {branch.name}.")],
            code="payment_type_not_accepted",
        )


def add_method(
    session: Session,
    gateway: Gateway,
    branch: Branch,
    contact: Contact,
    details: NewCard | NewBankAccount,
    today: date,
    captured_by_id: int | None,
) -> PaymentMethod:
    """Validates, tokenizes at the gateway and stores the token; the first method becomes the default (PM-1).
    `captured_by_id` is the staff member adding it in an assist session, kept so the customer sees it (SA-3)."""
    kind = "card" if isinstance(details, NewCard) else "ach"
    check_type_accepted(branch, kind)
    try:
        if isinstance(details, NewCard):
            digits, errors = card_errors(
                details.number,
                details.exp_month,
                details.exp_year,
                details.cvc,
                details.holder_name,
                details.postal_code,
                today,
            )
            if errors:
                raise invalid(errors)
            tokenized = gateway.tokenize_card(
                CardDetails(
                    digits,
                    details.exp_month,
                    details.exp_year,
                    details.cvc,
                    details.holder_name.strip(),
                    details.postal_code.strip(),
                )
            )
            holder = details.holder_name.strip()
        else:
            routing, account, errors = routing_account_errors(details.routing_account)
            if not details.holder_name.strip():
                errors.append(FieldError("holder_name", "Enter the account holder's name."))
            if errors:
                raise invalid(errors)
            tokenized = gateway.tokenize_bank_account(
                BankAccountDetails(routing, account, details.account_type, details.holder_name.strip())
            )
            holder = details.holder_name.strip()
    except GatewayDeclined as declined:
        raise Problem(402, declined.code, declined.reason, "Payment method refused") from None
    except GatewayError:
        raise Problem(
            503,
            "gateway_unavailable",
            "The card processor could not be reached. Nothing was saved; please try again in a moment.",
            headers={"Retry-After": "5"},
        ) from None
    lock_contact(session, contact)
    has_default = (
        session.scalar(
            select(PaymentMethod.id).where(
                PaymentMethod.contact_id == contact.id,
                PaymentMethod.deleted_at.is_(None),
                PaymentMethod.is_default.is_(True),
            )
        )
        is not None
    )
    method = PaymentMethod(
        contact_id=contact.id,
        type=tokenized.kind,
        gateway_token=tokenized.token,
        brand=tokenized.brand,
        last4=tokenized.last4,
        exp_month=tokenized.exp_month,
        exp_year=tokenized.exp_year,
        holder_name=holder,
        is_default=not has_default,
        captured_by_id=captured_by_id,
    )
    session.add(method)
    session.flush()
    return method


def lock_contact(session: Session, contact: Contact) -> None:
    """The contact's methods and receipts setting change one request at a time, across server processes:
    two first methods added at once both became the default, and two removals at once each saw the other
    method still there, leaving receipts on with no method on file (PM-1, PM-5). Re-reads the contact,
    whose setting another request may have changed meanwhile. Held until the caller commits; taken
    after any gateway call, so no request waits on the card processor."""
    session.refresh(contact, with_for_update=True)


def make_default(session: Session, contact: Contact, method_id: int) -> PaymentMethod:
    lock_contact(session, contact)  # a removal meanwhile could otherwise pass the default to the method it removes
    method = owned_method(session, contact.id, method_id)
    # One statement, so two clicks at once can never leave two defaults.
    session.execute(
        update(PaymentMethod)
        .where(PaymentMethod.contact_id == contact.id, PaymentMethod.deleted_at.is_(None))
        .values(is_default=PaymentMethod.id == method_id)
        .execution_options(synchronize_session=False)
    )
    session.refresh(method)
    return method


def set_email_receipts(contact: Contact, enabled: bool, changed_by_id: int | None) -> None:
    """Every change of the setting says when and, in an assist session, which staff member made it:
    the customer sees a setting changed for them as such (SA-3); their own change clears that."""
    contact.email_receipts = enabled
    contact.email_receipts_changed_at = utcnow()
    contact.email_receipts_changed_by_id = changed_by_id


def remove_method(session: Session, contact: Contact, method_id: int, removed_by_id: int | None) -> PaymentMethod:
    """Soft delete (past payments still name it). The newest remaining method inherits the default;
    with none left, emailed receipts turn off since they need a method on file (PM-5), a change of the
    setting made by whoever removed the method."""
    lock_contact(session, contact)
    method = owned_method(session, contact.id, method_id)
    method.deleted_at = utcnow()
    was_default = method.is_default
    method.is_default = False
    session.flush()
    remaining = active_methods(session, contact.id)
    if was_default and remaining:
        newest = max(remaining, key=lambda m: (m.created_at, m.id))
        newest.is_default = True
    if not remaining and contact.email_receipts:
        set_email_receipts(contact, False, removed_by_id)
    return method
