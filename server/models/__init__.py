"""The portal's tables. Importing this package registers every table on Base.metadata."""

from server.models.audit_guard import AuditIsAppendOnly
from server.models.auth import AuthSession, OneTimeToken, SignInFailures
from server.models.base import Base, Money
from server.models.billing import (
    AuditEntry,
    IdempotencyRecord,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentMethod,
)
from server.models.company import Branch, Contact, Identity, Property, PropertyContact, Staff, staff_branches
from server.models.sandbox import SandboxCharge, SandboxMethod
from server.models.search import SearchTerm
from server.models.work import (
    OPPORTUNITY_STATUSES,
    Activity,
    Attachment,
    Proposal,
    ProposalItem,
    ProposalSignature,
    RequestComment,
    ServiceRequest,
    Visit,
    VisitNote,
)

__all__ = [
    "OPPORTUNITY_STATUSES",
    "Activity",
    "Attachment",
    "AuditEntry",
    "AuditIsAppendOnly",
    "AuthSession",
    "Base",
    "Branch",
    "Contact",
    "IdempotencyRecord",
    "Identity",
    "Invoice",
    "InvoiceLine",
    "Money",
    "OneTimeToken",
    "Payment",
    "PaymentMethod",
    "Property",
    "PropertyContact",
    "Proposal",
    "ProposalItem",
    "ProposalSignature",
    "RequestComment",
    "SandboxCharge",
    "SandboxMethod",
    "SearchTerm",
    "ServiceRequest",
    "SignInFailures",
    "Staff",
    "Visit",
    "VisitNote",
    "staff_branches",
]
