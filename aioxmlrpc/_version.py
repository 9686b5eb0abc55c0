"""The package version, read by the build backend and by ``aioxmlrpc.__version__``."""

__version__ = "1.0.0.dev0"
