"""``mlgates serve``: an HTTP prediction server for one model file (uvicorn + starlette).

The model is loaded as the performance gate loads it (skops with explicit trust,
pickles only with a pinned sha256, ONNX, MLflow). Two routes:

* ``GET /health``: ``{"status": "ok", "model": "candidate.skops"}``.
* ``POST /predict`` with ``{"rows": [{"column": value, ...}, ...]}`` (or a bare list
  of row objects): ``{"predictions": [...]}``, plus ``"probabilities"`` (one list
  per row) and ``"classes"`` when the model has ``predict_proba``.

A model with ``feature_names_in_`` gets those columns, in its order (other
columns are ignored, a missing one is a 422); any other model gets the columns
of the rows as sent. ``null`` becomes NaN. A body that is not JSON, or not rows,
is a 400 saying what is wrong; a model that raises is a 500 with
``{"error": "ValueError: ..."}``. One process serves; the model runs in
starlette's thread pool, so the event loop keeps accepting requests.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgates.core import InputError, MissingExtraError, UsageError
from mlgates.jsonable import to_jsonable
from mlgates.stages.performance.models import PICKLE_SUFFIXES, load_model
from mlgates.stages.performance.settings import ModelFile
from mlgates.text import shorten

if TYPE_CHECKING:
    import pandas as pd
    from starlette.applications import Starlette

_SHAPE = 'expected {"rows": [{"column": value, ...}, ...]} or a list of row objects'
_SCALARS = (str, int, float, bool, type(None))


class BadRequest(Exception):
    """A request the server cannot predict on; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def plain(value: Any) -> Any:
    """``value`` as JSON values: numpy scalars and arrays as Python ones, NaN and
    infinities as null, dates as ISO text."""
    return to_jsonable(value, nan_as_none=True)


def parse_rows(body: bytes) -> list[dict[str, Any]]:
    """The row objects of a request body; :class:`BadRequest` saying what is wrong."""
    try:
        data = json.loads(body)
    except UnicodeDecodeError:
        raise BadRequest("the request body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"the request body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if isinstance(data, dict):
        if "rows" not in data:
            raise BadRequest(f"no 'rows' in the object: {_SHAPE}")
        data = data["rows"]
    if not isinstance(data, list):
        raise BadRequest(f"{_SHAPE}, got {_kind(data)}")
    if not data:
        raise BadRequest("no rows to predict")
    for index, row in enumerate(data):
        if not isinstance(row, dict):
            raise BadRequest(f"rows[{index}] is {_kind(row)}, not an object {{column: value}}")
        for column, value in row.items():
            if not isinstance(value, _SCALARS):
                raise BadRequest(
                    f"rows[{index}][{shorten(column, 40)!r}] is {_kind(value)}: values must be "
                    "numbers, text, true/false or null"
                )
    return data


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else "a value")


class Predictor:
    """A loaded model, answering requests' rows."""

    def __init__(self, model: Any) -> None:
        self.model = model
        names = getattr(model, "feature_names_in_", None)
        self.features = None if names is None else [str(name) for name in names]
        self.proba = callable(getattr(model, "predict_proba", None))

    def frame(self, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
        """The rows as the frame the model is given: its features in its order, null as
        NaN; :class:`BadRequest` (422) naming the columns the rows lack."""
        import numpy as np
        import pandas as pd

        if self.features is not None:
            present = set().union(*rows)
            missing = [name for name in self.features if name not in present]
            if missing:
                shown = ", ".join(shorten(name, 60) for name in missing[:20])
                more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
                raise BadRequest(f"the rows lack column(s) the model needs: {shown}{more}", 422)
        frame = pd.DataFrame.from_records(list(rows), columns=self.features)
        for column, dtype in frame.dtypes.items():
            if pd.api.types.is_object_dtype(dtype):
                frame[column] = frame[column].where(frame[column].notna(), np.nan)
        return frame

    def answer(self, frame: pd.DataFrame) -> dict[str, Any]:
        """Predictions (and probabilities with the classes) for ``frame``, as JSON values."""
        answer = {"predictions": plain(self.model.predict(frame))}
        if self.proba:
            answer["probabilities"] = plain(self.model.predict_proba(frame))
            classes = getattr(self.model, "classes_", None)
            if classes is not None:
                answer["classes"] = plain(classes)
        return answer


def create_app(model: Any, name: str) -> Starlette:
    """The starlette application serving ``model`` (``name`` is shown by ``/health``)."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    predictor = Predictor(model)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "model": name})

    async def predict(request: Request) -> JSONResponse:
        try:
            frame = predictor.frame(parse_rows(await request.body()))
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        try:
            answer = await run_in_threadpool(predictor.answer, frame)
        except Exception as exc:  # the model's own failure, reported to the client
            return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=500)
        return JSONResponse(answer)

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/predict", predict, methods=["POST"]),
        ]
    )


def load_served(path: Path, trusted: Sequence[str] = (), sha256: str | None = None) -> Any:
    """The model in ``path``, loaded as the performance gate loads it."""
    check_served(path, sha256)
    return load_model(ModelFile(path, key="--model", sha256=sha256), str(path), trusted)


def check_served(path: Path, sha256: str | None) -> None:
    """Refuse, before anything is loaded, a missing file or a pickle without a pin."""
    if not path.exists():
        raise InputError(f"--model {path}: no such file or directory")
    if path.suffix.lower() in PICKLE_SUFFIXES and sha256 is None:
        raise UsageError(
            f"--model {path} is a pickle, which runs code when it is loaded: review it, then "
            f"pin it with --sha256 (the output of sha256sum {path}), or save the model with skops"
        )


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``; :class:`UsageError` when it cannot be."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise UsageError(f"--host {host}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def serve(
    path: Path,
    *,
    trusted: Sequence[str] = (),
    sha256: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Load the model in ``path`` and serve it on ``host:port`` until interrupted."""
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError:
        raise MissingExtraError("mlgates serve", "operational") from None
    check_served(path, sha256)
    sock = _listen(host, port)  # before loading: a port in use is reported at once
    try:
        app = create_app(load_served(path, trusted, sha256), path.name)
        shown = f"[{host}]" if ":" in host else host
        print(
            f"mlgates serve: {path.name} on http://{shown}:{sock.getsockname()[1]} "
            "(POST /predict, GET /health)",
            flush=True,
        )
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False, server_header=False
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


__all__ = ["BadRequest", "Predictor", "create_app", "load_served", "parse_rows", "plain", "serve"]
