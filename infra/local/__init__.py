"""Local execution: the embedded Step Functions engine, local endpoints and moto wiring."""

__all__: tuple[str, ...] = ()
