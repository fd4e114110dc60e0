"""Entry point of the frozen Flowdesk (PyInstaller runs this as ``__main__``).

The same as the ``flowdesk`` console script (``engine.cli:main``).
"""

import sys

from engine.cli import main

if __name__ == "__main__":
    sys.exit(main())
