"""Flowdesk's data files, installed as ``flowdesk.resources``: ``icons/``,
``themes/``, ``examples/`` and ``branding/``. Code finds them with
``importlib.resources.files("flowdesk.resources")``, never by a path relative
to the source tree (see ``flowdesk.resources_path``)."""
