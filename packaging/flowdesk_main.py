"""Entry point of the frozen Flowdesk (PyInstaller runs this as ``__main__``).

The same as the ``flowdesk`` console script (``flowdesk.cli:main``).
"""

import sys

from flowdesk.cli import main

if __name__ == "__main__":
    sys.exit(main())
