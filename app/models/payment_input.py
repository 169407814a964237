"""What the payer types into card and bank-account fields: live formatting and early hints.

The portal checks everything again (PM-2, PM-3); these only spare a round trip and show the
brand while typing. Nothing here keeps a number: functions take text and return text.
"""

from __future__ import annotations

from datetime import date

CARD_BRANDS = (
    ("American Express", ("34", "37")),
    ("Visa", ("4",)),
    ("Mastercard", ("51", "52", "53", "54", "55", "22", "23", "24", "25", "26", "27")),
    ("Discover", ("6011", "65", "644", "645", "646", "647", "648", "649")),
)


def is_digit(char: str) -> bool:
    """0-9 only, as the portal takes them: str.isdigit() also passes '²' or '٣', which int() refuses."""
    return "0" <= char <= "9" and len(char) == 1


def digits_only(text: str) -> str:
    return "".join(char for char in text if is_digit(char))


def card_brand(digits: str) -> str | None:
    for brand, prefixes in CARD_BRANDS:
        if digits.startswith(prefixes):
            return brand
    return None


def format_card_number(text: str) -> str:
    """Groups as printed on the card: 4-6-5 for American Express, fours for the rest; at most 19 digits."""
    digits = digits_only(text)[:19]
    if card_brand(digits) == "American Express":
        groups = [digits[:4], digits[4:10], digits[10:15]]
    else:
        groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    return " ".join(group for group in groups if group)


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return bool(digits) and total % 10 == 0


def card_number_problem(text: str) -> str | None:
    digits = digits_only(text)
    if any(not (is_digit(char) or char in " -") for char in text):
        return "A card number has digits only."
    if not 12 <= len(digits) <= 19:
        return "Enter the whole card number."
    if not luhn_ok(digits):
        return "This card number is not valid; check for a typo."
    return None


def cvc_problem(text: str) -> str | None:
    return None if len(text) >= 3 and all(is_digit(char) for char in text) else "3 or 4 digits."


def expiry_problem(month: int, year: int, today: date) -> str | None:
    if (year, month) < (today.year, today.month):
        return "This card has expired."
    return None


def routing_account_problem(text: str) -> str | None:
    """PM-3 as the payer types: digits and one '/', no spaces; the portal names a bad checksum."""
    if not text:
        return None
    if any(not (is_digit(char) or char == "/") for char in text):
        return "Use digits and one '/', no spaces or other characters."
    if text.count("/") > 1:
        return "Use only one '/', between the routing number and the account number."
    return None
