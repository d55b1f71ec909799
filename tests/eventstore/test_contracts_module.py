"""The contract classes are public, pinned, and left out of the runtime a Lambda imports."""

from __future__ import annotations

import inspect

from stepsaga.testing import contracts
from stepsaga.testing.contracts import EventStoreContract, NotifierContract


def test_the_contracts_module_exports_the_two_contract_classes() -> None:
    assert contracts.__all__ == ("EventStoreContract", "NotifierContract")
    for contract in (EventStoreContract, NotifierContract):
        assert inspect.isabstract(contract)
        assert not contract.__name__.startswith("Test")  # pytest collects only subclasses


def test_each_contract_states_its_promises_as_tests() -> None:
    promises = {
        contract: [name for name in dir(contract) if name.startswith("test_")]
        for contract in (EventStoreContract, NotifierContract)
    }
    assert len(promises[EventStoreContract]) >= 40
    assert len(promises[NotifierContract]) >= 5
    store = " ".join(promises[EventStoreContract])
    for promise in ("re_append", "transaction", "snapshot", "fence", "find"):
        assert promise in store, promise
