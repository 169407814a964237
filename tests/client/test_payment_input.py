"""The pay dialogs' early hints (PM-2, PM-3) take ASCII digits only, as the portal does: '²' or '٣' pass
str.isdigit() but not int(), and a hint must never raise while the payer types."""

from __future__ import annotations

from app.models.payment_input import (
    card_number_problem,
    cvc_problem,
    digits_only,
    format_card_number,
    routing_account_problem,
)


def test_other_digits_are_not_card_digits() -> None:  # PM-2
    typed = "4242 4242 4242 424\u00b2"
    assert card_number_problem(typed) == "A card number has digits only."
    assert digits_only(typed) == "424242424242424"
    assert format_card_number(typed) == "4242 4242 4242 424"
    assert card_number_problem("4242 4242 4242 4242") is None


def test_other_digits_are_not_cvc_digits() -> None:  # PM-2
    assert cvc_problem("12\u0663") == "3 or 4 digits."
    assert cvc_problem("123") is None


def test_other_digits_are_not_account_digits() -> None:  # PM-3
    assert routing_account_problem("011000015/0001234567\u0668\u0669") == (
        "Use digits and one '/', no spaces or other characters."
    )
    assert routing_account_problem("011000015/000123456789") is None
