"""The import file's shape (api.md "Import format"), checked field by field before anything is written."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from server.models import OPPORTUNITY_STATUSES


def _decimal(places: int, *, positive: bool = False) -> Any:
    def parse(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError('must be a decimal written as a string, e.g. "120.00"')
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a number") from exc
        if not number.is_finite() or number != number.quantize(Decimal(1).scaleb(-places)):
            raise ValueError(f"{value!r} has more than {places} decimals")
        if number < 0 or (positive and number == 0):
            raise ValueError(f"{value!r} must be {'above' if positive else 'at least'} zero")
        return number

    return BeforeValidator(parse)


def _zone(name: str) -> str:
    from server.services.clock import zone_named

    if zone_named(name) is None:
        raise ValueError(f"{name!r} is not an IANA time zone")
    return name


def _email(value: str) -> str:
    value = value.strip().lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value:
        raise ValueError(f"{value!r} is not an email address")
    return value


Money = Annotated[Decimal, _decimal(2)]
Quantity = Annotated[Decimal, _decimal(3, positive=True)]
Email = Annotated[str, AfterValidator(_email)]
Key = Annotated[str, Field(min_length=1, max_length=100)]
Role = Literal["primary", "billing", "other"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BranchConfig(Strict):
    show_line_item_details: bool = True
    show_sales_rep_phone: bool = False
    electronic_payments: bool = True
    partial_payments: bool = False
    accepted_payment_types: list[Literal["card", "ach"]] = ["card", "ach"]
    card_fee_percent: Money = Decimal("0")
    ach_fee_flat: Money = Decimal("0")
    requests_enabled: bool = True


class BranchIn(Strict):
    slug: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    time_zone: Annotated[str, AfterValidator(_zone)] = "UTC"
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    config: BranchConfig = BranchConfig()


class StaffIn(Strict):
    key: Key
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Email
    phone: str | None = None
    password: Annotated[str, Field(min_length=12)] | None = None
    admin: bool = False
    branches: list[str] = []


class ContactIn(Strict):
    key: Key
    branch: str
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Email
    phone: str | None = None
    password: Annotated[str, Field(min_length=12)] | None = None
    invitation_token: Annotated[str, Field(min_length=16, max_length=200)] | None = None


class PropertyContactIn(Strict):
    contact: str
    role: Role


class PropertyIn(Strict):
    key: Key
    branch: str
    name: Annotated[str, Field(min_length=1, max_length=200)]
    address: str = ""
    account_owner: str | None = None
    sales_rep: str | None = None
    contacts: list[PropertyContactIn] = []
    unapplied_credits: Money = Decimal("0")


class ProposalItemIn(Strict):
    key: Key
    description: Annotated[str, Field(min_length=1, max_length=500)]
    quantity: Quantity
    unit_price: Money
    optional: bool = False


class ProposalIn(Strict):
    key: Key
    property: str
    number: Annotated[str, Field(min_length=1, max_length=60)]
    title: Annotated[str, Field(min_length=1, max_length=300)]
    opportunity_type: Literal["work_order", "contract"]
    opportunity_status: Literal[OPPORTUNITY_STATUSES]  # type: ignore[valid-type]
    shared_on: date | None = None
    sales_rep: str | None = None
    change_order_of: str | None = None
    terms: str = ""
    items: list[ProposalItemIn] = []


class VisitNoteIn(Strict):
    text: Annotated[str, Field(min_length=1)]
    shown_in_portal: bool = False
    created_at: datetime | None = None


class VisitIn(Strict):
    key: Key
    property: str
    date: date
    status: Literal["scheduled", "completed"]
    services: list[str] = []
    notes: list[VisitNoteIn] = []


class InvoiceLineIn(Strict):
    service: Annotated[str, Field(min_length=1, max_length=200)]
    description: str = ""
    visit: str | None = None
    amount: Money


class PaymentIn(Strict):
    amount: Annotated[Decimal, _decimal(2, positive=True)]
    paid_on: date


class InvoiceIn(Strict):
    key: Key
    property: str
    number: Annotated[str, Field(min_length=1, max_length=60)]
    billing_contact: str | None = None
    proposal: str | None = None
    invoice_date: date
    net_terms_days: Annotated[int, Field(ge=0, le=3650)] = 0
    shared: bool = True
    applied_credits: Money = Decimal("0")
    lines: list[InvoiceLineIn] = []
    payments: list[PaymentIn] = []


class CommentIn(Strict):
    author: str
    body: Annotated[str, Field(min_length=1)]
    public: bool = True
    created_at: datetime | None = None


class RequestIn(Strict):
    key: Key
    property: str
    number: Annotated[str, Field(min_length=1, max_length=60)]
    subject: Annotated[str, Field(min_length=1, max_length=300)]
    description: str = ""
    include_client: bool = True
    status: Annotated[str, Field(min_length=1, max_length=30)] = "open"
    created_at: datetime | None = None
    comments: list[CommentIn] = []


class ImportDocument(Strict):
    branches: list[BranchIn] = []
    staff: list[StaffIn] = []
    contacts: list[ContactIn] = []
    properties: list[PropertyIn] = []
    proposals: list[ProposalIn] = []
    visits: list[VisitIn] = []
    invoices: list[InvoiceIn] = []
    requests: list[RequestIn] = []
