"""Version (AC-6) and the branch's portal configuration."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from server import API_VERSION, __version__
from server.api.deps import BranchDep, CallerDep
from server.api.schemas import MoneyOut, json_response

router = APIRouter(tags=["meta"])


class VersionOut(BaseModel):
    server_version: str
    api_version: str


class BranchOut(BaseModel):
    slug: str
    name: str
    time_zone: str


class ConfigOut(BaseModel):
    branch: BranchOut
    currency: str
    show_line_item_details: bool
    show_sales_rep_phone: bool
    electronic_payments: bool
    partial_payments: bool
    accepted_payment_types: list[str]
    card_fee_percent: MoneyOut
    ach_fee_flat: MoneyOut
    requests_enabled: bool


@router.get("/version", response_model=VersionOut, summary="Server and API version (no sign-in needed)")
def version(_branch: BranchDep) -> Response:
    return json_response(VersionOut(server_version=__version__, api_version=API_VERSION))


@router.get("/config", response_model=ConfigOut)
def config(caller: CallerDep) -> Response:
    branch = caller.branch
    answer = ConfigOut(
        branch=BranchOut(slug=branch.slug, name=branch.name, time_zone=branch.time_zone),
        currency=branch.currency,
        show_line_item_details=branch.show_line_item_details,
        show_sales_rep_phone=branch.show_sales_rep_phone,
        electronic_payments=branch.electronic_payments,
        partial_payments=branch.partial_payments,
        accepted_payment_types=branch.accepted_payment_types,
        card_fee_percent=branch.card_fee_percent,
        ach_fee_flat=branch.ach_fee_flat,
        requests_enabled=branch.requests_enabled,
    )
    return json_response(answer)
