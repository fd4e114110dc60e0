"""Shared test setup: a private user data folder (run history) per session, so
tests never touch the real one, and Qt kept offscreen for GUI tests."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["FLOWDESK_DATA_DIR"] = tempfile.mkdtemp(prefix="flowdesk-test-data-")
