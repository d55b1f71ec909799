"""The pure domain model of a stepsaga service: commands, events, tenants, stream ids, errors."""

__all__: tuple[str, ...] = ()
