"""The Lambda side of a saga: step, compensation and notification runtime and its ports."""

__all__: tuple[str, ...] = ()
