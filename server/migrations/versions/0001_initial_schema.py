"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 17:04:37.944576
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "branches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("show_line_item_details", sa.Boolean(), nullable=False),
        sa.Column("show_sales_rep_phone", sa.Boolean(), nullable=False),
        sa.Column("electronic_payments", sa.Boolean(), nullable=False),
        sa.Column("partial_payments", sa.Boolean(), nullable=False),
        sa.Column("accept_card", sa.Boolean(), nullable=False),
        sa.Column("accept_ach", sa.Boolean(), nullable=False),
        sa.Column("card_fee_percent", sa.BigInteger(), nullable=False),
        sa.Column("ach_fee_flat", sa.BigInteger(), nullable=False),
        sa.Column("requests_enabled", sa.Boolean(), nullable=False),
        sa.Column("last_request_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branches")),
        sa.UniqueConstraint("slug", name=op.f("uq_branches_slug")),
    )
    op.create_table(
        "idempotency_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=400), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operation", sa.String(length=40), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint("scope", name=op.f("uq_idempotency_records_scope")),
    )
    op.create_table(
        "sandbox_gateway_charges",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decline_code", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_gateway_charges")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sandbox_gateway_charges_idempotency_key")),
    )
    op.create_table(
        "sandbox_gateway_methods",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("brand", sa.String(length=40), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("behavior", sa.String(length=30), nullable=False),
        sa.Column("first_charge_times_out", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_sandbox_gateway_methods")),
    )
    op.create_table(
        "identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identities")),
        sa.UniqueConstraint("email", name=op.f("uq_identities_email")),
    )
    op.create_table(
        "sign_in_failures",
        sa.Column("scope", sa.String(length=400), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_sign_in_failures")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["identity_id"], ["identities.id"], name=op.f("fk_staff_identity_id_identities")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("key", name=op.f("uq_staff_key")),
    )
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_identity_id"), ["identity_id"], unique=False)

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("phone_digits", sa.String(length=50), nullable=False),
        sa.Column("email_receipts", sa.Boolean(), nullable=False),
        sa.Column("email_receipts_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_receipts_changed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_contacts_branch_id_branches")),
        sa.ForeignKeyConstraint(
            ["email_receipts_changed_by_id"], ["staff.id"], name=op.f("fk_contacts_email_receipts_changed_by_id_staff")
        ),
        sa.ForeignKeyConstraint(["identity_id"], ["identities.id"], name=op.f("fk_contacts_identity_id_identities")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("key", name=op.f("uq_contacts_key")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index("ix_contacts_branch_name", ["branch_id", "name"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_identity_id"), ["identity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_phone_digits"), ["phone_digits"], unique=False)

    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("client_address", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_audit_entries_branch_id_branches")),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_audit_entries_contact_id_contacts")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_audit_entries_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_audit_branch_at", ["branch_id", "at", "id"], unique=False)
        batch_op.create_index("ix_audit_contact_at", ["contact_id", "at", "id"], unique=False)

    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("assisted_by_id", sa.Integer(), nullable=True),
        sa.Column("parent_session_id", sa.Integer(), nullable=True),
        sa.Column("assist_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["assisted_by_id"], ["staff.id"], name=op.f("fk_auth_sessions_assisted_by_id_staff")),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_auth_sessions_branch_id_branches")),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_auth_sessions_contact_id_contacts")),
        sa.ForeignKeyConstraint(
            ["identity_id"], ["identities.id"], name=op.f("fk_auth_sessions_identity_id_identities")
        ),
        sa.ForeignKeyConstraint(
            ["parent_session_id"],
            ["auth_sessions.id"],
            name=op.f("fk_auth_sessions_parent_session_id_auth_sessions"),
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_auth_sessions_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_sessions_token_hash")),
    )
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_sessions_identity_id"), ["identity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_auth_sessions_parent_session_id"), ["parent_session_id"], unique=False)

    op.create_table(
        "one_time_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_one_time_tokens_contact_id_contacts")),
        sa.ForeignKeyConstraint(
            ["identity_id"], ["identities.id"], name=op.f("fk_one_time_tokens_identity_id_identities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_one_time_tokens_token_hash")),
    )
    with op.batch_alter_table("one_time_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_one_time_tokens_identity_id"), ["identity_id"], unique=False)

    op.create_table(
        "payment_methods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("gateway_token", sa.String(length=200), nullable=False),
        sa.Column("brand", sa.String(length=40), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=True),
        sa.Column("exp_year", sa.Integer(), nullable=True),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("captured_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["captured_by_id"], ["staff.id"], name=op.f("fk_payment_methods_captured_by_id_staff")),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_payment_methods_contact_id_contacts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_methods")),
    )
    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_methods_contact_id"), ["contact_id"], unique=False)

    op.create_table(
        "properties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("account_owner_id", sa.Integer(), nullable=True),
        sa.Column("sales_rep_id", sa.Integer(), nullable=True),
        sa.Column("unapplied_credits", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_owner_id"], ["staff.id"], name=op.f("fk_properties_account_owner_id_staff")),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_properties_branch_id_branches")),
        sa.ForeignKeyConstraint(["sales_rep_id"], ["staff.id"], name=op.f("fk_properties_sales_rep_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_properties")),
        sa.UniqueConstraint("key", name=op.f("uq_properties_key")),
    )
    with op.batch_alter_table("properties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_properties_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "staff_branches",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
            name=op.f("fk_staff_branches_branch_id_branches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_branches_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("staff_id", "branch_id", name=op.f("pk_staff_branches")),
    )
    op.create_table(
        "property_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("property_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_property_contacts_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["property_id"],
            ["properties.id"],
            name=op.f("fk_property_contacts_property_id_properties"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_contacts")),
        sa.UniqueConstraint("property_id", "contact_id", name=op.f("uq_property_contacts_property_id")),
    )
    with op.batch_alter_table("property_contacts", schema=None) as batch_op:
        batch_op.create_index("ix_property_contacts_contact", ["contact_id", "property_id"], unique=False)

    op.create_table(
        "search_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column(
            "term",
            sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("whole", sa.Boolean(), nullable=False),
        sa.Column("field", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("property_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_search_terms_branch_id_branches"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_search_terms_contact_id_contacts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["property_id"],
            ["properties.id"],
            name=op.f("fk_search_terms_property_id_properties"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_terms")),
    )
    with op.batch_alter_table("search_terms", schema=None) as batch_op:
        batch_op.create_index(
            "ix_search_terms_branch_term", ["branch_id", "term", "whole", "contact_id", "property_id"], unique=False
        )
        batch_op.create_index(
            "ix_search_terms_substring",
            ["branch_id", "field", "whole", "term", "contact_id", "property_id"],
            unique=False,
        )
        batch_op.create_index("ix_search_terms_source", ["source", "source_id"], unique=False)

    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("property_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("opportunity_type", sa.String(length=20), nullable=False),
        sa.Column("opportunity_status", sa.String(length=20), nullable=False),
        sa.Column("shared_on", sa.Date(), nullable=True),
        sa.Column("sales_rep_id", sa.Integer(), nullable=True),
        sa.Column("change_order_of_id", sa.Integer(), nullable=True),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("is_signed", sa.Boolean(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_order_of_id"], ["proposals.id"], name=op.f("fk_proposals_change_order_of_id_proposals")
        ),
        sa.ForeignKeyConstraint(["property_id"], ["properties.id"], name=op.f("fk_proposals_property_id_properties")),
        sa.ForeignKeyConstraint(["sales_rep_id"], ["staff.id"], name=op.f("fk_proposals_sales_rep_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
        sa.UniqueConstraint("key", name=op.f("uq_proposals_key")),
    )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposals_number"), ["number"], unique=False)
        batch_op.create_index(
            "ix_proposals_property_shared",
            ["property_id", "shared_on", "id", "opportunity_status", "is_signed"],
            unique=False,
        )

    op.create_table(
        "requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=True),
        sa.Column("property_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("include_client", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("created_by_contact_id", sa.Integer(), nullable=True),
        sa.Column("captured_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_comment_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["captured_by_id"], ["staff.id"], name=op.f("fk_requests_captured_by_id_staff")),
        sa.ForeignKeyConstraint(
            ["created_by_contact_id"],
            ["contacts.id"],
            name=op.f("fk_requests_created_by_contact_id_contacts"),
        ),
        sa.ForeignKeyConstraint(["property_id"], ["properties.id"], name=op.f("fk_requests_property_id_properties")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requests")),
        sa.UniqueConstraint("key", name=op.f("uq_requests_key")),
    )
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_requests_number"), ["number"], unique=False)
        batch_op.create_index(
            "ix_requests_property_activity", ["property_id", "include_client", "last_activity_at", "id"], unique=False
        )

    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("property_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["property_id"], ["properties.id"], name=op.f("fk_visits_property_id_properties")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint("key", name=op.f("uq_visits_key")),
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index("ix_visits_property_status_date", ["property_id", "status", "date", "id"], unique=False)

    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=400), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"], name=op.f("fk_activities_request_id_requests")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_activities_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activities_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("property_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("billing_contact_id", sa.Integer(), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("net_terms_days", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("applied_credits", sa.BigInteger(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_invoices_balance_not_negative")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_invoices_reserved_not_negative")),
        sa.CheckConstraint("balance - reserved >= 0", name=op.f("ck_invoices_reserved_within_balance")),
        sa.ForeignKeyConstraint(
            ["billing_contact_id"], ["contacts.id"], name=op.f("fk_invoices_billing_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(["property_id"], ["properties.id"], name=op.f("fk_invoices_property_id_properties")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name=op.f("fk_invoices_proposal_id_proposals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("key", name=op.f("uq_invoices_key")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoices_number"), ["number"], unique=False)
        batch_op.create_index(
            "ix_invoices_property_listing", ["property_id", "shared", "balance", "invoice_date", "id"], unique=False
        )
        batch_op.create_index(
            "ix_invoices_date_order", ["invoice_date", "id", "shared", "balance", "property_id"], unique=False
        )

    op.create_table(
        "proposal_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("optional", sa.Boolean(), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_items_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_items")),
        sa.UniqueConstraint("key", name=op.f("uq_proposal_items_key")),
    )
    with op.batch_alter_table("proposal_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposal_items_proposal_id"), ["proposal_id"], unique=False)

    op.create_table(
        "proposal_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("contact_role", sa.String(length=20), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signature_png", sa.LargeBinary(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_total", sa.BigInteger(), nullable=False),
        sa.Column("selected_item_ids", sa.JSON(), nullable=False),
        sa.Column("captured_by_id", sa.Integer(), nullable=True),
        sa.Column("client_address", sa.String(length=100), nullable=False),
        sa.Column("unsigned_pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("unsigned_pdf", sa.LargeBinary(), nullable=False),
        sa.Column("pdf_anchors", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["captured_by_id"], ["staff.id"], name=op.f("fk_proposal_signatures_captured_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_proposal_signatures_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_proposal_signatures_proposal_id_proposals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_signatures")),
        sa.UniqueConstraint("proposal_id", name=op.f("uq_proposal_signatures_proposal_id")),
    )
    op.create_table(
        "request_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("import_position", sa.Integer(), nullable=True),
        sa.Column("author_staff_id", sa.Integer(), nullable=True),
        sa.Column("author_contact_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("captured_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_contact_id"],
            ["contacts.id"],
            name=op.f("fk_request_comments_author_contact_id_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["author_staff_id"], ["staff.id"], name=op.f("fk_request_comments_author_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["captured_by_id"], ["staff.id"], name=op.f("fk_request_comments_captured_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_request_comments_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_comments")),
    )
    with op.batch_alter_table("request_comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_comments_request_id"), ["request_id"], unique=False)

    op.create_table(
        "visit_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("shown_in_portal", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_visit_notes_visit_id_visits"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_notes")),
    )
    with op.batch_alter_table("visit_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_notes_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("storage_name", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["request_comments.id"],
            name=op.f("fk_attachments_comment_id_request_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_attachments_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_attachments_storage_name")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_request_id"), ["request_id"], unique=False)

    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_lines_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_invoice_lines_visit_id_visits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
    )
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_lines_invoice_id"), ["invoice_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("import_position", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("convenience_fee", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method_type", sa.String(length=10), nullable=True),
        sa.Column("method_last4", sa.String(length=4), nullable=True),
        sa.Column("payment_method_id", sa.Integer(), nullable=True),
        sa.Column("payer_contact_id", sa.Integer(), nullable=True),
        sa.Column("captured_by_id", sa.Integer(), nullable=True),
        sa.Column("gateway_charge_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(["captured_by_id"], ["staff.id"], name=op.f("fk_payments_captured_by_id_staff")),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_payments_invoice_id_invoices")),
        sa.ForeignKeyConstraint(
            ["payer_contact_id"], ["contacts.id"], name=op.f("fk_payments_payer_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["payment_method_id"],
            ["payment_methods.id"],
            name=op.f("fk_payments_payment_method_id_payment_methods"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_invoice_id"), ["invoice_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_payments_group_id"))

    op.drop_table("payments")
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_lines_invoice_id"))

    op.drop_table("invoice_lines")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_request_id"))

    op.drop_table("attachments")
    with op.batch_alter_table("visit_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_notes_visit_id"))

    op.drop_table("visit_notes")
    with op.batch_alter_table("request_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_comments_request_id"))

    op.drop_table("request_comments")
    op.drop_table("proposal_signatures")
    with op.batch_alter_table("proposal_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_items_proposal_id"))

    op.drop_table("proposal_items")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_date_order")
        batch_op.drop_index("ix_invoices_property_listing")
        batch_op.drop_index(batch_op.f("ix_invoices_number"))

    op.drop_table("invoices")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_staff_id"))

    op.drop_table("activities")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index("ix_visits_property_status_date")

    op.drop_table("visits")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index("ix_requests_property_activity")
        batch_op.drop_index(batch_op.f("ix_requests_number"))

    op.drop_table("requests")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_index("ix_proposals_property_shared")
        batch_op.drop_index(batch_op.f("ix_proposals_number"))

    op.drop_table("proposals")
    with op.batch_alter_table("search_terms", schema=None) as batch_op:
        batch_op.drop_index("ix_search_terms_source")
        batch_op.drop_index("ix_search_terms_substring")
        batch_op.drop_index("ix_search_terms_branch_term")

    op.drop_table("search_terms")
    with op.batch_alter_table("property_contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_property_contacts_contact")

    op.drop_table("property_contacts")
    op.drop_table("staff_branches")
    with op.batch_alter_table("properties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_properties_branch_id"))

    op.drop_table("properties")
    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_methods_contact_id"))

    op.drop_table("payment_methods")
    with op.batch_alter_table("one_time_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_one_time_tokens_identity_id"))

    op.drop_table("one_time_tokens")
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_sessions_parent_session_id"))
        batch_op.drop_index(batch_op.f("ix_auth_sessions_identity_id"))

    op.drop_table("auth_sessions")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_contact_at")
        batch_op.drop_index("ix_audit_branch_at")

    op.drop_table("audit_entries")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_phone_digits"))
        batch_op.drop_index(batch_op.f("ix_contacts_identity_id"))
        batch_op.drop_index("ix_contacts_branch_name")
        batch_op.drop_index(batch_op.f("ix_contacts_branch_id"))

    op.drop_table("contacts")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_identity_id"))

    op.drop_table("staff")
    op.drop_table("sign_in_failures")
    op.drop_table("identities")
    op.drop_table("sandbox_gateway_methods")
    op.drop_table("sandbox_gateway_charges")
    op.drop_table("idempotency_records")
    op.drop_table("branches")
