"""Flowdesk's desktop editor (PySide6). ``editor.document`` is its Qt-free core;
everything else is the Qt side. Entry point: ``editor.app.main(argv)``."""
