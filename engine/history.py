"""Run history: every run (CLI or editor) recorded in an SQLite database in
the user data folder (``platformdirs``; ``FLOWDESK_DATA_DIR`` overrides it).

A run is written when it starts (status ``running``) and completed when it
ends, so a crash leaves a trace. Node outputs above ``max_output_bytes`` are
stored truncated with a marker (``TRUNCATED_KEY``) and are never reused as
upstream outputs of a partial run. Known secret values are redacted before
anything is stored.
May import: engine.redaction, engine.results, engine.safe_output, stdlib, platformdirs. Main class:
``HistoryStore``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .redaction import SecretForms
from .results import NodeResult, RunResult
from .safe_output import json_prefix, structural_size

#: a node result as stored (``json.dumps`` with these options would make an
#: encoder per call, twice per node of a 10,000-node run)
_TO_JSON = json.JSONEncoder(ensure_ascii=False, default=str).encode

TRUNCATED_KEY = "__flowdesk_truncated__"
DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024
PREVIEW_CHARS = 2_000
REDACTED = "[redacted]"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    workflow_name TEXT NOT NULL,
    workflow_path TEXT,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    duration_ms REAL,
    node_count INTEGER NOT NULL DEFAULT 0,
    usage TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (started_at);
CREATE INDEX IF NOT EXISTS runs_by_path ON runs (workflow_path, started_at);
CREATE TABLE IF NOT EXISTS node_results (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    node_id TEXT NOT NULL,
    result TEXT NOT NULL,
    output_bytes INTEGER NOT NULL DEFAULT 0,
    truncated INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, node_id)
);
"""


def default_data_dir() -> Path:
    """The user data folder (``FLOWDESK_DATA_DIR`` wins)."""
    override = os.environ.get("FLOWDESK_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("flowdesk", appauthor=False))


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: str
    workflow_name: str
    workflow_path: str | None
    source: str
    status: str
    started_at: str
    duration_ms: float | None
    node_count: int

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "workflow_name": self.workflow_name,
            "workflow_path": self.workflow_path,
            "source": self.source,
            "status": self.status,
            "started_at": self.started_at,
            "duration_ms": self.duration_ms,
            "node_count": self.node_count,
        }


#: how many characters of a run id are shown (like git's short hashes)
SHORT_ID = 8


def local_time(iso: str, now: datetime | None = None) -> str:
    """A stored UTC time as people read it, in local time: ``Today 10:32:05``
    or ``2026-11-20 10:32`` (the editor's Run History and ``flowdesk history``)."""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone()
    today = (now or datetime.now()).astimezone().date()
    if moment.date() == today:
        return "Today " + moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M")


def _to_stderr(message: str) -> None:
    sys.stderr.write(message + "\n")


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True  # (someone else's process: alive)
    return True


def is_truncated(value: Any) -> bool:
    return isinstance(value, dict) and value.get(TRUNCATED_KEY) is True


def _escaped_forms(forms: SecretForms) -> list[tuple[str, str | None]]:
    """The forms replaced inside the history's JSON text (at least
    ``MIN_SUBSTRING_CHARS`` characters), each with its JSON-escaped spelling
    when that differs. Shorter ones are replaced as whole values before
    serializing (``record_result``): inside text they would blank every such
    character."""
    pairs: list[tuple[str, str | None]] = []
    for secret in forms.inside:
        escaped = json.dumps(secret)[1:-1]
        pairs.append((secret, escaped if escaped != secret else None))
    return pairs


def _redact(text: str, forms: list[tuple[str, str | None]]) -> str:
    """Secrets replaced inside ``text`` (serialized JSON), as written and as
    JSON escapes them (``_escaped_forms``)."""
    for secret, escaped in forms:
        text = text.replace(secret, REDACTED)
        if escaped is not None:
            text = text.replace(escaped, REDACTED)
    return text


class HistoryStore:
    """The run history database. Safe to share between threads of one process."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    ) -> None:
        self.path = Path(path) if path is not None else default_data_dir() / "history.sqlite3"
        self.max_output_bytes = max_output_bytes
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        #: where warnings go (a damaged database moved aside): stderr by default
        self.notice: Callable[[str], None] = _to_stderr

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                db = self._open()
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError):
                    raise  # locked, read-only, …: not damage
                self._move_aside(exc)
                db = self._open()
            self._db = db
            self._mark_interrupted(db)
        return self._db

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
            if "pid" not in columns:
                db.execute("ALTER TABLE runs ADD COLUMN pid INTEGER")
            db.execute("SELECT count(*) FROM node_results").fetchone()
        except BaseException:
            db.close()
            raise
        return db

    def _move_aside(self, exc: BaseException) -> None:
        """A damaged database is renamed (never deleted) and a new one started."""
        stamp = time.strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            if source.exists():
                os.replace(source, f"{aside}{suffix}")
        self.notice(
            f"warning: the run history database {self.path} is damaged ({exc}); "
            f"moved it aside to {aside} and started a new one"
        )

    def _recover(self, exc: sqlite3.DatabaseError) -> None:
        """Damage found by a query: move the file aside (lock held)."""
        if isinstance(exc, sqlite3.OperationalError):
            raise exc
        if self._db is not None:
            self._db.close()
            self._db = None
        self._move_aside(exc)

    def _mark_interrupted(self, db: sqlite3.Connection) -> None:
        """Runs left ``running`` by a process that is gone (killed, or its
        result could not be recorded) become ``interrupted``."""
        rows = db.execute(
            "SELECT run_id, pid FROM runs WHERE status = 'running' AND pid IS NOT NULL"
        ).fetchall()
        gone = [(run_id,) for run_id, pid in rows if not _process_alive(pid)]
        if gone:
            with db:
                db.executemany(
                    "UPDATE runs SET status = 'interrupted'"
                    " WHERE run_id = ? AND status = 'running'",
                    gone,
                )

    def _query(self, action: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``action`` on the database; a damaged one is moved aside once."""
        with self._lock:
            try:
                return action(self._conn())
            except sqlite3.DatabaseError as exc:
                self._recover(exc)
                return action(self._conn())

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def record_start(
        self,
        run_id: str,
        workflow_name: str,
        started_at: str,
        *,
        workflow_path: str | None = None,
        source: str = "cli",
    ) -> None:
        def insert(db: sqlite3.Connection) -> None:
            with db:
                db.execute(
                    "INSERT OR REPLACE INTO runs (run_id, workflow_name, workflow_path, source,"
                    " status, started_at, pid) VALUES (?, ?, ?, ?, 'running', ?, ?)",
                    (run_id, workflow_name, workflow_path, source, started_at, os.getpid()),
                )

        self._query(insert)

    def record_result(
        self,
        result: RunResult,
        *,
        workflow_path: str | None = None,
        source: str = "cli",
        secrets: Iterable[str] = (),
    ) -> None:
        """Store a finished run (replacing its ``running`` row)."""
        # (split and escaped once, not per node)
        forms = SecretForms(secrets)
        inside = _escaped_forms(forms)
        whole_only = SecretForms(forms.whole)  # (the rest is replaced in the JSON text)
        rows = []
        for position, (node_id, node) in enumerate(result.nodes.items()):
            data = node.to_json()
            lower_bound = structural_size(data["output"], self.max_output_bytes)
            if lower_bound > self.max_output_bytes:
                # Certainly over the limit: never written out whole (a list
                # repeating one big list would take minutes and gigabytes).
                output_text = json_prefix(data["output"], PREVIEW_CHARS * 2)
                size = lower_bound
            else:
                output_text = _TO_JSON(data["output"])
                size = len(output_text.encode("utf-8"))
            truncated = size > self.max_output_bytes
            if truncated:
                data["output"] = {
                    TRUNCATED_KEY: True,
                    "size_bytes": size,
                    # the limit it went over (what the editor tells the user)
                    "limit_bytes": self.max_output_bytes,
                    # redacted before it is cut: a cut could keep a secret's prefix
                    "preview": _redact(output_text, inside)[:PREVIEW_CHARS],
                }
            if whole_only:  # (bounded: a big output is a preview now)
                data = whole_only.value(data, REDACTED)
            text = _redact(_TO_JSON(data), inside)
            rows.append((result.run_id, position, node_id, text, size, int(truncated)))
        usage = json.dumps(result.usage) if result.usage else None

        def store(db: sqlite3.Connection) -> None:
            with db:
                db.execute(
                    "INSERT OR REPLACE INTO runs (run_id, workflow_name, workflow_path, source,"
                    " status, started_at, duration_ms, node_count, usage)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        result.run_id,
                        result.workflow_name,
                        workflow_path,
                        source,
                        result.status,
                        result.started_at,
                        result.duration_ms,
                        len(result.nodes),
                        usage,
                    ),
                )
                db.execute("DELETE FROM node_results WHERE run_id = ?", (result.run_id,))
                db.executemany(
                    "INSERT INTO node_results (run_id, position, node_id, result, output_bytes,"
                    " truncated) VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )

        self._query(store)

    def list_runs(self, *, limit: int = 20, workflow_path: str | None = None) -> list[RunSummary]:
        """Newest first."""
        query = (
            "SELECT run_id, workflow_name, workflow_path, source, status, started_at,"
            " duration_ms, node_count FROM runs"
        )
        params: list[Any] = []
        if workflow_path is not None:
            query += " WHERE workflow_path = ?"
            params.append(workflow_path)
        query += " ORDER BY started_at DESC, rowid DESC LIMIT ?"
        params.append(limit)
        rows = self._query(lambda db: db.execute(query, params).fetchall())
        return [RunSummary(*row) for row in rows]

    def resolve_id(self, prefix: str) -> list[str]:
        """Run ids starting with ``prefix`` (so a short id works)."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._query(
            lambda db: db.execute(
                "SELECT run_id FROM runs WHERE run_id LIKE ? ESCAPE '\\' LIMIT 5",
                (escaped + "%",),
            ).fetchall()
        )
        return [row[0] for row in rows]

    def get_run(self, run_id: str) -> tuple[RunSummary, RunResult] | None:
        def fetch(db: sqlite3.Connection) -> tuple[Any, list[Any]]:
            row = db.execute(
                "SELECT run_id, workflow_name, workflow_path, source, status, started_at,"
                " duration_ms, node_count, usage FROM runs WHERE run_id = ?",
                (run_id,),
            ).fetchone()
            if row is None:
                return None, []
            nodes = db.execute(
                "SELECT node_id, result FROM node_results WHERE run_id = ? ORDER BY position",
                (run_id,),
            ).fetchall()
            return row, nodes

        row, nodes = self._query(fetch)
        if row is None:
            return None
        summary = RunSummary(*row[:8])
        result = RunResult(
            run_id=summary.run_id,
            status=summary.status,
            started_at=summary.started_at,
            duration_ms=summary.duration_ms or 0.0,
            nodes={node_id: NodeResult.from_json(json.loads(text)) for node_id, text in nodes},
            workflow_name=summary.workflow_name,
            usage=json.loads(row[8]) if row[8] else None,
        )
        return summary, result

    def move_runs(self, run_ids: Iterable[str], workflow_path: str) -> int:
        """File runs of a workflow that had no file yet under ``workflow_path``
        (its first save): only runs still without a path move. Returns how many."""
        ids = list(run_ids)
        if not ids:
            return 0

        def update(db: sqlite3.Connection) -> int:
            with db:
                marks = ", ".join("?" for _ in ids)
                cursor = db.execute(
                    f"UPDATE runs SET workflow_path = ? WHERE workflow_path IS NULL"
                    f" AND run_id IN ({marks})",
                    (workflow_path, *ids),
                )
                return int(cursor.rowcount)

        return int(self._query(update))

    def latest_result(self, workflow_path: str) -> RunResult | None:
        """The newest finished run of a workflow file, for partial runs."""
        for summary in self.list_runs(limit=10, workflow_path=workflow_path):
            if summary.status in ("running", "interrupted"):
                continue
            found = self.get_run(summary.run_id)
            if found is not None:
                result = found[1]
                # Truncated outputs cannot stand in for real ones.
                for node in result.nodes.values():
                    if is_truncated(node.output):
                        node.status = "skipped"
                        node.output = None
                return result
        return None
