"""``python -m editor [FLOW] [--screenshot OUT.png]``: run the editor."""

import sys

from editor.app import main

if __name__ == "__main__":
    sys.exit(main())
