"""The send ledger: a message with an idempotency key is sent at most once in
``WINDOW_S`` (15 minutes), across retries, restarts and concurrent runs.

One SQLite file in the user data folder (``idempotency.sqlite3``; WAL, a
``BEGIN IMMEDIATE`` transaction per claim so that concurrent processes
serialise). A row per key: ``sending`` (claimed by one attempt, with a lease),
``sent`` (the result kept) or ``uncertain`` (the message was handed over but
the answer was lost — a dropped connection after the data: treated as sent,
never sent again). ``once`` runs a send under a claim: a key already sent
returns the first result with ``"deduplicated": true``; a key another attempt
is sending waits for it (then returns its result); a failed send whose message
certainly did not leave releases the key, so the retry sends.
May import: engine.errors, engine.history (data folder), stdlib.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from .errors import TransportError

WINDOW_S = 15 * 60.0
FILE_NAME = "idempotency.sqlite3"
_POLL_S = 0.05


class MaybeDelivered(Exception):
    """Raised by a send whose message may have arrived (connection dropped after
    the data): ``result`` is kept as sent, ``error`` is what the attempt reports."""

    def __init__(self, error: BaseException, result: dict[str, Any]) -> None:
        super().__init__(str(error))
        self.error = error
        self.result = result


class Ledger:
    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            from .history import default_data_dir

            path = default_data_dir() / FILE_NAME
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA busy_timeout=30000")
        db.execute(
            "CREATE TABLE IF NOT EXISTS sends (key TEXT PRIMARY KEY, state TEXT NOT NULL, "
            "owner TEXT NOT NULL, started REAL NOT NULL, lease_until REAL NOT NULL, "
            "finished REAL, result TEXT)"
        )
        return db

    def claim(self, key: str, owner: str, lease_s: float) -> tuple[str, dict[str, Any] | None]:
        """``("send", None)``: the caller sends; ``("done", result)``: already sent;
        ``("busy", None)``: another attempt is sending it now."""
        now = time.time()
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "DELETE FROM sends WHERE (state != 'sending' AND finished < ?) "
                "OR (state = 'sending' AND lease_until < ?)",
                (now - WINDOW_S, now),
            )
            row = db.execute("SELECT state, result FROM sends WHERE key = ?", (key,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO sends (key, state, owner, started, lease_until) "
                    "VALUES (?, 'sending', ?, ?, ?)",
                    (key, owner, now, now + lease_s),
                )
                db.execute("COMMIT")
                return "send", None
            db.execute("COMMIT")
            state, result = row
            if state == "sending":
                return "busy", None
            return "done", json.loads(result) if result else {}
        finally:
            db.close()

    def settle(self, key: str, owner: str, state: str, result: dict[str, Any]) -> None:
        db = self._connect()
        try:
            db.execute(
                "UPDATE sends SET state = ?, finished = ?, result = ? WHERE key = ? AND owner = ?",
                (state, time.time(), json.dumps(result), key, owner),
            )
        finally:
            db.close()

    def release(self, key: str, owner: str) -> None:
        db = self._connect()
        try:
            db.execute(
                "DELETE FROM sends WHERE key = ? AND owner = ? AND state = 'sending'", (key, owner)
            )
        finally:
            db.close()

    async def once(
        self,
        key: str,
        send: Callable[[], Awaitable[dict[str, Any]]],
        *,
        lease_s: float,
    ) -> dict[str, Any]:
        """``send()``'s result, or the first result of ``key`` (``deduplicated``)."""
        owner = uuid.uuid4().hex
        waited = 0.0
        while True:
            verdict, stored = await asyncio.to_thread(self.claim, key, owner, lease_s)
            if verdict == "done":
                return {**(stored or {}), "deduplicated": True}
            if verdict == "send":
                break
            if waited > lease_s:
                raise TransportError(
                    f"another run is still sending the message with idempotency key {key!r}",
                    code="IDEMPOTENCY_BUSY",
                    details={"idempotency_key": key},
                )
            await asyncio.sleep(_POLL_S)
            waited += _POLL_S
        try:
            result = await send()
        except MaybeDelivered as maybe:
            kept = {**maybe.result, "uncertain": True}
            await asyncio.shield(asyncio.to_thread(self.settle, key, owner, "uncertain", kept))
            raise maybe.error from maybe
        except BaseException:
            await asyncio.shield(asyncio.to_thread(self.release, key, owner))
            raise
        await asyncio.shield(asyncio.to_thread(self.settle, key, owner, "sent", result))
        return {**result, "deduplicated": False}
