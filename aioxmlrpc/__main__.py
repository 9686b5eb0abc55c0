"""``python -m aioxmlrpc``: see :mod:`aioxmlrpc._cli`."""

import sys

from ._cli import main

sys.exit(main())  # pragma: no cover - run as a process by the tests
