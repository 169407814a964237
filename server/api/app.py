"""The FastAPI application: every branch's portal API under /portal/{branch_slug}/api/v1."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from server import __version__
from server.api import guards, problems
from server.api.housekeeper import housekeeping_lifespan
from server.api.routes import (
    attachments,
    auth,
    invoices,
    me,
    meta,
    payment_methods,
    payments,
    properties,
    proposals,
    requests,
    staff,
    visits,
)
from server.api.security_headers import SecurityHeaders
from server.db import make_engine, make_session_factory
from server.services.attachments import FolderStore
from server.services.gateway import SandboxGateway
from server.services.mail import Mailer, backend_from_url
from server.settings import Settings, load_settings

API_PREFIX = "/portal/{branch_slug}/api/v1"
ROUTERS = (
    meta,
    auth,
    me,
    properties,
    proposals,
    visits,
    invoices,
    payments,
    payment_methods,
    requests,
    attachments,
    staff,
)


def create_app(settings: Settings | None = None, *, housekeeping_every: timedelta | None = None) -> FastAPI:
    """`housekeeping_every`: run housekeeping while serving, for a server that owns its database (SQLite)."""
    settings = settings or load_settings()
    app = FastAPI(
        title="Portal Desk portal API",
        version=__version__,
        description="The customer portal's REST contract (v1). Money is a string with two decimals.",
        lifespan=housekeeping_lifespan(housekeeping_every) if housekeeping_every is not None else None,
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.mailer = Mailer(backend_from_url(settings.mail_url), settings.mail_from)
    app.state.attachment_store = FolderStore(settings.attachments_dir)
    app.state.gateway = SandboxGateway(app.state.session_factory, charge_latency=settings.sandbox_charge_latency)
    problems.install(app)
    guards.install(app)
    # Each router straight under the app, the prefix, answers and guards given at each inclusion: FastAPI
    # matches an included router's routes again at every level of inclusion, and a router of routers
    # matched every request's route three times (7% of the event loop's work on a list request).
    for module in ROUTERS:
        app.include_router(
            module.router,
            prefix=API_PREFIX,
            responses=problems.problem_responses(*problems.COMMON_STATUSES),
            dependencies=guards.ROUTER_DEPENDENCIES,
        )
    app.add_middleware(SecurityHeaders)
    return app
