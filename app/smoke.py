"""`main.py --demo --smoke DIR`: a headless end-to-end check for CI and for reviewing screens.

Signs in to the demo company, loads every tab, saves a PNG per tab and of the sign-in dialog,
then stops the demo server and checks the window says so (banner, lists kept and marked out of
date: offline.png), and prints one JSON line of timings. Secrets and settings stay in memory / a
temp folder.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, TypeVar

import keyring
from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from app.services import session as sessions
from app.services.accounts import Accounts
from app.services.credentials import MemoryKeyring
from app.services.demo_server import DEMO_EMAIL, DEMO_PASSWORD, DemoServer
from app.services.settings import AppSettings
from app.services.tasks import BackgroundOp, TaskRunner
from app.views.main_window import MainWindow
from app.views.sign_in_dialog import SignInDialog

T = TypeVar("T")
STEP_TIMEOUT_S = 30.0


class SmokeFailed(Exception):
    pass


def _wait(condition: Callable[[], bool], what: str, timeout: float = STEP_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SmokeFailed(f"timed out waiting for {what}")
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.005)


def _background(owner: QWidget | QApplication, op: Callable[[], T], what: str) -> T:
    outcome: list[Any] = []
    BackgroundOp(parent=owner, op=op, success=lambda r: outcome.append(("ok", r))).failure(
        lambda e: outcome.append(("error", e))
    ).run_in_background()
    _wait(lambda: bool(outcome), what)
    kind, value = outcome[0]
    if kind == "error":
        raise SmokeFailed(f"{what} failed: {value}")
    return value  # type: ignore[no-any-return]


def _idle(runner: TaskRunner, what: str) -> None:
    QApplication.processEvents()
    _wait(lambda: not runner.busy, what)
    QApplication.processEvents()


def _save(widget: QWidget, path: Path) -> None:
    QApplication.processEvents()
    if not widget.grab().save(str(path)):
        raise SmokeFailed(f"could not write {path}")


def _go_offline(window: MainWindow, demo: DemoServer, out_dir: Path) -> float:
    """The server goes away: the refresh must fail into the banner, keeping every list."""
    demo.stop()
    window.tab_widget.setCurrentIndex(0)
    begun = time.perf_counter()
    window.refresh()
    _wait(lambda: window.monitor.offline and window.banner.isVisible(), "the offline banner")
    _idle(window.runner, "the failed refresh")
    for key in window._visible_tab_keys():
        tab = window.tabs[key]
        if tab.model.rowCount() and not tab.stale:
            raise SmokeFailed(f"the {key} tab dropped or did not mark its rows while offline")
    if not window.sidebar.stale:
        raise SmokeFailed("the balance was not marked as out of date while offline")
    _save(window, out_dir / "offline.png")
    return round(time.perf_counter() - begun, 3)


def run_smoke(app: QApplication, out_dir: Path, started: float) -> int:
    """The outcome also goes to DIR/smoke.json: a windowed build on Windows has no console."""
    try:
        timings = _run(app, out_dir, started)
    except SmokeFailed as failure:
        _report(out_dir, {"ok": False, "error": str(failure)}, f"smoke run failed: {failure}", sys.stderr)
        return 1
    _report(out_dir, {"ok": True, **timings}, json.dumps(timings), sys.stdout)
    return 0


def _report(out_dir: Path, outcome: dict[str, Any], line: str, stream: TextIO | None) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "smoke.json").write_text(json.dumps(outcome), encoding="utf-8")
    if stream is not None:
        print(line, file=stream)


def _run(app: QApplication, out_dir: Path, started: float) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    keyring.set_keyring(MemoryKeyring())
    settings_file = Path(tempfile.mkdtemp(prefix="portal-desk-smoke-")) / "settings.ini"
    accounts = Accounts(AppSettings(QSettings(str(settings_file), QSettings.Format.IniFormat)))
    demo = DemoServer()
    demo.start()
    try:
        accounts.do_not_list(demo.origin)
        dialog = SignInDialog(accounts, demo=demo)
        dialog.show()
        _save(dialog, out_dir / "sign-in.png")
        dialog.close()

        _background(app, demo.wait_until_ready, "the demo server to start")
        session = _background(app, lambda: sessions.sign_in(demo.portal_url, DEMO_EMAIL, DEMO_PASSWORD), "sign-in")
        window = MainWindow(session, accounts)
        window.resize(1280, 800)
        window.show()
        _idle(window.runner, "the first lists")
        startup = time.perf_counter() - started
        tab_times: dict[str, float] = {}
        for key, tab in window.tabs.items():
            if not window.tab_widget.isTabVisible(window.tab_widget.indexOf(tab)):
                continue
            window.tab_widget.setCurrentWidget(tab)
            begun = time.perf_counter()
            window.load_tab(key)
            _idle(window.runner, f"the {key} tab")
            tab_times[key] = round(time.perf_counter() - begun, 3)
            if tab._error is not None:
                raise SmokeFailed(f"the {key} tab shows an error: {tab._error}")
            QTimer.singleShot(0, lambda: None)
            _save(window, out_dir / f"{key}.png")
        offline_s = _go_offline(window, demo, out_dir)
        window.close()
        return {"startup_s": round(startup, 3), "tabs": tab_times, "offline_banner_s": offline_s}
    finally:
        demo.stop()
