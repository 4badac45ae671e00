"""``python -m makerd`` is the same as the ``makerd`` command."""

import sys

from makerd.daemon.entry import main

sys.exit(main())
