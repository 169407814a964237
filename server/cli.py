"""`python -m server`: serve, migrate, seed-demo, import FILE.json, create-staff, reconcile-payments, housekeeping."""

from __future__ import annotations

import argparse
import gc
import getpass
import json
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from server import __version__
from server.settings import Settings, load_settings

# How often a server that owns its SQLite database deletes what housekeeping deletes (its first round
# runs as it starts): hourly keeps each round small, and the retention periods are days.
HOUSEKEEPING_INTERVAL = timedelta(hours=1)


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(getattr(args, "database_url", None))


def _migrate(settings: Settings) -> None:
    from server.schema import upgrade

    upgrade(settings.database_url)


def _reconcile(app: Any, older_than: timedelta, requests_alive: bool = True) -> str:
    """Runs the reconciler with the app's own database, gateway, mailer and payment lease."""
    from server.services.reconcile import reconcile_pending_payments

    state = app.state
    report = reconcile_pending_payments(
        state.session_factory,
        state.gateway,
        state.mailer,
        older_than,
        lease=state.settings.payment_lease,
        requests_alive=requests_alive,
    )
    return report.summary()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.api.app import create_app

    settings = _settings(args)
    owns_database = settings.database_url.startswith("sqlite")
    if args.demo or owns_database:
        _migrate(settings)
    if args.demo:
        from server.schema import reset_demo_database
        from server.services.demo import seed_demo_if_empty

        reset_demo_database(settings.database_url)
        seed_demo_if_empty(settings)
    # The process that owns a SQLite database also does its housekeeping, on a thread of its own.
    app = create_app(settings, housekeeping_every=HOUSEKEEPING_INTERVAL if owns_database else None)
    if owns_database:
        # One process owns a SQLite database, so at start-up no request of ours is in flight: payments
        # left pending by a crash are finished now, without waiting for the dead request's lease
        # (PostgreSQL deployments, several processes on one database, run `reconcile-payments` on a
        # schedule instead, and the payer's retry finishes the payment once the lease ran out).
        _reconcile(app, older_than=timedelta(0), requests_alive=False)
    # The app's long-lived objects (routes, schemas, mappers: hundreds of thousands) leave the collector's
    # view: otherwise every full collection walks them all, a pause of several ms in some request.
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        # Forwarded headers only from the proxies named in PORTAL_FORWARDED_ALLOW_IPS: believed from anyone
        # else, a client could pick its own address and so escape the per-address sign-in limit (AC-4).
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        access_log=args.log_level == "debug",
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    _migrate(_settings(args))
    print("database is up to date")
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from server.services.demo import DEMO_SIGN_INS, seed_demo

    settings = _settings(args)
    _migrate(settings)
    report = seed_demo(settings)
    print(report.summary())
    print("Demo sign-ins (portal URL http://HOST:PORT/portal/north or /portal/south):")
    for who, email, password in DEMO_SIGN_INS:
        print(f"  {who:<32} {email:<24} {password}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from server.services.importer import ImportFailed, import_document

    settings = _settings(args)
    try:
        document = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    _migrate(settings)
    try:
        report = import_document(settings, document)
    except ImportFailed as failed:
        print(f"{args.file} was not imported; nothing was written. {len(failed.errors)} problem(s):", file=sys.stderr)
        for error in failed.errors:
            print(f"  {error.path}: {error.message}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def cmd_create_staff(args: argparse.Namespace) -> int:
    from server.services.importer import ImportFailed, import_document

    settings = _settings(args)
    password = args.password or getpass.getpass("Password (12+ characters): ")
    _migrate(settings)
    staff = {
        "key": args.key or f"staff-{args.email.lower()}",
        "name": args.name,
        "email": args.email,
        "password": password,
        "admin": args.admin,
        "branches": args.branch,
    }
    try:
        import_document(settings, {"staff": [staff]})
    except ImportFailed as failed:
        for error in failed.errors:
            print(f"{error.path}: {error.message}", file=sys.stderr)
        return 1
    print(f"staff member {args.email} can sign in on: {', '.join(args.branch)}")
    return 0


def cmd_reconcile_payments(args: argparse.Namespace) -> int:
    from server.api.app import create_app

    app = create_app(_settings(args))
    try:
        print(_reconcile(app, timedelta(minutes=args.older_than_minutes)))
    finally:
        app.state.engine.dispose()
    return 0


def cmd_housekeeping(args: argparse.Namespace) -> int:
    from server.db import make_engine, make_session_factory
    from server.services.housekeeping import housekeeping

    settings = _settings(args)
    engine = make_engine(settings.database_url)
    try:
        print(housekeeping(make_session_factory(engine), settings).summary())
    finally:
        engine.dispose()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m server", description="Portal Desk portal server")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--database-url", help="SQLAlchemy URL (default: PORTAL_DATABASE_URL or SQLite in the data folder)"
        )
        return p

    serve = with_db(sub.add_parser("serve", help="run the portal API"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo", action="store_true", help="migrate and load the demo company when the database is empty"
    )
    serve.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(func=cmd_serve)
    with_db(sub.add_parser("migrate", help="bring the database schema up to date")).set_defaults(func=cmd_migrate)
    with_db(sub.add_parser("seed-demo", help="load (or refresh) the demo company")).set_defaults(func=cmd_seed_demo)
    imp = with_db(sub.add_parser("import", help="import a company's data from FILE.json"))
    imp.add_argument("file")
    imp.set_defaults(func=cmd_import)
    staff = with_db(sub.add_parser("create-staff", help="add a staff member who can sign in"))
    staff.add_argument("--email", required=True)
    staff.add_argument("--name", required=True)
    staff.add_argument("--branch", action="append", required=True, help="branch slug (repeat for several)")
    staff.add_argument("--password", help="asked for when omitted")
    staff.add_argument("--key", help="stable key for later imports (default: from the email)")
    staff.add_argument("--admin", action="store_true")
    staff.set_defaults(func=cmd_create_staff)
    reconcile = with_db(
        sub.add_parser(
            "reconcile-payments",
            help="settle or release payments left pending by a crash (never charges); run it on a schedule",
        )
    )
    reconcile.add_argument(
        "--older-than-minutes",
        type=float,
        default=15,
        help="only payments started at least this long ago whose request lease ran out (default: 15)",
    )
    reconcile.set_defaults(func=cmd_reconcile_payments)
    with_db(
        sub.add_parser(
            "housekeeping",
            help="delete answered idempotency keys, ended sessions and spent reset tokens past their retention; "
            "run it on a schedule (serve does it by itself on SQLite)",
        )
    ).set_defaults(func=cmd_housekeeping)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code
