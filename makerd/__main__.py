"""``python -m makerd`` is the same as the ``makerd`` command."""

import sys

from makerd.daemon.cli import main

sys.exit(main())
