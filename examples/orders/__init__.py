"""The reference order service: the `PlaceOrder` command, its saga and its step handlers.

A stepsaga service is a package laid out like this one: its commands (`commands.py`), its sagas
(`sagas.py`, exposing `SAGAS`) and its step handlers (`handlers.py`). The command line finds it
through `[tool.stepsaga] service = "stepsaga.examples.orders"` in `pyproject.toml` or `--service
MODULE`.
"""

from stepsaga.examples.orders.sagas import SAGAS

__all__ = ("SAGAS",)
