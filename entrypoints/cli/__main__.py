"""``python -m cbp.entrypoints.cli``: the ``cbp`` command."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
