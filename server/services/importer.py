"""`python -m server import`: validate the whole file, then upsert every record by its key in one transaction."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar, cast

from pydantic import ValidationError
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import QueryableAttribute, Session, selectinload

from server.db import make_engine, make_session_factory
from server.models import (
    AuthSession,
    Branch,
    Contact,
    Identity,
    Invoice,
    InvoiceLine,
    OneTimeToken,
    Payment,
    Property,
    PropertyContact,
    Proposal,
    ProposalItem,
    RequestComment,
    ServiceRequest,
    Staff,
    Visit,
    VisitNote,
)
from server.models.base import Base
from server.models.billing import PAYMENT_SUCCEEDED
from server.models.search import write_terms
from server.models.work import proposal_total
from server.services import import_format as fmt
from server.services.secrets import hash_password, token_hash
from server.settings import Settings

ModelT = TypeVar("ModelT", bound=Base)


@dataclass(frozen=True)
class ImportProblem:
    path: str
    message: str


class ImportFailed(Exception):
    def __init__(self, errors: list[ImportProblem]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the import file")
        self.errors = errors


@dataclass
class ImportReport:
    counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def records(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        parts = ", ".join(f"{n} {name}" for name, n in self.counts.items())
        return f"imported {self.records} records ({parts}) in {self.seconds:.1f} s"


def _path(location: Iterable[Any]) -> str:
    text = "$"
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def parse(document: Any) -> fmt.ImportDocument:
    try:
        return fmt.ImportDocument.model_validate(document)
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown field"
            errors.append(ImportProblem(_path(error["loc"]), message))
        raise ImportFailed(errors) from exc


class _Checker:
    """Cross-record checks: unique keys, references that resolve (in the file or the database), same branch."""

    def __init__(self, session: Session, doc: fmt.ImportDocument) -> None:
        self.session = session
        self.doc = doc
        self.errors: list[ImportProblem] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(ImportProblem(path, message))

    def _known(self, model: type[Base], column: str, in_file: Iterable[str]) -> dict[str, Any]:
        """key -> branch slug (or None) for records in the file and already in the database."""
        known: dict[str, Any] = dict.fromkeys(in_file)
        attribute = getattr(model, column)
        for value in self.session.scalars(select(attribute)):
            known.setdefault(value, None)
        return known

    def _unique(self, section: str, values: list[str], what: str) -> None:
        seen: set[str] = set()
        for index, value in enumerate(values):
            if value in seen:
                self.error(f"$.{section}[{index}].{what}", f"{what} {value!r} appears twice in the file")
            seen.add(value)

    def _property_of(self, model: type[Proposal] | type[Visit], in_file: dict[str, str]) -> dict[str, str]:
        """key -> property key of the records in the file (as the file says) and already in the database."""
        known = dict(in_file)
        for key, property_key in self.session.execute(select(model.key, Property.key).join(Property)):
            known.setdefault(key, property_key)
        return known

    def _same_property(
        self, path: str, target: str | None, property_of: dict[str, str], property_key: str, what: str
    ) -> None:
        """A change order's original, an invoice's proposal and a line's visit belong to the same property:
        every contact who sees the record may open what it names, and no record names another customer's."""
        if target is not None and target in property_of and property_of[target] != property_key:
            self.error(path, f"{what} {target!r} belongs to another property")

    def run(self) -> list[ImportProblem]:
        doc = self.doc
        self._unique("branches", [b.slug for b in doc.branches], "slug")
        for section in ("staff", "contacts", "properties", "proposals", "visits", "invoices", "requests"):
            self._unique(section, [r.key for r in getattr(doc, section)], "key")
        item_keys = [(i, j, item.key) for i, p in enumerate(doc.proposals) for j, item in enumerate(p.items)]
        seen_items: set[str] = set()
        for i, j, key in item_keys:
            if key in seen_items:
                self.error(f"$.proposals[{i}].items[{j}].key", f"key {key!r} appears twice in the file")
            seen_items.add(key)

        branches = set(self._known(Branch, "slug", (b.slug for b in doc.branches)))
        staff = set(self._known(Staff, "key", (s.key for s in doc.staff)))
        contact_branch = {c.key: c.branch for c in doc.contacts}
        for key, slug in self.session.execute(select(Contact.key, Branch.slug).join(Branch)):
            contact_branch.setdefault(key, slug)
        property_branch = {p.key: p.branch for p in doc.properties}
        for key, slug in self.session.execute(select(Property.key, Branch.slug).join(Branch)):
            property_branch.setdefault(key, slug)
        proposal_property = self._property_of(Proposal, {o.key: o.property for o in doc.proposals})
        visit_property = self._property_of(Visit, {v.key: v.property for v in doc.visits})

        def ref(path: str, value: str | None, known: Iterable[str], what: str) -> None:
            if value is not None and value not in known:
                self.error(path, f"no {what} with key {value!r}")

        for i, s in enumerate(doc.staff):
            for j, slug in enumerate(s.branches):
                ref(f"$.staff[{i}].branches[{j}]", slug, branches, "branch")
        emails: dict[tuple[str, str], str] = {}
        for i, c in enumerate(doc.contacts):
            ref(f"$.contacts[{i}].branch", c.branch, branches, "branch")
            other = emails.setdefault((c.branch, c.email), c.key)
            if other != c.key:
                self.error(f"$.contacts[{i}].email", f"contact {other!r} on branch {c.branch!r} has this email already")
        for i, p in enumerate(doc.properties):
            ref(f"$.properties[{i}].branch", p.branch, branches, "branch")
            ref(f"$.properties[{i}].account_owner", p.account_owner, staff, "staff member")
            ref(f"$.properties[{i}].sales_rep", p.sales_rep, staff, "staff member")
            for j, link in enumerate(p.contacts):
                path = f"$.properties[{i}].contacts[{j}].contact"
                if link.contact not in contact_branch:
                    self.error(path, f"no contact with key {link.contact!r}")
                elif contact_branch[link.contact] != p.branch:
                    self.error(path, f"contact {link.contact!r} belongs to another branch than the property")
            self._unique(f"properties[{i}].contacts", [link.contact for link in p.contacts], "contact")
        for i, o in enumerate(doc.proposals):
            ref(f"$.proposals[{i}].property", o.property, property_branch, "property")
            ref(f"$.proposals[{i}].sales_rep", o.sales_rep, staff, "staff member")
            ref(f"$.proposals[{i}].change_order_of", o.change_order_of, proposal_property, "proposal")
            if o.change_order_of == o.key:
                self.error(f"$.proposals[{i}].change_order_of", "a proposal cannot be a change order of itself")
            self._same_property(
                f"$.proposals[{i}].change_order_of", o.change_order_of, proposal_property, o.property, "proposal"
            )
        for i, v in enumerate(doc.visits):
            ref(f"$.visits[{i}].property", v.property, property_branch, "property")
        for i, inv in enumerate(doc.invoices):
            ref(f"$.invoices[{i}].property", inv.property, property_branch, "property")
            ref(f"$.invoices[{i}].proposal", inv.proposal, proposal_property, "proposal")
            self._same_property(f"$.invoices[{i}].proposal", inv.proposal, proposal_property, inv.property, "proposal")
            if inv.billing_contact is not None:
                if inv.billing_contact not in contact_branch:
                    self.error(f"$.invoices[{i}].billing_contact", f"no contact with key {inv.billing_contact!r}")
                elif contact_branch[inv.billing_contact] != property_branch.get(inv.property):
                    self.error(f"$.invoices[{i}].billing_contact", "the billing contact belongs to another branch")
            for j, line in enumerate(inv.lines):
                path = f"$.invoices[{i}].lines[{j}].visit"
                ref(path, line.visit, visit_property, "visit")
                self._same_property(path, line.visit, visit_property, inv.property, "visit")
            total = sum((line.amount for line in inv.lines), Decimal(0))
            paid = sum((p.amount for p in inv.payments), Decimal(0))
            if inv.applied_credits + paid > total:
                self.error(
                    f"$.invoices[{i}]",
                    f"credits and payments ({inv.applied_credits + paid}) exceed the total ({total})",
                )
        authors = staff | set(contact_branch)
        for i, r in enumerate(doc.requests):
            ref(f"$.requests[{i}].property", r.property, property_branch, "property")
            for j, comment in enumerate(r.comments):
                ref(f"$.requests[{i}].comments[{j}].author", comment.author, authors, "staff member or contact")
        return self.errors


class _Writer:
    """Upserts by key: a record already imported is updated in place, so ids stay stable."""

    def __init__(self, session: Session, report: ImportReport, invitation_lifetime: timedelta) -> None:
        self.session = session
        self.report = report
        self.invitation_lifetime = invitation_lifetime
        self.now = datetime.now(UTC)
        self.branches: dict[str, Branch] = {}
        self.staff: dict[str, Staff] = {}
        self.contacts: dict[str, Contact] = {}
        self.properties: dict[str, Property] = {}
        self.proposals: dict[str, Proposal] = {}
        self.visits: dict[str, Visit] = {}
        self.identities: dict[str, Identity] = {}
        # key -> id of the records the fast path inserted, per model.
        self.inserted: defaultdict[type[Any], dict[str, int]] = defaultdict(dict)

    def _existing(
        self, model: type[ModelT], column: str, keys: list[str], *children: QueryableAttribute[Any]
    ) -> dict[str, ModelT]:
        """The rows already imported under `keys`, with their `children` collections loaded in bulk (not one
        query per row when a re-import walks them)."""
        if not keys:
            return {}
        attribute = getattr(model, column)
        found: dict[str, ModelT] = {}
        for start in range(0, len(keys), 900):
            query = select(model).where(attribute.in_(keys[start : start + 900]))
            for row in self.session.scalars(query.options(*(selectinload(child) for child in children))):
                found[getattr(row, column)] = row
        return found

    def _lookup(self, cache: dict[str, ModelT], model: type[ModelT], key: str | None) -> ModelT | None:
        if key is None:
            return None
        if key not in cache:
            cache.update(self._existing(model, "key", [key]))
        return cache[key]

    def _upsert(self, cache: dict[str, ModelT], model: type[ModelT], key: str, values: dict[str, Any]) -> ModelT:
        row = cache.get(key)
        if row is None:
            row = model(key=key, **values)
            self.session.add(row)
            cache[key] = row
        else:
            for name, value in values.items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
        self.report.counts[model.__tablename__] += 1
        return row

    def identity(self, email: str, password: str | None) -> Identity:
        identity = self.identities.get(email)
        if identity is None:
            identity = self.session.scalar(select(Identity).where(Identity.email == email))
        if identity is None:
            identity = Identity(email=email)
            self.session.add(identity)
        # A password from the back office only opens an account that has none yet; it never
        # overwrites one the person chose in the portal, and re-imports change nothing.
        if password is not None and identity.password_hash is None:
            identity.password_hash = hash_password(password)
        self.identities[email] = identity
        return identity

    def write(self, doc: fmt.ImportDocument) -> None:
        s = self.session
        self.branches.update(self._existing(Branch, "slug", [b.slug for b in doc.branches]))
        for b in doc.branches:
            cfg = b.config
            values = dict(
                name=b.name,
                time_zone=b.time_zone,
                currency=b.currency,
                show_line_item_details=cfg.show_line_item_details,
                show_sales_rep_phone=cfg.show_sales_rep_phone,
                electronic_payments=cfg.electronic_payments,
                partial_payments=cfg.partial_payments,
                accept_card="card" in cfg.accepted_payment_types,
                accept_ach="ach" in cfg.accepted_payment_types,
                card_fee_percent=cfg.card_fee_percent,
                ach_fee_flat=cfg.ach_fee_flat,
                requests_enabled=cfg.requests_enabled,
            )
            branch = self.branches.get(b.slug)
            if branch is None:
                branch = Branch(slug=b.slug, **values)
                s.add(branch)
                self.branches[b.slug] = branch
            else:
                for name, value in values.items():
                    if getattr(branch, name) != value:
                        setattr(branch, name, value)
            self.report.counts["branches"] += 1
        for slug in {slug for st in doc.staff for slug in st.branches} - set(self.branches):
            self.branches[slug] = s.scalars(select(Branch).where(Branch.slug == slug)).one()
        s.flush()

        self.staff.update(self._existing(Staff, "key", [st.key for st in doc.staff]))
        for st in doc.staff:
            identity = self.identity(st.email, st.password)
            row = self._upsert(
                self.staff,
                Staff,
                st.key,
                dict(name=st.name, email=st.email, phone=st.phone, is_admin=st.admin, identity=identity),
            )
            wanted = [self.branches[slug] for slug in st.branches]
            if {b.slug for b in row.branches} != set(st.branches):
                self._end_sessions_on_removed_branches(row, set(st.branches))
                row.branches = wanted
        s.flush()

        self.contacts.update(self._existing(Contact, "key", [c.key for c in doc.contacts]))
        for c in doc.contacts:
            identity = self.identity(c.email, c.password)
            before = self.contacts.get(c.key)
            if before is not None and before.identity_id is not None and before.identity_id != identity.id:
                self._contact_moved(before, before.identity_id)
            contact = self._upsert(
                self.contacts,
                Contact,
                c.key,
                dict(
                    branch=self._branch(c.branch),
                    name=c.name,
                    email=c.email,
                    phone=c.phone,
                    phone_digits="".join(ch for ch in c.phone or "" if ch.isdigit()),
                    identity=identity,
                ),
            )
            if c.invitation_token:
                self._invitation(identity, contact, c.invitation_token)
        s.flush()

        self.properties.update(self._existing(Property, "key", [p.key for p in doc.properties]))
        for p in doc.properties:
            self._upsert(
                self.properties,
                Property,
                p.key,
                dict(
                    branch=self._branch(p.branch),
                    name=p.name,
                    address=p.address,
                    account_owner=self._lookup(self.staff, Staff, p.account_owner),
                    sales_rep=self._lookup(self.staff, Staff, p.sales_rep),
                    unapplied_credits=p.unapplied_credits,
                ),
            )
        s.flush()
        self._property_contacts(doc.properties)

        self.proposals.update(self._existing(Proposal, "key", [o.key for o in doc.proposals], Proposal.items))
        items = self._existing(ProposalItem, "key", [it.key for o in doc.proposals for it in o.items])
        fresh = {
            o.key for o in doc.proposals if o.key not in self.proposals and not any(it.key in items for it in o.items)
        }
        # Only proposals the portal already has can have been shown; one new under its key but taking
        # over existing items (re-keyed by the office) starts at revision 1 like any other.
        shown_before = {o.key: shown(self.proposals[o.key]) for o in doc.proposals if o.key in self.proposals}
        for o in doc.proposals:
            if o.key in fresh:
                continue
            proposal = self._upsert(self.proposals, Proposal, o.key, self._proposal_values(o))
            wanted_items = [
                self._upsert(items, ProposalItem, it.key, _proposal_item_values(it, position))
                for position, it in enumerate(o.items)
            ]
            if proposal.items != wanted_items:
                proposal.items = wanted_items
        s.flush()
        self._insert_proposals([o for o in doc.proposals if o.key in fresh])
        change_orders = []
        for o in doc.proposals:
            if o.key in fresh:
                if o.change_order_of is not None:
                    change_orders.append(
                        {"b_id": self.inserted[Proposal][o.key], "b_of": self._id(Proposal, o.change_order_of)}
                    )
                continue
            target = self._lookup(self.proposals, Proposal, o.change_order_of)
            if self.proposals[o.key].change_order_of_id != (target.id if target else None):
                self.proposals[o.key].change_order_of = target
        s.flush()  # the change orders' ids, which shown() reads
        for key, was in shown_before.items():
            if shown(self.proposals[key]) != was:
                self.proposals[key].revision += 1
        if change_orders:
            table = cast(Table, Proposal.__table__)
            statement = (
                update(table).where(table.c.id == bindparam("b_id")).values(change_order_of_id=bindparam("b_of"))
            )
            s.connection().execute(statement, change_orders)

        self.visits.update(self._existing(Visit, "key", [v.key for v in doc.visits], Visit.notes))
        for v in doc.visits:
            if v.key not in self.visits:
                continue
            visit = self._upsert(self.visits, Visit, v.key, self._visit_values(v))
            self._children(
                visit.notes,
                v.notes,
                VisitNote,
                lambda n, pos: dict(
                    position=pos,
                    text=n.text,
                    shown_in_portal=n.shown_in_portal,
                    **({"created_at": n.created_at} if n.created_at else {}),
                ),
            )
        s.flush()
        self._insert_visits([v for v in doc.visits if v.key not in self.visits])

        self._invoices(doc.invoices)
        self._requests(doc.requests)

    def _branch(self, slug: str) -> Branch:
        if slug not in self.branches:
            self.branches[slug] = self.session.scalars(select(Branch).where(Branch.slug == slug)).one()
        return self.branches[slug]

    def _invitation(self, identity: Identity, contact: Contact, token: str) -> None:
        """A token the back office issued lives `invitation_lifetime` from its first import. A re-import finds
        it by its hash and leaves it alone: it neither extends it nor opens it again once used or closed."""
        hashed = token_hash(token)
        if self.session.scalar(select(OneTimeToken.id).where(OneTimeToken.token_hash == hashed)) is None:
            self.session.flush()
            self.session.add(
                OneTimeToken(
                    token_hash=hashed,
                    purpose="invitation",
                    identity_id=identity.id,
                    contact_id=contact.id,
                    expires_at=self.now + self.invitation_lifetime,
                )
            )

    def _contact_moved(self, contact: Contact, old_identity_id: int) -> None:
        """The contact's email changed: whoever reads the old mailbox must not stay, or become, this contact.
        Invitations mailed there close, and the old identity's own sessions as this contact end."""
        self.session.execute(
            update(OneTimeToken)
            .where(
                OneTimeToken.contact_id == contact.id,
                OneTimeToken.purpose == "invitation",
                OneTimeToken.used_at.is_(None),
                OneTimeToken.expires_at > self.now,
            )
            .values(expires_at=self.now)
        )
        self.session.execute(
            update(AuthSession)
            .where(
                AuthSession.contact_id == contact.id,
                AuthSession.identity_id == old_identity_id,
                AuthSession.assisted_by_id.is_(None),
                AuthSession.revoked_at.is_(None),
            )
            .values(revoked_at=self.now)
        )

    def _end_sessions_on_removed_branches(self, staff: Staff, kept: set[str]) -> None:
        """Staff taken off a branch lose it now, not when their token expires (SA-1): their sessions there
        and the assist sessions they opened there (which carry their staff id too) end."""
        removed = [b.id for b in staff.branches if b.slug not in kept]
        if removed:
            self.session.execute(
                update(AuthSession)
                .where(
                    AuthSession.staff_id == staff.id,
                    AuthSession.branch_id.in_(removed),
                    AuthSession.revoked_at.is_(None),
                )
                .values(revoked_at=self.now)
            )

    def _property_contacts(self, properties: list[fmt.PropertyIn]) -> None:
        """Each property's contacts become exactly the file's; the current links are read in one pass."""
        ids = sorted(self.properties[p.key].id for p in properties)
        current: dict[int, dict[int, PropertyContact]] = {}
        for start in range(0, len(ids), 900):
            query = select(PropertyContact).where(PropertyContact.property_id.in_(ids[start : start + 900]))
            for pc in self.session.scalars(query):
                current.setdefault(pc.property_id, {})[pc.contact_id] = pc
        for p in properties:
            prop = self.properties[p.key]
            links = current.get(prop.id, {})
            wanted: dict[int, str] = {}
            for link in p.contacts:
                contact = self._lookup(self.contacts, Contact, link.contact)
                assert contact is not None
                wanted[contact.id] = link.role
            for contact_id, pc in links.items():
                if contact_id not in wanted:
                    self.session.delete(pc)
                elif pc.role != wanted[contact_id]:
                    pc.role = wanted[contact_id]
            for contact_id, role in wanted.items():
                if contact_id not in links:
                    self.session.add(PropertyContact(property_id=prop.id, contact_id=contact_id, role=role))

    def _children(self, existing: list[Any], incoming: list[Any], model: type[Any], values: Any) -> None:
        """Child rows without keys are matched by their place in the file."""
        for position, item in enumerate(incoming):
            wanted = values(item, position)
            if position < len(existing):
                row = existing[position]
                for name, value in wanted.items():
                    if getattr(row, name) != value:
                        setattr(row, name, value)
            else:
                existing.append(model(**wanted))
        del existing[len(incoming) :]

    def _lock_invoices(self, keys: list[str]) -> None:
        """Row-locks the invoices already imported under `keys` before their payments are read: a portal payment
        reserving or succeeding on one meanwhile (PF-3) then waits for the import and sees the balance it wrote,
        instead of the import overwriting the balance its success took off (PostgreSQL runs READ COMMITTED;
        SQLite's BEGIN IMMEDIATE already serialises writers). Locked in id order, as payments lock them, so
        the two cannot deadlock."""
        ids: list[int] = []
        for start in range(0, len(keys), 900):
            ids.extend(self.session.scalars(select(Invoice.id).where(Invoice.key.in_(keys[start : start + 900]))))
        ids.sort()
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            self.session.execute(select(Invoice.id).where(Invoice.id.in_(chunk)).order_by(Invoice.id).with_for_update())

    def _invoices(self, invoices: list[fmt.InvoiceIn]) -> None:
        keys = [i.key for i in invoices]
        self._lock_invoices(keys)
        cache = self._existing(Invoice, "key", keys, Invoice.lines, Invoice.payments)
        for inv in invoices:
            if inv.key not in cache:
                continue
            values = self._invoice_values(inv)
            total = values["total"]
            invoice = self._upsert(cache, Invoice, inv.key, values)
            self._children(invoice.lines, inv.lines, InvoiceLine, self._invoice_line_values)
            imported = [p for p in invoice.payments if p.import_position is not None] if invoice.id else []
            portal_paid = (
                sum(
                    (p.amount for p in invoice.payments if p.import_position is None and p.status == PAYMENT_SUCCEEDED),
                    Decimal(0),
                )
                if invoice.id
                else Decimal(0)
            )
            for position, pay in enumerate(inv.payments):
                paid_at = datetime.combine(pay.paid_on, time(12), tzinfo=UTC)
                if position < len(imported):
                    row = imported[position]
                    if (row.amount, row.paid_at) != (pay.amount, paid_at):
                        row.amount, row.paid_at = pay.amount, paid_at
                else:
                    invoice.payments.append(Payment(import_position=position, amount=pay.amount, paid_at=paid_at))
            for row in imported[len(inv.payments) :]:
                self.session.delete(row)
            # Payments in flight stay reserved: should the file now say less is owed than they hold, the balance
            # stays at what they hold (their success takes it to zero; a decline leaves it owed, as before).
            balance = max(
                total - inv.applied_credits - sum((p.amount for p in inv.payments), Decimal(0)) - portal_paid,
                invoice.reserved,
            )
            if invoice.balance != balance:
                invoice.balance = balance
        self.session.flush()
        self._insert_invoices([inv for inv in invoices if inv.key not in cache])

    def _requests(self, requests: list[fmt.RequestIn]) -> None:
        cache = self._existing(ServiceRequest, "key", [r.key for r in requests], ServiceRequest.comments)
        now = datetime.now(UTC)
        authors = sorted({c.author for r in requests for c in r.comments} - set(self.staff))
        self.staff.update(self._existing(Staff, "key", authors))
        missing = [key for key in authors if key not in self.staff and key not in self.contacts]
        self.contacts.update(self._existing(Contact, "key", missing))
        for r in requests:
            is_new = r.key not in cache
            if is_new:
                continue
            values = self._request_values(r)
            if r.created_at or is_new:
                values["created_at"] = r.created_at or now
            request = self._upsert(cache, ServiceRequest, r.key, values)
            imported = [c for c in request.comments if c.import_position is not None] if not is_new else []
            for position, c in enumerate(r.comments):
                staff = self.staff.get(c.author)
                contact = None if staff else self.contacts[c.author]
                fields: dict[str, Any] = dict(
                    body=c.body,
                    public=c.public,
                    author_staff_id=staff.id if staff else None,
                    author_contact_id=contact.id if contact else None,
                )
                if c.created_at:
                    fields["created_at"] = c.created_at
                if position < len(imported):
                    row = imported[position]
                    for name, value in fields.items():
                        if getattr(row, name) != value:
                            setattr(row, name, value)
                else:
                    fields.setdefault("created_at", now)
                    request.comments.append(RequestComment(import_position=position, **fields))
            for row in imported[len(r.comments) :]:
                request.comments.remove(row)
            public = sum(1 for c in request.comments if c.public)
            if request.public_comment_count != public:
                request.public_comment_count = public
            latest = max([request.created_at, *(c.created_at for c in request.comments if c.public)])  # RQ-1
            if request.last_activity_at != latest:
                request.last_activity_at = latest
        self.session.flush()
        self._insert_requests([r for r in requests if r.key not in cache], now)

    # The fast path: records new to the database go in as multi-row INSERTs, children included, without the
    # ORM's per-object bookkeeping. Records already imported take the path above, which updates in place.

    # One place per record kind says which columns the file sets, for the update path and the fast path alike.

    def _proposal_values(self, o: fmt.ProposalIn) -> dict[str, Any]:
        return dict(
            property_id=self._id(Property, o.property),
            number=o.number,
            title=o.title,
            opportunity_type=o.opportunity_type,
            opportunity_status=o.opportunity_status,
            shared_on=o.shared_on,
            sales_rep_id=self._id(Staff, o.sales_rep),
            terms=o.terms,
            total=proposal_total(o.items),
        )

    def _visit_values(self, v: fmt.VisitIn) -> dict[str, Any]:
        return dict(property_id=self._id(Property, v.property), date=v.date, status=v.status, services=list(v.services))

    def _invoice_values(self, inv: fmt.InvoiceIn) -> dict[str, Any]:
        """Everything but the balance, which depends on the payments already recorded."""
        return dict(
            property_id=self._id(Property, inv.property),
            number=inv.number,
            billing_contact_id=self._id(Contact, inv.billing_contact),
            proposal_id=self._id(Proposal, inv.proposal),
            invoice_date=inv.invoice_date,
            net_terms_days=inv.net_terms_days,
            due_date=inv.invoice_date + timedelta(days=inv.net_terms_days),
            shared=inv.shared,
            total=sum((line.amount for line in inv.lines), Decimal(0)),
            applied_credits=inv.applied_credits,
            services=list(dict.fromkeys(line.service for line in inv.lines)),
        )

    def _invoice_line_values(self, line: fmt.InvoiceLineIn, position: int) -> dict[str, Any]:
        return dict(
            position=position,
            service=line.service,
            description=line.description,
            amount=line.amount,
            visit_id=self._id(Visit, line.visit),
        )

    def _request_values(self, r: fmt.RequestIn) -> dict[str, Any]:
        """Everything but the times, which the file may leave out."""
        return dict(
            property_id=self._id(Property, r.property),
            number=r.number,
            subject=r.subject,
            description=r.description,
            include_client=r.include_client,
            status=r.status,
        )

    def _id(self, model: type[Any], key: str | None) -> int | None:
        """The id of a record by key, whichever path wrote it (the ORM path's rows must be flushed)."""
        if key is None:
            return None
        if key in self.inserted[model]:
            return self.inserted[model][key]
        caches: dict[type[Any], dict[str, Any]] = {
            Property: self.properties,
            Staff: self.staff,
            Contact: self.contacts,
            Proposal: self.proposals,
            Visit: self.visits,
        }
        row = self._lookup(caches[model], model, key)
        assert row is not None
        return int(row.id)

    def _insert(self, model: type[Base], rows: list[dict[str, Any]], key: str | None = "key") -> list[int]:
        """Inserts `rows` (all with the same columns) and returns their ids in order."""
        if not rows:
            return []
        table = cast(Table, model.__table__)
        result = self.session.connection().execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
        )
        ids = [row[0] for row in result]
        if key is not None:
            self.inserted[model].update(zip((row[key] for row in rows), ids, strict=True))
            self.report.counts[model.__tablename__] += len(rows)
        return ids

    def _index_for_staff_search(self, model: type[Invoice] | type[Proposal], rows: list[dict[str, Any]]) -> None:
        """Rows inserted in bulk bypass the ORM flush that keeps the staff search index (SA-1) in step,
        so their search terms are written here, from the same values."""
        ids = self.inserted[model]
        columns = (
            ("property_id", "number", "shared")
            if model is Invoice
            else ("property_id", "number", "shared_on", "opportunity_status")
        )
        records = [model(id=ids[row["key"]], **{name: row[name] for name in columns}) for row in rows]
        write_terms(self.session.connection(), records, [])

    def _insert_proposals(self, proposals: list[fmt.ProposalIn]) -> None:
        rows = [dict(key=o.key, **self._proposal_values(o)) for o in proposals]
        self._insert(Proposal, rows)
        self._index_for_staff_search(Proposal, rows)
        self._insert(
            ProposalItem,
            [
                dict(key=it.key, proposal_id=self.inserted[Proposal][o.key], **_proposal_item_values(it, position))
                for o in proposals
                for position, it in enumerate(o.items)
            ],
        )

    def _insert_visits(self, visits: list[fmt.VisitIn]) -> None:
        now = datetime.now(UTC)
        self._insert(
            Visit,
            [dict(key=v.key, **self._visit_values(v)) for v in visits],
        )
        self._insert(
            VisitNote,
            [
                dict(
                    visit_id=self.inserted[Visit][v.key],
                    position=position,
                    text=n.text,
                    shown_in_portal=n.shown_in_portal,
                    created_at=n.created_at or now,
                )
                for v in visits
                for position, n in enumerate(v.notes)
            ],
            key=None,
        )

    def _insert_invoices(self, invoices: list[fmt.InvoiceIn]) -> None:
        rows = []
        for inv in invoices:
            values = self._invoice_values(inv)
            paid = sum((p.amount for p in inv.payments), Decimal(0))
            balance = max(values["total"] - inv.applied_credits - paid, Decimal(0))
            rows.append(dict(key=inv.key, balance=balance, **values))
        self._insert(Invoice, rows)
        self._index_for_staff_search(Invoice, rows)
        ids = self.inserted[Invoice]
        lines = [
            dict(invoice_id=ids[inv.key], **self._invoice_line_values(line, position))
            for inv in invoices
            for position, line in enumerate(inv.lines)
        ]
        self._insert(InvoiceLine, lines, key=None)
        payments = [
            dict(
                invoice_id=ids[inv.key],
                import_position=position,
                amount=pay.amount,
                paid_at=datetime.combine(pay.paid_on, time(12), tzinfo=UTC),
            )
            for inv in invoices
            for position, pay in enumerate(inv.payments)
        ]
        self._insert(Payment, payments, key=None)

    def _insert_requests(self, requests: list[fmt.RequestIn], now: datetime) -> None:
        rows = []
        for r in requests:
            created = r.created_at or now
            rows.append(
                dict(
                    key=r.key,
                    **self._request_values(r),
                    created_at=created,
                    # RQ-1: internal comments are not the customer's to see, nor is when staff wrote them
                    # (the customer's list is sorted by this time).
                    last_activity_at=max([created, *(c.created_at or now for c in r.comments if c.public)]),
                    public_comment_count=sum(1 for c in r.comments if c.public),
                )
            )
        self._insert(ServiceRequest, rows)
        comments = []
        for r in requests:
            for position, c in enumerate(r.comments):
                staff_id = self._id(Staff, c.author) if c.author in self.staff else None
                comments.append(
                    dict(
                        request_id=self.inserted[ServiceRequest][r.key],
                        import_position=position,
                        author_staff_id=staff_id,
                        author_contact_id=None if staff_id else self._id(Contact, c.author),
                        body=c.body,
                        public=c.public,
                        created_at=c.created_at or now,
                    )
                )
        self._insert(RequestComment, comments, key=None)


def shown(proposal: Proposal) -> tuple[object, ...]:
    """What a signer reads of the proposal itself, in its detail and its document: a re-import that changes
    any of it is a new revision, so a signature for the old one is refused (409 proposal_changed) even when
    the total stays the same. Its status is left out: it says whether it can be signed, not what is signed."""
    return (
        proposal.property_id,
        proposal.number,
        proposal.title,
        proposal.opportunity_type,
        proposal.shared_on,
        proposal.sales_rep_id,
        proposal.change_order_of_id,
        proposal.terms,
        proposal.total,
        tuple((item.key, item.description, item.quantity, item.unit_price, item.optional) for item in proposal.items),
    )


def _proposal_item_values(it: fmt.ProposalItemIn, position: int) -> dict[str, Any]:
    return dict(
        position=position,
        description=it.description,
        quantity=it.quantity,
        unit_price=it.unit_price,
        optional=it.optional,
    )


def import_document(settings: Settings, document: Any) -> ImportReport:
    """Imports `document` as a whole or not at all; raises ImportFailed listing every problem."""
    import time as clock

    started = clock.perf_counter()
    doc = parse(document)
    engine = make_engine(settings.database_url)
    try:
        factory = make_session_factory(engine)
        with factory() as session, session.begin():
            errors = _Checker(session, doc).run()
            if errors:
                raise ImportFailed(errors)
            report = ImportReport()
            _Writer(session, report, settings.invitation_lifetime).write(doc)
        report.seconds = clock.perf_counter() - started
        return report
    finally:
        engine.dispose()
