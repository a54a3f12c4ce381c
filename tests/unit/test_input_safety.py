"""Input safety (issue 13, item 5): values that reach a path are validated, SQL binds its
values, the Dagster UI binds to 127.0.0.1, and the secrets stay out of every file."""

from __future__ import annotations

import ast
import gzip
import logging
import os
import re
import socket
import subprocess
import threading
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest
from http_server import FAST_HTTP, LocalServer, Reply

from sources import ingest, pvog
from sources.config import ENVIRONMENT, LAENDER, REDACTED, SECRET_VARIABLES, Settings, redact
from sources.dashboard import DashboardClient
from sources.http import Fetched, SourceError
from sources.identifiers import (
    InvalidIdentifier,
    dbt_relation,
    identifier_list,
    quote_identifier,
    relation,
    validate_ars,
    validate_file_name,
    validate_land,
    validate_leika,
    validate_snapshot,
)
from sources.landing import SnapshotLanding

ROOT = Path(__file__).resolve().parents[2]

HOSTILE = [
    "../x",
    "06/../../etc",
    "0643\x00",
    "/etc/passwd",
    "..",
    "",
    " 06",
    "064140000000\n",  # re.match("^…$") would let the newline through
    "٠٦٤١٤٠٠٠٠٠٠٠",  # Arabic-Indic digits: str.isdigit() says True
    "²" * 12,
    "0" * 10_000,
    "C:\\Windows",
]


def written(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*")) if root.exists() else []


# -- 1. identifiers that reach a path ---------------------------------------------------
@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    "validate",
    [validate_ars, validate_land, validate_leika, validate_snapshot, validate_file_name],
)
def test_hostile_values_are_refused_with_a_clear_message(validate, value: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidIdentifier, match=r"must be .+, not ") as caught:
        validate(value)
    assert len(str(caught.value)) < 200  # an overly long value is shortened, not echoed whole
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("value", [None, 64140000000, b"064140000000"])
def test_non_strings_are_refused(value: object) -> None:
    with pytest.raises(InvalidIdentifier):
        validate_ars(value)


def test_well_formed_values_pass() -> None:
    assert validate_ars("064140000000") == "064140000000"
    assert [validate_land(code) for code in LAENDER] == list(LAENDER)
    for code in ("00", "17", "6", "99"):
        with pytest.raises(InvalidIdentifier):
            validate_land(code)
    assert validate_leika("99038003017001") == "99038003017001"
    assert validate_snapshot("2026-11-01") == "2026-11-01"
    assert validate_snapshot(date(2026, 11, 1)) == "2026-11-01"
    with pytest.raises(InvalidIdentifier, match="real date"):
        validate_snapshot("2026-13-01")
    for name in ("GV100AD_31122025.zip", "export_064140000000_own.csv", "ars_p0_0000.json"):
        assert validate_file_name(name) == name
    for name in (".hidden", "a/b", "a\\b", "x" * 151):
        with pytest.raises(InvalidIdentifier):
            validate_file_name(name)


def test_settings_refuse_a_hostile_land_before_building_a_path(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    for land in ("../x", "06/../../etc", "05,06", "0643\x00"):
        with pytest.raises(ValueError, match="Land"):
            settings.for_land(land)
        with pytest.raises(ValueError, match="Land"):
            Settings(data_dir=tmp_path, land=land).raw_root("pvog")
    assert settings.raw_root("pvog") == tmp_path / "raw" / "land=06"
    assert written(tmp_path) == []


def test_a_hostile_pvog_ars_from_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OZG_PVOG_ARS", "000000000000,../../etc/x")
    with pytest.raises(ValueError, match=r"OZG_PVOG_ARS entry must be 12 digits"):
        Settings.from_env()


def test_the_landing_refuses_a_hostile_snapshot_or_entry_name(tmp_path: Path) -> None:
    for snapshot in ("../x", "2026-11-01/../../x", "/tmp/x", "2026-11-01\x00"):
        with pytest.raises(InvalidIdentifier, match="snapshot"):
            SnapshotLanding(tmp_path, "pvog", snapshot, mode="live")
    landing = SnapshotLanding(tmp_path, "pvog", "2026-11-01", mode="live")
    fetched = Fetched(
        source="pvog",
        url="http://127.0.0.1/x",
        params={},
        status=200,
        headers={},
        body=b"x",
        fetched_at=datetime.now(UTC),
        elapsed_s=0.0,
        attempts=1,
    )
    for name in ("../../evil", "/etc/passwd", "a/b", ".tmp-x", "x\x00"):
        with pytest.raises(InvalidIdentifier, match="entry name"):
            landing.store(name, fetched, group="csv/x")
    assert written(tmp_path) == []  # nothing stored, not even a journal line


def test_land_pvog_refuses_a_hostile_ars_before_any_request(
    tmp_path: Path, local_server: LocalServer
) -> None:
    settings = Settings(
        mode="live",
        data_dir=tmp_path,
        pvog_url=local_server.url,
        pvog_ars=("../../../etc/cron.d/x",),
        http=FAST_HTTP,
    )
    with pytest.raises(InvalidIdentifier, match="PVOG ARS must be 12 digits"):
        ingest.land_pvog(settings, date(2026, 11, 1))
    assert local_server.requests == [] and written(tmp_path) == []


def test_the_dashboard_ars_list_cannot_inject_a_path() -> None:
    listed = pl.DataFrame({"ars": ["06²²²²²²²²²²", "06/../../etc", "064140000000", "066110000000"]})
    assert ingest._api_only_ars(listed, "06", ["066110000000"]) == ["064140000000"]
    client = DashboardClient("http://127.0.0.1/api", None)  # type: ignore[arg-type]
    for ars in ("../x", "06441000000/", "٠٦٤١٤٠٠٠٠٠٠٠"):
        with pytest.raises(InvalidIdentifier):
            client.export_url(ars)


def test_the_lake_refuses_a_hostile_land(tmp_path: Path) -> None:
    from pipelines.lake import Lake

    for land in ("../x", "06/../../etc", "/abs"):
        with pytest.raises(InvalidIdentifier, match="Land"):
            Lake(tmp_path, land)
    assert Lake(tmp_path, "06").partition("gebiete", date(2026, 11, 1)).is_relative_to(tmp_path)


def test_reports_refuse_a_hostile_ars_before_writing(tmp_path: Path) -> None:
    from pipelines.reports import ReportError, build_reports
    from pipelines.reports.render import steckbrief_file

    assert steckbrief_file("064140000000") == "steckbrief-064140000000.html"
    for ars in ("../../x", "064140000000/../../x", "064140000000\n"):
        with pytest.raises(InvalidIdentifier):
            steckbrief_file(ars)
    with pytest.raises(ReportError, match="ungültige ARS"):
        build_reports(tmp_path, ars=["../../../tmp/x"])
    assert written(tmp_path) == []


def test_the_failure_record_refuses_a_hostile_run_id(tmp_path: Path) -> None:
    from pipelines.defs.automation import write_failure_record

    with pytest.raises(InvalidIdentifier, match="run id"):
        write_failure_record(tmp_path, {"run_id": "../../x"})
    assert written(tmp_path) == []


def test_the_cli_refuses_a_hostile_land_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipelines.cli import main

    clean_environment(monkeypatch)
    monkeypatch.setenv("OZG_DATA_DIR", str(tmp_path / "data"))
    assert main(["run", "--land", "../../etc"]) == 1
    assert "Land must be a two-digit code" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "--snapshot", "../../etc"])  # argparse: not a date
    assert written(tmp_path) == []


# -- 2. SQL: values are parameters, identifiers are constants or quoted ------------------
# Calls whose result is a quoted, validated identifier (sources/identifiers.py).
QUOTING = {"quote_identifier", "relation", "identifier_list", "dbt_relation"}
# Other interpolations allowed in SQL text, each with the reason.
ALLOWED = {
    ("pipelines/reports/workbook.py", "sheet.where"): "a fragment of the SHEETS constants",
    ("pipelines/reports/workbook.py", "sheet.order"): "a fragment of the SHEETS constants",
    (
        "pipelines/publication/publish.py",
        "_german_csv_columns(con, mart)",
    ): "a select list of quote_identifier'd columns",
}
SQL_TEXT = re.compile(
    r"\bselect\b|\bfrom\s+\w+\.|\bwhere\b\s+\w+\s*(=|<|>|in\b)|\border\s+by\b|\blimit\b"
    r"|\bcopy\s*\(|\binsert\s+into\b|\battach\b|\bcreate\s+(or\s+replace\s+)?(table|view|schema)"
    r"|\bdelete\s+from\b|\bdrop\s+(table|view|schema)\b|\bupdate\s+\w+\s+set\b",
    re.IGNORECASE,
)


def _literal_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return None


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return None


def _safe_locals(function: ast.AST) -> set[str]:
    """Local names assigned only from a quoting call inside ``function``."""
    safe: dict[str, bool] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    quoted = isinstance(node, ast.Assign | ast.AnnAssign) and (
                        _call_name(node.value) in QUOTING
                    )
                    safe[target.id] = safe.get(target.id, True) and quoted
        elif isinstance(node, ast.For | ast.comprehension | ast.NamedExpr | ast.withitem):
            bound = node.optional_vars if isinstance(node, ast.withitem) else node.target
            for target in ast.walk(bound) if bound is not None else ():
                if isinstance(target, ast.Name):
                    safe[target.id] = False
    return {name for name, ok in safe.items() if ok}


def sql_violations(source: str, file: str) -> list[str]:
    """Interpolations into SQL text that are neither constants nor quoted identifiers;
    SQL built by ``+``, ``%`` or ``.format`` with anything but literals."""
    tree = ast.parse(source)
    parents: dict[ast.AST, ast.AST] = {
        child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)
    }

    def enclosing_function(node: ast.AST) -> ast.AST:
        while node in parents:
            node = parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return tree

    def allowed(expression: ast.expr, where: ast.AST) -> bool:
        text = ast.unparse(expression)
        if isinstance(expression, ast.Name) and re.fullmatch(r"[A-Z][A-Z0-9_]*", text):
            return True  # a module constant of the code
        if _call_name(expression) in QUOTING or (file, text) in ALLOWED:
            return True
        return isinstance(expression, ast.Name) and text in _safe_locals(enclosing_function(where))

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and SQL_TEXT.search(_literal_text(node) or ""):
            for value in node.values:
                if isinstance(value, ast.FormattedValue) and not allowed(value.value, node):
                    found.append(f"{file}:{node.lineno}: {{{ast.unparse(value.value)}}}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            parts = [node.left, node.right]
            texts = [_literal_text(part) for part in parts]
            if any(t is not None and SQL_TEXT.search(t) for t in texts):
                for part, text in zip(parts, texts, strict=True):
                    if text is None and not isinstance(part, ast.BinOp) and not allowed(part, node):
                        found.append(f"{file}:{node.lineno}: SQL + {ast.unparse(part)}")
        elif (
            _call_name(node) == "format"
            and isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and SQL_TEXT.search(_literal_text(node.func.value) or "")
        ):
            found.append(f"{file}:{node.lineno}: SQL .format()")
    return found


def test_no_sql_is_built_by_formatting_data_values() -> None:
    found = []
    for package in ("pipelines", "sources"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            found += sql_violations(path.read_text(encoding="utf-8"), relative)
    assert not found, "SQL must bind values as parameters:\n" + "\n".join(found)


def test_the_sql_check_catches_formatted_values() -> None:
    bad = (
        "def f(con, ars, table):\n"
        "    con.execute(f\"select * from marts.x where ars = '{ars}'\")\n"
        "    con.execute('select * from ' + table + ' where x = 1')\n"
        "    con.execute(\"select * from t where land = '%s'\" % ars)\n"
        "    con.execute(\"select * from t where land = '{}'\".format(ars))\n"
        "    con.execute(f\"copy (select 1) to '{table}'\")\n"
    )
    assert len(sql_violations(bad, "x.py")) == 5
    good = (
        "MART = 'mart_x'\n"
        "def f(con, mart, names):\n"
        "    order = identifier_list(names)\n"
        "    con.execute(f'select * from marts.{MART} where ars = ? order by {order}', [1])\n"
        "    con.execute(f'select * from {relation(\"marts\", mart)} where land = ?', [1])\n"
    )
    assert sql_violations(good, "x.py") == []


def test_identifiers_are_quoted_and_checked() -> None:
    assert quote_identifier("quote_online") == '"quote_online"'
    assert relation("marts", "mart_x") == '"marts"."mart_x"'
    assert identifier_list(["a", "b"], table="m") == '"m"."a", "m"."b"'
    assert dbt_relation('"ozg"."marts"."mart_x"') == '"ozg"."marts"."mart_x"'
    for hostile in ('x"; drop table t; --', "a b", "a.b", "", "1a", "x\x00"):
        with pytest.raises(InvalidIdentifier):
            quote_identifier(hostile)
    for hostile in ('"ozg"."marts"."x"; drop table t', "marts.x", '"a"'):
        with pytest.raises(InvalidIdentifier):
            dbt_relation(hostile)


# -- 3. the Dagster UI binds to 127.0.0.1 ------------------------------------------------
def dev_command(host: str | None) -> list[str]:
    """The arguments ``make dev`` passes to ``dagster dev`` (the recipe run with a stub)."""
    recipe = subprocess.run(
        # STAMP: a file that does not exist, so the install recipe is only printed. (Not
        # "Makefile": GNU make runs the recipes that remake a makefile even under -n, and
        # this one would create the venv — 45 s in a fresh worktree.)
        ["make", "-n", "-s", "dev", "STAMP=.dry-run-no-install"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (line,) = [line for line in recipe.splitlines() if " dev -w " in line]
    stub = line.replace(".venv/bin/dagster dev", "printf '%s\\n' dagster dev")
    env = {k: v for k, v in os.environ.items() if k not in ("OZG_DEV_HOST", "DAGSTER_HOME")}
    if host is not None:
        env["OZG_DEV_HOST"] = host
    done = subprocess.run(
        ["bash", "-c", stub], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.splitlines()


def test_make_dev_binds_the_ui_to_localhost_by_default() -> None:
    args = dev_command(None)
    assert args[:2] == ["dagster", "dev"]
    assert args[args.index("-h") + 1] == "127.0.0.1" == ENVIRONMENT["OZG_DEV_HOST"][0]
    assert "0.0.0.0" not in args
    custom = dev_command("192.0.2.7")
    assert custom[custom.index("-h") + 1] == "192.0.2.7"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "| `OZG_DEV_HOST` | `127.0.0.1` |" in readme
    # No other launcher in the repository starts the UI without the host.
    for path in (ROOT / "Makefile", *ROOT.glob(".ci/*")):
        for line in path.read_text(encoding="utf-8").splitlines():
            launches = re.search(r"\b(dagster|dg) dev\b", line)
            if launches and not re.search(r'-h "\$+\{OZG_DEV_HOST:-127\.0\.0\.1\}"', line):
                pytest.fail(f"{path.name}: the UI started without OZG_DEV_HOST: {line.strip()}")


# -- 4. secrets --------------------------------------------------------------------------
CLIENT_ID = "pvog-client-7f3e9a1c-SECRET"
WEBHOOK_TOKEN = "T0SECRET/B0SECRET/whk-4b8d2e6f"


def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*ENVIRONMENT, "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)


def test_the_secret_variables_are_documented_configuration() -> None:
    assert set(SECRET_VARIABLES) == {
        "OZG_PVOG_CLIENT_ID",
        "OZG_ALERT_WEBHOOK",
        "OZG_PUBLISH_POSTGRES_DSN",
    }
    assert set(SECRET_VARIABLES) <= set(ENVIRONMENT)


def test_redact_removes_secrets_and_the_secret_parts_of_a_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    webhook = f"https://hooks.example.org/services/{WEBHOOK_TOKEN}?key=abcd1234"
    monkeypatch.setenv("OZG_ALERT_WEBHOOK", webhook)
    monkeypatch.setenv("OZG_PVOG_CLIENT_ID", CLIENT_ID)
    text = (
        f"posting to {webhook} failed; HTTPSConnectionPool(host='hooks.example.org'): "
        f"Max retries exceeded with url: /services/{WEBHOOK_TOKEN}?key=abcd1234; "
        f"header {CLIENT_ID}; key=abcd1234"
    )
    cleaned = redact(text)
    for secret in (WEBHOOK_TOKEN, "abcd1234", CLIENT_ID):
        assert secret not in cleaned
    assert REDACTED in cleaned and "hooks.example.org" in cleaned
    assert redact("nothing secret here") == "nothing secret here"
    monkeypatch.setenv("OZG_ALERT_WEBHOOK", "https://hooks.example.org/api")
    assert redact("https://pvog.example/api/x failed") == "https://pvog.example/api/x failed"


def test_settings_do_not_show_the_client_id() -> None:
    settings = Settings(pvog_client_id=CLIENT_ID)
    assert CLIENT_ID not in repr(settings) and CLIENT_ID not in str(settings)


def test_an_error_page_echoing_the_client_id_does_not_leak_it(
    tmp_path: Path, local_server: LocalServer
) -> None:
    path = "/suchdienst/api/v5/servicedescriptions/csv"
    local_server.add(path, Reply(403, f"unknown client id {CLIENT_ID}".encode()))
    settings = Settings(
        mode="live",
        data_dir=tmp_path,
        pvog_url=local_server.url + "/suchdienst/api",
        pvog_client_id=CLIENT_ID,
        pvog_ars=("000000000000",),
        http=FAST_HTTP,
    )
    with pytest.raises(SourceError) as caught:
        ingest.land_pvog(settings, date(2026, 11, 1))
    (request,) = local_server.requests
    assert request.headers[pvog.CLIENT_ID_HEADER] == CLIENT_ID  # it was sent …
    assert "HTTP 403" in str(caught.value) and REDACTED in str(caught.value)
    assert CLIENT_ID not in str(caught.value)  # … and is not in the error
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_the_cli_failure_line_is_redacted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipelines import cli

    clean_environment(monkeypatch)
    monkeypatch.setenv("OZG_PVOG_CLIENT_ID", CLIENT_ID)

    def failing(**overrides: object) -> Settings:
        raise SourceError("pvog", "http://127.0.0.1/x", f"HTTP 401: client id {CLIENT_ID}")

    monkeypatch.setattr(cli.Settings, "from_env", failing)
    assert cli.main(["run"]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("ozg: FAILED: pvog: HTTP 401: client id [redacted]") and CLIENT_ID not in err
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def leaks(root: Path, secrets: tuple[str, ...]) -> list[str]:
    """Every file under ``root`` (gzip bodies decompressed) that contains a secret."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        for secret in secrets:
            if secret.encode() in data:
                found.append(f"{path.relative_to(root)}: {secret}")
    return found


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """An alert endpoint on 127.0.0.1 that records each POST and answers 500."""
    received: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append((self.path, self.rfile.read(length)))
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sample_server() -> Iterator[str]:
    from sources.sample.server import serve_in_thread

    server, base = serve_in_thread(date(2026, 11, 1))
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


def test_secrets_never_reach_manifests_logs_or_metadata(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sample_server: str,
    webhook_receiver: tuple[str, list[tuple[str, bytes]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Live landing against the sample server with a client id and a webhook set, a
    failing run and its failure record and alerts; then every file written is scanned."""
    import dagster as dg

    from pipelines.defs import raw
    from pipelines.defs.automation import fehlerprotokoll, send_alert
    from pipelines.partitions import scope_key
    from pipelines.resources import OzgSettings

    data_dir = tmp_path / "data"
    clean_environment(monkeypatch)
    for name, prefix in (
        ("OZG_DASHBOARD_URL", "/dashboard"),
        ("OZG_PVOG_URL", "/pvog"),
        ("OZG_FIM_URL", "/fim"),
        ("OZG_DESTATIS_URL", "/destatis"),
    ):
        monkeypatch.setenv(name, sample_server + prefix)
    monkeypatch.setenv("OZG_DATA_DIR", str(data_dir))
    monkeypatch.setenv("OZG_HTTP_MIN_INTERVAL", "0")
    monkeypatch.setenv("OZG_PVOG_CLIENT_ID", CLIENT_ID)
    receiver, received = webhook_receiver
    webhooks = [
        f"{receiver}/hooks/{WEBHOOK_TOKEN}",  # answers 500
        f"http://127.0.0.1:{closed_port()}/hooks/{WEBHOOK_TOKEN}",  # connection refused
    ]
    secrets = (CLIENT_ID, WEBHOOK_TOKEN, *webhooks)
    caplog.set_level(logging.INFO)
    resources = {"ozg": OzgSettings(mode="live", data_dir=str(data_dir))}
    nationwide = [raw.raw_destatis_gv100ad, raw.raw_fim]  # partitioned by snapshot only
    (data_dir / "dagster").mkdir(parents=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        instance = dg.DagsterInstance.local_temp(str(data_dir / "dagster"))
    with instance:
        # The Bund export lands; then a run that fails: the server has no export of Wiesbaden.
        monkeypatch.setenv("OZG_PVOG_ARS", "000000000000")
        landed = [
            dg.materialize(
                nationwide, partition_key="2026-11-01", resources=resources, instance=instance
            ),
            dg.materialize(
                [raw.raw_pvog],
                partition_key=scope_key("06", "2026-11-01"),
                resources=resources,
                instance=instance,
            ),
        ]
        assert all(result.success for result in landed)
        monkeypatch.setenv("OZG_PVOG_ARS", "000000000000,064140000000")
        failed = dg.materialize(
            [raw.raw_pvog],
            partition_key=scope_key("06", "2026-10-01"),
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
        assert not failed.success
        for webhook in webhooks:
            monkeypatch.setenv("OZG_ALERT_WEBHOOK", webhook)
            fehlerprotokoll(
                dg.build_run_status_sensor_context(
                    sensor_name="fehlerprotokoll",
                    dagster_event=failed.get_run_failure_event(),
                    dagster_instance=instance,
                    dagster_run=failed.dagster_run,
                ).for_run_failure()
            )
        events = [
            event for result in (failed, *landed) for event in instance.all_logs(result.run_id)
        ]
    # What the sensor logs about each alert (its logger does not propagate to caplog).
    record = {"run_id": failed.run_id, "message": "x"}
    outcomes = [send_alert(webhook, record) for webhook in webhooks]

    manifest = data_dir / "raw" / "land=06" / "pvog" / "2026-11-01" / "manifest.json"
    assert manifest.is_file() and (data_dir / "runs" / "failures").is_dir()
    (path, body), _ = received  # the alert went out, with the failure record
    assert path == f"/hooks/{WEBHOOK_TOKEN}" and failed.run_id.encode() in body
    assert not any(secret.encode() in body for secret in secrets)
    host = receiver.removeprefix("http://")
    assert outcomes[0] == (False, f"alert webhook http://{host} answered HTTP 500")
    assert not outcomes[1][0] and "failed: ConnectionError" in outcomes[1][1]
    assert [s for s in secrets for _, words in outcomes if s in words] == []
    assert leaks(data_dir, secrets) == []
    # The scan reads the event log: the failed request's ARS is in it.
    assert {hit.split("/")[0] for hit in leaks(data_dir, ("064140000000",))} == {"dagster"}
    assert [s for s in secrets if s in caplog.text] == []
    assert [s for s in secrets for e in events if s in str(e)] == []
    # The scan itself finds a secret where there is one.
    (tmp_path / "probe.txt").write_text(f"x {CLIENT_ID} y")
    assert leaks(tmp_path, (CLIENT_ID,)) == [f"probe.txt: {CLIENT_ID}"]
