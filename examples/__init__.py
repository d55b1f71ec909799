"""Reference services built with stepsaga (`stepsaga.examples.orders`)."""

__all__: tuple[str, ...] = ()
