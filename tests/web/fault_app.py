"""An app for fault tests run in other processes (`flask --app tests.web.fault_app:create_app run|worker`).

It is the real app with one change: the solver child hangs (so a run stays running until something
stops it) and writes its pid and its parent's (the process executing the run) to EBO_TEST_PID_FILE.
CSRF is off so that the test can drive it over plain HTTP.
"""

from __future__ import annotations

import os
import time

from ebo import create_app as _create_app
from ebo.services import runs


def hanging_child(instance_json, time_limit, workers, conn) -> None:
    """A solver child that never answers."""
    with open(os.environ["EBO_TEST_PID_FILE"], "a") as f:
        f.write(f"{os.getpid()} {os.getppid()}\n")
    while True:
        time.sleep(1)


def create_app():
    """The app with a hanging solver child."""
    runs.CHILD_TARGET = hanging_child
    return _create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "MATCH_IN_PROCESS": False,
                        "SECRET_KEY": "fault-test"})
