"""Step Functions ARNs: what kind of resource one names, refused as AWS refuses a wrong one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from stepsaga.infra.local.stepfunctions.api._errors import InvalidArn

# arn:<partition>:states:<region>:<account>:<kind>:<rest>
_ARN: Final = re.compile(
    r"arn:(?P<partition>aws(?:-[a-z]+)*):states:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"(?P<kind>[A-Za-z]+):(?P<rest>.+)"
)
_ROLE: Final = re.compile(r"arn:aws(?:-[a-z]+)*:iam::\d{12}:role/.+")
EXPRESS: Final = "express"
EXECUTION: Final = "execution"
STATE_MACHINE: Final = "stateMachine"
ACTIVITY: Final = "activity"


@dataclass(frozen=True, slots=True)
class ParsedArn:
    """A Step Functions ARN, in parts.

    Attributes:
        text: the ARN as given.
        kind: ``stateMachine``, ``execution``, ``express`` or ``activity``.
        parts: what follows the kind, split on ``:`` (a machine's name and qualifier, an
            execution's machine and name ...).
    """

    text: str
    kind: str
    parts: tuple[str, ...]


def parse(text: str, *kinds: str) -> ParsedArn:
    """Read ``text`` as an ARN of one of ``kinds``.

    Raises:
        InvalidArn: it is no Step Functions ARN, or one of another kind (AWS's words:
            ``Resource type not valid in this context: <kind>``).
    """
    match = _ARN.fullmatch(text)
    if match is None:
        raise InvalidArn(f"Invalid Arn: '{text}'")
    kind = match["kind"]
    if kind not in kinds:
        raise InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {kind.lower()}'")
    parts = tuple(match["rest"].split(":"))
    if any(not part for part in parts) or not _well_formed(kind, parts):
        raise InvalidArn(f"Invalid Arn: '{text}'")
    return ParsedArn(text, kind, parts)


def _well_formed(kind: str, parts: tuple[str, ...]) -> bool:
    if kind == STATE_MACHINE:
        return len(parts) in (1, 2)  # a name, and maybe a version or an alias
    if kind == EXECUTION:
        return len(parts) == 2
    if kind == EXPRESS:
        return len(parts) == 3
    return len(parts) == 1  # activity


def check_role_arn(text: str) -> None:
    """Refuse a role ARN that is not an IAM role's.

    Raises:
        InvalidArn: it is not ``arn:aws:iam::<account>:role/<name>``.
    """
    if _ROLE.fullmatch(text) is None:
        raise InvalidArn(f"Invalid Arn: 'Role ARN is not valid: {text}'")
