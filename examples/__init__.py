"""Reference services built with stepsaga (`examples.orders`)."""

__all__: tuple[str, ...] = ()
