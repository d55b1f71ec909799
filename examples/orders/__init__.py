"""The reference order service: the `PlaceOrder` command, its saga and its step handlers."""
