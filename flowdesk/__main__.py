"""``python -m flowdesk ...``: the same as the ``flowdesk`` command."""

import sys

from flowdesk.cli import main

if __name__ == "__main__":
    sys.exit(main())
