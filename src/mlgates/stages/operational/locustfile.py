"""The locustfile of the operational gate's load test.

Locust runs this file by its path, in processes of its own (:mod:`.loadtest`
starts them); it is never imported by the gates or by pytest, since importing
locust patches the process with gevent. Its settings come from the environment:

``MLGATES_LOAD_HOST``      scheme and host, ``http://127.0.0.1:8000``
``MLGATES_LOAD_PATH``      the path (and query) to POST to, ``/predict``
``MLGATES_LOAD_BODIES``    a JSON file holding a list of request bodies, sent in turn
``MLGATES_LOAD_TIMEOUT``   seconds a request may take before it fails
``MLGATES_LOAD_EXPECT``    ``predictions``: an answer must hold one prediction per row
                           sent (``mlgates serve``); empty: any 2xx status passes
``MLGATES_LOAD_ERRORS``    where the master (or the only process) writes the failures
                           it counted, most frequent first (locust's JSON stats lack them)

Each user sends the bodies back to back, from an offset of its own, with no
wait between requests.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from typing import Any

from locust import FastHttpUser, constant, events, task
from locust.runners import WorkerRunner

_SHOWN = 300
"""Characters of an answer kept in a failure message."""


def _setting(name: str) -> str:
    value = os.environ.get(name)
    if value is None:
        raise SystemExit(f"mlgates locustfile: set {name} (see the module's docstring)")
    return value


def _bodies(path: str, expect: bool) -> list[tuple[str, int]]:
    """Each body as the text sent and the rows it holds (0 when not checked)."""
    with open(path, encoding="utf-8") as file:
        loaded = json.load(file)
    bodies = []
    for body in loaded:
        rows = body.get("rows", ()) if isinstance(body, dict) else body
        bodies.append((json.dumps(body), len(rows) if expect else 0))
    return bodies


EXPECT = os.environ.get("MLGATES_LOAD_EXPECT", "") == "predictions"
PATH = _setting("MLGATES_LOAD_PATH")
BODIES = _bodies(_setting("MLGATES_LOAD_BODIES"), EXPECT)
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def problem(status: int, text: str, rows: int) -> str | None:
    """Why an answer is a failure, or None: a status of 400 or more, or (``rows`` > 0) an
    answer without one prediction per row."""
    if status >= 400:
        try:
            error = json.loads(text).get("error")
        except (ValueError, AttributeError):
            error = None
        return f"HTTP {status}: {error or text}"[:_SHOWN]
    if rows == 0:
        return None
    try:
        predictions = json.loads(text)["predictions"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {status}: not an answer with predictions: {text[:_SHOWN]}"
    if not isinstance(predictions, list) or len(predictions) != rows:
        got = len(predictions) if isinstance(predictions, list) else type(predictions).__name__
        return f"HTTP {status}: {got} predictions for {rows} rows"
    return None


class Client(FastHttpUser):
    """POSTs the bodies as fast as answers come."""

    host = _setting("MLGATES_LOAD_HOST")
    wait_time = constant(0)
    network_timeout = float(_setting("MLGATES_LOAD_TIMEOUT"))
    connection_timeout = network_timeout

    def on_start(self) -> None:
        """Start the rotation through the bodies at an offset of this user's own."""
        start = random.randrange(len(BODIES))
        self.bodies = itertools.cycle(BODIES[start:] + BODIES[:start])

    @task
    def predict(self) -> None:
        """Send the next body; a failed answer counts as a failure, with the reason."""
        body, rows = next(self.bodies)
        with self.client.post(
            PATH, data=body, headers=HEADERS, name=f"POST {PATH}", catch_response=True
        ) as response:
            error = getattr(response, "error", None)
            if not response.status_code and error is not None:
                response.failure(f"{type(error).__name__}: {error}"[:_SHOWN])
                return
            reason = problem(response.status_code, response.text or "", rows)
            if reason is None:
                response.success()
            else:
                response.failure(reason)


def _write_errors(environment: Any, **_: Any) -> None:
    """Write the failures counted (merged over the workers, on the master)."""
    target = os.environ.get("MLGATES_LOAD_ERRORS")
    if not target or isinstance(environment.runner, WorkerRunner):
        return
    errors = sorted(
        environment.runner.stats.serialize_errors().values(), key=lambda e: -e["occurrences"]
    )
    found = [{"error": e["error"], "occurrences": e["occurrences"]} for e in errors]
    with open(target, "w", encoding="utf-8") as file:
        json.dump(found, file)


# locust leaves add_listener unannotated
events.quitting.add_listener(_write_errors)  # type: ignore[no-untyped-call]
