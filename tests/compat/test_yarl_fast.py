"""engine/compat/yarl_fast.py: yarl is still laid out as the fast path
expects. When it is not, URLs are parsed by yarl (slower, still right): this
test says so loudly instead of letting the fast path go quietly."""

from __future__ import annotations

import importlib.metadata

import httpx
from flowdesk.engine.compat import yarl_fast
from yarl import URL


def test_yarl_keeps_the_slots_the_fast_path_fills() -> None:
    version = importlib.metadata.version("yarl")
    assert yarl_fast._YARL_LAYOUT, (
        f"yarl {version}: URL.__slots__ is {getattr(URL, '__slots__', ())!r}; "
        "engine/compat/yarl_fast.py (checked against yarl 1.25.1) builds URLs by "
        "those slots and now parses every URL: update it"
    )


def test_an_origin_is_cached_after_its_first_url_matched_yarl() -> None:
    url = httpx.URL("http://127.0.0.1:8/compat/check?x=1")
    origins: yarl_fast.YarlOrigins = {}
    built = yarl_fast.yarl_url(url, origins)
    assert built == URL(str(url), encoded=True)
    assert origins[("http", "127.0.0.1", 8)] is not yarl_fast._PARSE
