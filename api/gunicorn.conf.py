"""gunicorn settings for the API: its workers share one folder for their Prometheus metrics and the drift window,
so that `/metrics` and drift alerts cover every request whichever worker answers it.

    gunicorn -c api/gunicorn.conf.py --workers 2 --bind 0.0.0.0:8000 --access-logfile - api.app:app

`PROMETHEUS_MULTIPROC_DIR` names the folder where it is set (it is emptied at start); otherwise a fresh temporary
folder is made and removed at exit. It is set here, when gunicorn reads this file, before any worker imports
prometheus_client, which chooses how to keep its values on import.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

SHARED_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

if os.environ.get(SHARED_DIR_ENV):
    _shared, _made_here = Path(os.environ[SHARED_DIR_ENV]), False
    _shared.mkdir(parents=True, exist_ok=True)
    for stale in _shared.iterdir():  # Metrics and a window left by an earlier server.
        stale.unlink()
else:
    _shared, _made_here = Path(tempfile.mkdtemp(prefix="text-recognizer-api-")), True
    os.environ[SHARED_DIR_ENV] = str(_shared)


def child_exit(server: Any, worker: Any) -> None:
    """Fold a finished worker's live gauges away (its counters stay counted)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    """Remove the folder this file made."""
    if _made_here:
        shutil.rmtree(_shared, ignore_errors=True)
