"""Serve the embedded sample over real HTTP on 127.0.0.1, in each API's wire format.

Lets ``ozg run --mode live`` be exercised end to end without the internet::

    python -m sources.sample.server --port 8765 --snapshot 2026-11-01
    OZG_DASHBOARD_URL=http://127.0.0.1:8765/dashboard OZG_PVOG_URL=http://127.0.0.1:8765/pvog \\
    OZG_FIM_URL=http://127.0.0.1:8765/fim OZG_DESTATIS_URL=http://127.0.0.1:8765/destatis \\
    OZG_PVOG_ARS=000000000000 ozg run --mode live --snapshot 2026-11-01

``…/dashboard`` is the Dashboard's host A (``v1/data/{ars}``, file answer with
``filetype=csv``); ``…/dashboard/public/v1/dash`` is host B (``open-pvog/{ars}/export``).
The data are the synthetic sample (plus the real GV100AD and PVOG Bund files), so
whatever a live run ingests from here is still sample data.
"""

from __future__ import annotations

import argparse
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from sources import replay
from sources.sample.generator import DEFAULT_SEED, SAMPLE_SNAPSHOTS

PREFIXES = ("/dashboard", "/pvog", "/fim", "/destatis")
HOST_B_PATH = "/public/v1/dash"


def make_server(
    snapshot: date,
    *,
    seed: int = DEFAULT_SEED,
    host: str = "127.0.0.1",
    port: int = 0,
    rehearsal: bool = False,
    land: str = "06",
) -> ThreadingHTTPServer:
    """``rehearsal``: answer like the real APIs are observed to (municipal Leistungen
    typed 2/3 and 4, Hanau under its new ARS; ``sources/sample/rehearsal.py``). ``land``:
    the Land whose Dashboard records are served (the sample is generated per Land)."""
    handlers = {
        "/dashboard": replay.dashboard_handler(snapshot, seed, rehearsal=rehearsal, land=land),
        "/pvog": replay.pvog_handler(),
        "/fim": replay.fim_handler(seed, rehearsal=rehearsal),
        "/destatis": replay.destatis_handler(),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(send_body=True)

        def do_HEAD(self) -> None:
            # The freshness probe asks for the GV100AD edition's ETag with HEAD.
            self._answer(send_body=False)

        def _answer(self, *, send_body: bool) -> None:
            parts = urlsplit(self.path)
            prefix = next((p for p in PREFIXES if parts.path.startswith(p + "/")), None)
            if prefix is None:
                status, headers, body = 404, {"Content-Type": "text/plain"}, b"unknown API prefix"
            else:
                params = dict(parse_qsl(parts.query, keep_blank_values=True))
                path = parts.path[len(prefix) :]
                if prefix == "/dashboard" and path.startswith(HOST_B_PATH + "/"):
                    path = path[len(HOST_B_PATH) :]  # …/dashboard/public/v1/dash = host B
                status, headers, body = handlers[prefix](path, params, self.headers)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test and CLI output quiet

    return ThreadingHTTPServer((host, port), Handler)


def serve_in_thread(snapshot: date, **kwargs: object) -> tuple[ThreadingHTTPServer, str]:
    server = make_server(snapshot, **kwargs)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host}:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--snapshot", type=date.fromisoformat, default=SAMPLE_SNAPSHOTS[-1])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--land", default="06", help="Land whose Dashboard data are served")
    parser.add_argument(
        "--rehearsal",
        action="store_true",
        help="answer like the real APIs: municipal Typisierung 2/3 and 4, Hanau kreisfrei",
    )
    args = parser.parse_args()
    server = make_server(
        args.snapshot, seed=args.seed, port=args.port, rehearsal=args.rehearsal, land=args.land
    )
    variant = " (rehearsal: real-API shapes)" if args.rehearsal else ""
    print(
        f"serving the sample of Land {args.land} as of {args.snapshot}{variant} on "
        f"http://127.0.0.1:{args.port} {PREFIXES}"
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
