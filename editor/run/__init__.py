"""Running workflows from the editor: the Qt-free ``RunState``, the engine
bridge (the one place that knows asyncio) and the run's panels."""
