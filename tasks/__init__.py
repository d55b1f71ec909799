"""The Lambda side of a saga: the step, compensation and notification handler runtime and its ports."""

__all__: tuple[str, ...] = ()
