"""bulkimport: create Data Replication Service (DRS) tasks in bulk from an Excel workbook."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bulkimport")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
