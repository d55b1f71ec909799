"""The reference order service: the `PlaceOrder` command, its saga and its step handlers.

A stepsaga service is a package laid out like this one: its commands (`commands.py`), its sagas
(`sagas.py`, exposing `SAGAS`) and its step handlers (`handlers.py`, exposing `HANDLERS`). The
command line finds it through `[tool.stepsaga] service = "stepsaga.examples.orders"` in
`pyproject.toml` or `--service MODULE`, and imports those modules itself.

This package imports none of them: every task Lambda imports it on the way to `lambda_entry`,
and should load only the handlers it runs.
"""

__all__: tuple[str, ...] = ()
