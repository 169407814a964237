"""Frozen records parsed from the portal's JSON.

Money is `Decimal` and calendar days are `date` so that nothing downstream can round a cent
or shift a due date across a time zone; parsing rejects JSON numbers where money is expected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

from app.services.errors import ServerError

T = TypeVar("T")
Json = Mapping[str, Any]


@dataclass(frozen=True)
class User:
    id: int
    kind: str
    name: str
    email: str


@dataclass(frozen=True)
class Login:
    token: str
    expires_at: datetime
    user: User


@dataclass(frozen=True)
class Branch:
    slug: str
    name: str
    portal_url: str


@dataclass(frozen=True)
class BranchInfo:
    slug: str
    name: str
    time_zone: str


@dataclass(frozen=True)
class PortalConfig:
    branch: BranchInfo
    currency: str
    show_line_item_details: bool
    show_sales_rep_phone: bool
    electronic_payments: bool
    partial_payments: bool
    accepted_payment_types: tuple[str, ...]
    card_fee_percent: Decimal
    ach_fee_flat: Decimal
    requests_enabled: bool


@dataclass(frozen=True)
class ServerVersion:
    server_version: str
    api_version: str


@dataclass(frozen=True)
class Property:
    id: int
    name: str
    address: str
    role: str


@dataclass(frozen=True)
class Balance:
    current_balance: Decimal
    due_invoice_count: int
    unapplied_credits: Decimal


@dataclass(frozen=True)
class PropertyRef:
    id: int
    name: str


@dataclass(frozen=True)
class ProposalSummary:
    id: int
    number: str
    title: str
    property: PropertyRef
    status: str
    total: Decimal
    shared_on: date | None
    is_change_order: bool
    can_sign: bool


@dataclass(frozen=True)
class VisitSummary:
    id: int
    date: date
    property: PropertyRef
    services: tuple[str, ...]
    status: str


@dataclass(frozen=True)
class InvoiceSummary:
    id: int
    number: str
    property: PropertyRef
    services: tuple[str, ...]
    invoice_date: date
    due_date: date
    total: Decimal
    balance: Decimal
    status: str


@dataclass(frozen=True)
class RequestSummary:
    id: int
    number: str
    subject: str
    property: PropertyRef
    status: str
    created_at: datetime
    last_activity_at: datetime | None
    comment_count: int


@dataclass(frozen=True)
class LineItem:
    id: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    optional: bool
    selected: bool


@dataclass(frozen=True)
class OptionalService:
    id: int
    description: str
    amount: Decimal
    selected: bool


@dataclass(frozen=True)
class PersonContact:
    name: str
    email: str
    phone: str | None


@dataclass(frozen=True)
class StaffRef:
    id: int
    name: str


@dataclass(frozen=True)
class Signature:
    signer_name: str
    signed_at: datetime
    captured_by: StaffRef | None


@dataclass(frozen=True)
class ProposalRef:
    id: int
    number: str


@dataclass(frozen=True)
class ProposalDetail(ProposalSummary):
    opportunity_type: str
    opportunity_status: str
    line_items: tuple[LineItem, ...] | None  # None when the branch hides them (PR-6)
    optional_services: tuple[OptionalService, ...]
    approved_total: Decimal | None
    sales_rep: PersonContact | None
    signature: Signature | None
    change_order_of: ProposalRef | None
    sign_blocked_reason: str | None
    # Goes up whenever staff change what a signer reads; the signature sends the one shown. None from a
    # portal older than it (which would refuse the field).
    revision: int | None

    @property
    def required_total(self) -> Decimal:
        """What is approved with no optional service chosen: the proposal's total (PR-5)."""
        return self.total

    def approved_amount(self, selected_ids: set[int]) -> Decimal:
        """PR-5, as the server computes it: the total plus every selected optional service."""
        return self.total + sum((o.amount for o in self.optional_services if o.id in selected_ids), Decimal(0))


@dataclass(frozen=True)
class ContactProperty:
    id: int
    name: str
    role: str


ROLE_ORDER = ("primary", "billing", "other")
# As the customer's own portal names the roles ("Contact", not "Other"): in the sidebar's chips,
# Find customer's results and the assist banner alike, so staff and customer use the same words.
ROLE_NAMES = {"primary": "Primary", "billing": "Billing", "other": "Contact"}


@dataclass(frozen=True)
class StaffContact:
    """A customer as office staff find them (SA-1)."""

    id: int
    name: str
    email: str
    phone: str | None
    properties: tuple[ContactProperty, ...]

    def role_names(self) -> list[str]:
        """The roles the contact holds on any property, in ROLE_ORDER, by their ROLE_NAMES."""
        present = {p.role for p in self.properties}
        return [ROLE_NAMES[role] for role in ROLE_ORDER if role in present]

    def summary(self) -> str:
        """ "Primary, Contact, 3 properties": what the staff member needs to know before acting (the
        assist banner and window title). The roles by the names the results and the customer's
        portal use: the banner said "Other" for the customer the results had just called "Contact"."""
        count = len(self.properties)
        return ", ".join([*self.role_names(), f"{count} {'property' if count == 1 else 'properties'}"])


@dataclass(frozen=True)
class Assist:
    token: str
    expires_at: datetime
    contact: StaffContact
    idle_seconds: int | None = None  # SA-4's limit as this portal sets it; None from a portal that does not say


@dataclass(frozen=True)
class AuditItem:
    at: datetime
    staff_name: str
    contact_id: int
    contact_name: str
    action: str
    target: str
    detail: str
    # The payment's reference (as on its receipt) when the entry is about a payment.
    reference: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    next_cursor: str | None
    total: int


def money(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise ValueError(f"money must be a string, got {type(value).__name__}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError("money must be finite")
    return amount


def day(value: Any) -> date:
    return date.fromisoformat(value)


def moment(value: Any) -> datetime:
    return datetime.fromisoformat(value)


def _optional(parse: Callable[[Any], T], value: Any) -> T | None:
    return None if value is None else parse(value)


def parse_user(data: Json) -> User:
    return User(id=int(data["id"]), kind=str(data["kind"]), name=str(data["name"]), email=str(data["email"]))


def parse_login(data: Json) -> Login:
    return Login(token=str(data["token"]), expires_at=moment(data["expires_at"]), user=parse_user(data["user"]))


def parse_branch(data: Json) -> Branch:
    return Branch(slug=str(data["slug"]), name=str(data["name"]), portal_url=str(data["portal_url"]))


def parse_config(data: Json) -> PortalConfig:
    branch = data["branch"]
    return PortalConfig(
        branch=BranchInfo(slug=str(branch["slug"]), name=str(branch["name"]), time_zone=str(branch["time_zone"])),
        currency=str(data["currency"]),
        show_line_item_details=bool(data["show_line_item_details"]),
        show_sales_rep_phone=bool(data["show_sales_rep_phone"]),
        electronic_payments=bool(data["electronic_payments"]),
        partial_payments=bool(data["partial_payments"]),
        accepted_payment_types=tuple(str(t) for t in data["accepted_payment_types"]),
        card_fee_percent=money(data["card_fee_percent"]),
        ach_fee_flat=money(data["ach_fee_flat"]),
        requests_enabled=bool(data["requests_enabled"]),
    )


def parse_version(data: Json) -> ServerVersion:
    return ServerVersion(server_version=str(data["server_version"]), api_version=str(data["api_version"]))


def parse_property(data: Json) -> Property:
    return Property(id=int(data["id"]), name=str(data["name"]), address=str(data["address"]), role=str(data["role"]))


def parse_balance(data: Json) -> Balance:
    return Balance(
        current_balance=money(data["current_balance"]),
        due_invoice_count=int(data["due_invoice_count"]),
        unapplied_credits=money(data["unapplied_credits"]),
    )


def _ref(data: Json) -> PropertyRef:
    return PropertyRef(id=int(data["id"]), name=str(data["name"]))


def parse_proposal(data: Json) -> ProposalSummary:
    return ProposalSummary(
        id=int(data["id"]),
        number=str(data["number"]),
        title=str(data["title"]),
        property=_ref(data["property"]),
        status=str(data["status"]),
        total=money(data["total"]),
        shared_on=_optional(day, data.get("shared_on")),
        is_change_order=bool(data["is_change_order"]),
        can_sign=bool(data["can_sign"]),
    )


def _line_item(data: Json) -> LineItem:
    return LineItem(
        id=int(data["id"]),
        description=str(data["description"]),
        quantity=Decimal(str(data["quantity"])),
        unit_price=money(data["unit_price"]),
        amount=money(data["amount"]),
        optional=bool(data["optional"]),
        selected=bool(data["selected"]),
    )


def parse_person(data: Json) -> PersonContact:
    """A sales rep or service contact: the same `{name, email, phone?}` in proposals, visits and invoices."""
    phone = data.get("phone")
    return PersonContact(name=str(data["name"]), email=str(data["email"]), phone=None if phone is None else str(phone))


def parse_staff_ref(data: Json | None) -> StaffRef | None:
    """`captured_by` / `assisted_by`: one shape everywhere in the API, `{id, name}` or null."""
    return None if data is None else StaffRef(id=int(data["id"]), name=str(data["name"]))


def _signature(data: Json) -> Signature:
    return Signature(
        signer_name=str(data["signer_name"]),
        signed_at=moment(data["signed_at"]),
        captured_by=parse_staff_ref(data.get("captured_by")),
    )


def parse_proposal_detail(data: Json) -> ProposalDetail:
    summary = parse_proposal(data)
    items = data.get("line_items")
    original = data.get("change_order_of")
    reason = data.get("sign_blocked_reason")
    return ProposalDetail(
        **{field: getattr(summary, field) for field in ProposalSummary.__dataclass_fields__},
        opportunity_type=str(data["opportunity_type"]),
        opportunity_status=str(data["opportunity_status"]),
        line_items=None if items is None else tuple(_line_item(i) for i in items),
        optional_services=tuple(
            OptionalService(
                id=int(o["id"]),
                description=str(o["description"]),
                amount=money(o["amount"]),
                selected=bool(o["selected"]),
            )
            for o in data["optional_services"]
        ),
        approved_total=_optional(money, data.get("approved_total")),
        sales_rep=_optional(parse_person, data.get("sales_rep")),
        signature=_optional(_signature, data.get("signature")),
        change_order_of=None
        if original is None
        else ProposalRef(id=int(original["id"]), number=str(original["number"])),
        sign_blocked_reason=None if reason is None else str(reason),
        revision=_optional(int, data.get("revision")),
    )


def parse_visit(data: Json) -> VisitSummary:
    return VisitSummary(
        id=int(data["id"]),
        date=day(data["date"]),
        property=_ref(data["property"]),
        services=tuple(str(s) for s in data["services"]),
        status=str(data["status"]),
    )


def parse_invoice(data: Json) -> InvoiceSummary:
    return InvoiceSummary(
        id=int(data["id"]),
        number=str(data["number"]),
        property=_ref(data["property"]),
        services=tuple(str(s) for s in data["services"]),
        invoice_date=day(data["invoice_date"]),
        due_date=day(data["due_date"]),
        total=money(data["total"]),
        balance=money(data["balance"]),
        status=str(data["status"]),
    )


def parse_request(data: Json) -> RequestSummary:
    return RequestSummary(
        id=int(data["id"]),
        number=str(data["number"]),
        subject=str(data["subject"]),
        property=_ref(data["property"]),
        status=str(data["status"]),
        created_at=moment(data["created_at"]),
        last_activity_at=_optional(moment, data.get("last_activity_at")),
        comment_count=int(data["comment_count"]),
    )


def parse_staff_contact(data: Json) -> StaffContact:
    return StaffContact(
        id=int(data["id"]),
        name=str(data["name"]),
        email=str(data["email"]),
        phone=_optional(str, data.get("phone")),
        properties=tuple(
            ContactProperty(id=int(p["id"]), name=str(p["name"]), role=str(p["role"])) for p in data["properties"]
        ),
    )


def parse_assist(data: Json) -> Assist:
    return Assist(
        token=str(data["token"]),
        expires_at=moment(data["expires_at"]),
        contact=parse_staff_contact(data["contact"]),
        idle_seconds=_optional(int, data.get("idle_seconds")),
    )


def parse_audit_item(data: Json) -> AuditItem:
    return AuditItem(
        at=moment(data["at"]),
        staff_name=str(data["staff"]["name"]),
        contact_id=int(data["contact"]["id"]),
        contact_name=str(data["contact"]["name"]),
        action=str(data["action"]),
        target=str(data["target"]),
        detail=str(data["detail"]),
        reference=str(data["reference"]) if data.get("reference") else None,
    )


def parse_page(data: Json, parse_item: Callable[[Json], T]) -> Page[T]:
    cursor = data.get("next_cursor")
    return Page(
        items=tuple(parse_item(item) for item in data["items"]),
        next_cursor=None if cursor is None else str(cursor),
        total=int(data["total"]),
    )


def parse(data: Any, parser: Callable[[Any], T]) -> T:
    """Runs a parser, turning any shape mismatch into a ServerError the views already handle."""
    try:
        return parser(data)
    except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation) as exc:
        raise ServerError(
            "The portal sent an answer this app cannot read. Please try again later.",
            code="unexpected_response",
        ) from exc
