"""Sign-in, sign-out, invitations and passwords (AC-1..AC-5)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, BackgroundTasks, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from server.api.deps import BranchDep, CallerDep, SessionDep, SettingsDep, client_address
from server.api.schemas import Body, Timestamp
from server.models import AuthSession, Branch, Contact, Staff, staff_branches
from server.services import accounts, sign_in
from server.services.audit import record_if_assisted

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginIn(Body):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class UserOut(BaseModel):
    id: int
    kind: Literal["contact", "staff"]
    name: str
    email: str


class LoginOut(BaseModel):
    token: str
    expires_at: Timestamp
    user: UserOut


class ResetIn(Body):
    email: str = Field(max_length=320)


class ResetConfirmIn(Body):
    token: str = Field(max_length=200)
    new_password: str = Field(max_length=1024)


class PasswordChangeIn(Body):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class InvitationIn(Body):
    token: str = Field(max_length=200)
    password: str = Field(max_length=1024)


class BranchLink(BaseModel):
    slug: str
    name: str
    portal_url: str


class BranchList(BaseModel):
    items: list[BranchLink]


def user_out(auth: AuthSession) -> UserOut:
    person: Contact | Staff | None = auth.contact if auth.kind == "contact" else auth.staff
    assert person is not None
    return UserOut(
        id=person.id, kind="contact" if auth.kind == "contact" else "staff", name=person.name, email=person.email
    )


def _login_out(issued: sign_in.Issued) -> LoginOut:
    return LoginOut(token=issued.token, expires_at=issued.session.expires_at, user=user_out(issued.session))


def portal_url(request: Request, slug: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/portal/{slug}"


@router.post("/login", response_model=LoginOut, responses={401: {}, 429: {}})
def login(body: LoginIn, request: Request, session: SessionDep, settings: SettingsDep, branch: BranchDep) -> LoginOut:
    issued = sign_in.sign_in(session, settings, branch, body.email, body.password, client_address(request))
    session.commit()
    return _login_out(issued)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def logout(caller: CallerDep, session: SessionDep) -> Response:
    sign_in.revoke(session, caller.session_id)
    if caller.contact is not None:
        record_if_assisted(session, caller, "assist.end", f"contact:{caller.contact.id}")
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/password-reset", status_code=status.HTTP_202_ACCEPTED, response_class=Response, responses={429: {}})
def password_reset(
    body: ResetIn,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    branch: BranchDep,
) -> Response:
    if accounts.request_reset(session, settings, body.email, client_address(request)):
        # After the answer, whether or not the email has an account, so the answer's time tells nothing (AC-3).
        background.add_task(
            accounts.send_reset,
            request.app.state.session_factory,
            request.app.state.mailer,
            settings,
            branch.id,
            body.email,
            portal_url(request, branch.slug),
        )
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses={429: {}}
)
def password_reset_confirm(
    body: ResetConfirmIn, request: Request, session: SessionDep, settings: SettingsDep, _branch: BranchDep
) -> Response:
    accounts.confirm_reset(session, settings, body.token, body.new_password, client_address(request))
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/password-change", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses={429: {}})
def password_change(body: PasswordChangeIn, caller: CallerDep, session: SessionDep, settings: SettingsDep) -> Response:
    accounts.change_password(session, settings, caller, body.current_password, body.new_password)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/invitations/accept", response_model=LoginOut, responses={409: {}, 429: {}})
def accept_invitation(
    body: InvitationIn, request: Request, session: SessionDep, settings: SettingsDep, branch: BranchDep
) -> LoginOut:
    contact = accounts.accept_invitation(session, settings, branch, body.token, body.password, client_address(request))
    issued = sign_in.issue_for_contact(session, settings, contact)
    session.commit()
    return _login_out(issued)


@router.get("/branches", response_model=BranchList)
def branches(caller: CallerDep, request: Request, session: SessionDep) -> BranchList:
    identity_id = caller.identity_id
    if caller.kind == "staff":
        query = (
            select(Branch)
            .join(staff_branches, staff_branches.c.branch_id == Branch.id)
            .join(Staff, Staff.id == staff_branches.c.staff_id)
            .where(Staff.identity_id == identity_id)
        )
    else:
        query = select(Branch).join(Contact, Contact.branch_id == Branch.id).where(Contact.identity_id == identity_id)
    found = session.scalars(query.order_by(Branch.name).distinct()).all()
    return BranchList(
        items=[BranchLink(slug=b.slug, name=b.name, portal_url=portal_url(request, b.slug)) for b in found]
    )
