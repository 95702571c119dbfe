"""``python -m sparkless``: the same command as the ``sparkless`` console script."""

import sys

from sparkless.cli import main

sys.exit(main())
