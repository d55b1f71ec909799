"""The query library, imported when the first expression that needs it is compiled.

jsonata-python evaluates JSONata expressions (JSONPath, filters included, is stepsaga's own:
``_jsonpath``). It comes with the ``stepsaga[local]`` extra, not with the lean runtime a task
Lambda installs: importing the ASL model, or validating and compiling a definition without
JSONata (a compiled saga), works without it. A module is imported once and kept; compiled
expressions hold what they use, so evaluation never looks a library up.
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import Final

#: What to install for the libraries an expression may need.
INSTALL_HINT: Final = "pip install 'stepsaga[local]'"


class MissingQueryLibraryError(ImportError):
    """A definition needs a query library this install does not have.

    Attributes:
        library: the distribution that is missing, e.g. ``"jsonata-python"``.
        purpose: what needs it, e.g. ``"JSONata expressions"``.
    """

    def __init__(self, library: str, purpose: str, module: str) -> None:
        super().__init__(
            f"{purpose} need the {library} library, which this install lacks: {INSTALL_HINT}",
            name=module,
        )
        self.library = library
        self.purpose = purpose


@functools.cache
def load(module: str, library: str, purpose: str) -> ModuleType:
    """Import ``module`` once (later calls return the same module).

    Args:
        module: the module to import, e.g. ``"jsonata"``.
        library: the distribution that provides it, named in the error.
        purpose: what needs it, named in the error.

    Raises:
        MissingQueryLibraryError: the module cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingQueryLibraryError(library, purpose, module) from exc
