"""The demo: the seed's example service on aioxmlrpc.server, and the tour of the examples.

``python -m aioxmlrpc serve-example`` serves :class:`ExampleService` with
:class:`ExampleServer`; ``python -m aioxmlrpc demo`` starts one on a free loopback port and
runs :func:`run_tour`, which runs the programs of ``examples/`` themselves.
"""

from ._service import ExampleServer, ExampleService
from ._tour import STEPS, load_example, run_tour

__all__ = ["STEPS", "ExampleServer", "ExampleService", "load_example", "run_tour"]
