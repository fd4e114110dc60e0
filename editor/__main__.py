"""``python -m editor [FLOW] [--screenshot OUT.png]``: run the editor."""

import sys

from flowdesk.editor.app import main

if __name__ == "__main__":
    sys.exit(main())
