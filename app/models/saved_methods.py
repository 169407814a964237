"""How a saved payment method reads wherever it is offered: "Manage payments" and the pay window
say the same thing about a card past its expiry month, or a method office staff added, from this one place."""

from __future__ import annotations

from datetime import date

from app.models.dates import moment_long
from app.models.payment_input import expiry_problem
from app.services.billing_records import PaymentMethod, ReceiptsSetting
from app.services.records import StaffRef


def card_expired(method: PaymentMethod, today: date | None = None) -> bool:
    """A card is good through the last day of its expiry month (as the portal checks a new card)."""
    if not (method.exp_month and method.exp_year):
        return False  # a bank account, or a card the gateway gave no expiry for
    return expiry_problem(method.exp_month, method.exp_year, today or date.today()) is not None


def method_text(method: PaymentMethod, today: date | None = None) -> str:
    """One line per method. A card past its expiry month says "expired": "expires 03/2025" read as
    if it still worked, and the customer found out when a payment with it was refused."""
    parts = [method.label]
    if method.exp_month and method.exp_year:
        expiry = f"{method.exp_month:02d}/{method.exp_year}"
        parts.append(f"expired {expiry}" if card_expired(method, today) else f"expires {expiry}")
    if method.is_default:
        parts.append("default")
    if method.captured_by is not None:
        parts.append(captured_text(method.captured_by))
    return " · ".join(parts)


def captured_text(staff: StaffRef) -> str:
    """SA-3's mark, in the words a request or comment typed by office staff carries."""
    return f"captured by office staff ({staff.name})"


def receipts_marker(setting: ReceiptsSetting, time_zone: str) -> str:
    """Under the receipts switch when office staff made its last change for the customer (SA-3);
    empty when the customer made it (or it was never changed). When is on the branch's clock."""
    if setting.changed_by is None:
        return ""
    state = "on" if setting.enabled else "off"
    when = f" on {moment_long(setting.changed_at, time_zone)}" if setting.changed_at is not None else ""
    return f"Turned {state} by office staff ({setting.changed_by.name}){when}"


def expired_card_sentence(method: PaymentMethod) -> str:
    """What the pay window says when an expired card is chosen, before anything is charged: why it
    cannot be used and what to do instead."""
    return (
        f"{method.label} expired at the end of {method.exp_month:02d}/{method.exp_year}. "
        "Choose another way to pay, or add a new card."
    )
