"""Workflows: the typed ASL model, the saga DSL and its compiler to ASL, graph rendering."""

__all__: tuple[str, ...] = ()
