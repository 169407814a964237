"""Time from clicking "View proposal" to the first PDF page on screen, against the demo server.

    PORTAL_DESK_HOME=/tmp/bench-home QT_QPA_PLATFORM=offscreen python bench/view_proposal.py [rounds]

Each round: the button click, the PDF download (the server renders it), opening it on the
viewer's worker thread and painting the first page. Prints one JSON line: median, min, max.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.services import session as sessions
from app.services.demo_server import DEMO_EMAIL, DEMO_PASSWORD, DemoServer
from app.services.tasks import TaskRunner
from app.smoke import _background, _wait
from app.views.proposal_detail import ProposalWindow
from app.views.theme import apply_theme


def main(rounds: int) -> None:
    app = QApplication([])
    apply_theme(app)
    demo = DemoServer()
    demo.start()
    try:
        _background(app, demo.wait_until_ready, "the demo server")
        session = _background(app, lambda: sessions.sign_in(demo.portal_url, DEMO_EMAIL, DEMO_PASSWORD), "sign-in")
        page = _background(app, lambda: session.client.proposals("all"), "proposals")
        runner = TaskRunner()
        window = ProposalWindow(session, runner, page.items[0].id)
        window.show()
        _wait(lambda: window.detail is not None, "the detail")
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            QTest.mouseClick(window.view_button, Qt.MouseButton.LeftButton)
            _wait(lambda: window.pdf_window is not None and window.pdf_window.viewer._shown, "the first page")
            times.append(time.perf_counter() - started)
            assert window.pdf_window is not None
            window.pdf_window.close()
            _wait(lambda: window.pdf_window is None, "the viewer to close")
        print(
            json.dumps(
                {
                    "rounds": rounds,
                    "median_s": round(statistics.median(times), 4),
                    "min_s": round(min(times), 4),
                    "max_s": round(max(times), 4),
                }
            )
        )
    finally:
        demo.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
