"""The editor's tool sources: the catalogue of a workflow's tools (loaded on a
worker thread), the Sources panel (add from a file or URL, refresh, remove,
credential offer), the palette's tool entries and the inspector's tool form.
Wired into the window by ``install`` (one line in ``main_window``).
"""
