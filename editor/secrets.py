"""``SecretStatus``: whether each credential has a secret, looked up off the
UI thread (a keyring lookup goes over D-Bus and can block) and cached per
name until ``invalidate()`` (after the Credentials dialog changed something).
``FLOWDESK_SECRET_<NAME>`` counts as a stored secret, as it does at run time.
A keyring that cannot be used is reported once through ``unavailable`` and
its names count as missing; it never raises into the UI.
May import: PySide6, engine (credential modules), editor.workers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from flowdesk.editor.workers import run_in_thread
from flowdesk.engine import EnvSecretStore, FlowdeskError, tokens_key
from PySide6.QtCore import QObject, Signal
from shiboken6 import Shiboken

log = logging.getLogger(__name__)


class SecretStatus(QObject):
    """Cached answers to "is a secret stored for NAME?"."""

    #: some answers arrived or the cache was cleared
    changed = Signal()
    #: the keyring cannot be used: its message (emitted once per instance)
    unavailable = Signal(str)

    def __init__(self, store: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.env = EnvSecretStore()
        self._known: dict[str, bool] = {}
        self._pending: set[str] = set()
        self._generation = 0
        self.unavailable_message: str | None = None

    def has_secret(self, name: str) -> bool | None:
        """True / False when known; None while the lookup runs (started here)."""
        if name in self._known:
            return self._known[name]
        self.prefetch([name])
        return None

    def known(self, names: Iterable[str]) -> bool:
        return all(name in self._known for name in names)

    def prefetch(self, names: Iterable[str]) -> None:
        wanted = sorted({n for n in names if n not in self._known and n not in self._pending})
        if not wanted:
            return
        self._pending.update(wanted)
        generation = self._generation
        run_in_thread(
            lambda: self._lookup(wanted),
            lambda result, error: self._arrived(generation, wanted, result, error),
            name="secret-lookup",
        )

    def invalidate(self) -> None:
        """Forget every answer and look the names up again."""
        names = set(self._known) | self._pending
        self._generation += 1
        self._known.clear()
        self._pending.clear()
        self.changed.emit()
        self.prefetch(names)

    # ------------------------------------------------------------ worker
    def _lookup(self, names: list[str]) -> tuple[dict[str, bool], str | None]:
        """Runs on a worker thread: no Qt here."""
        found: dict[str, bool] = {}
        problem: str | None = None
        for name in names:
            if self.env.get_secret(name):
                found[name] = True
                continue
            try:
                # a signed-in OAuth2 credential counts (its client secret is optional)
                found[name] = bool(self.store.get_secret(name)) or bool(
                    self.store.get_secret(tokens_key(name))
                )
            except FlowdeskError as exc:
                problem = problem or exc.message
                found[name] = False
            except Exception as exc:  # a broken backend must not crash the editor
                log.debug("secret lookup failed", exc_info=True)
                problem = problem or f"The keyring could not be read: {exc}"
                found[name] = False
        return found, problem

    def _arrived(
        self,
        generation: int,
        names: list[str],
        result: tuple[dict[str, bool], str | None] | None,
        error: BaseException | None,
    ) -> None:
        if generation != self._generation or not Shiboken.isValid(self):
            return  # invalidated meanwhile (a newer lookup is on its way), or closed
        self._pending.difference_update(names)
        found, problem = result if result is not None else ({n: False for n in names}, None)
        if error is not None:
            problem = f"The keyring could not be read: {error}"
        self._known.update(found)
        if problem and self.unavailable_message is None:
            self.unavailable_message = problem
            self.unavailable.emit(problem)
        self.changed.emit()


#: (process-wide: a pure function of a node type class, which never changes)
_FIELDS: dict[type, tuple[tuple[str, Any], ...]] = {}


def credential_fields(node_type: type) -> tuple[tuple[str, Any], ...]:
    """The credential fields of a node type: (key, default) pairs."""
    found = _FIELDS.get(node_type)
    if found is None:
        from flowdesk.editor.document import UNSET
        from flowdesk.editor.inspector.form import field_specs

        try:
            specs = field_specs(node_type.config_schema())  # type: ignore[attr-defined]
        except Exception:  # a plug-in whose schema cannot be built
            log.debug("no config schema for %s", node_type, exc_info=True)
            specs = []
        found = tuple(
            (s.key, None if s.default is UNSET else s.default)
            for s in specs
            if s.kind == "credential"
        )
        _FIELDS[node_type] = found
    return found


def node_credentials(config: dict[str, Any], node_type: type | None) -> list[str]:
    """The credential names a node uses (its config, else the type's default);
    expressions are skipped (known only at run time)."""
    if node_type is None:
        return []
    names = []
    for key, default in credential_fields(node_type):
        value = config.get(key, default)
        if isinstance(value, str) and value and "{{" not in value:
            names.append(value)
    return names


def credential_uses(doc: Any, name: str) -> list[tuple[str, str]]:
    """Where credential ``name`` is used: (node id, config key) for each node
    field naming it, in its config or through its type's default."""
    found = []
    for node_id in doc.node_ids():
        node_type = doc.node_type(node_id)
        if node_type is None:
            continue
        config = doc.node(node_id).config
        for key, default in credential_fields(node_type):
            if config.get(key, default) == name:
                found.append((node_id, key))
    return found


def credential_users(doc: Any, name: str) -> list[str]:
    """The nodes that use credential ``name`` (their config, or their type's
    default), by title with the id where they differ: "“Fetch” (fetch)"."""
    found = []
    for node_id in dict.fromkeys(node_id for node_id, _ in credential_uses(doc, name)):
        title = doc.node(node_id).title or node_id
        found.append(f"“{title}”" + (f" ({node_id})" if title != node_id else ""))
    return found
