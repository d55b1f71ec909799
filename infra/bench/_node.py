"""The optional Node peer, aws-local-stepfunctions: used only when already installed."""

from __future__ import annotations

import shutil
import subprocess

from infra.bench._report import PeerInfo

NODE = "aws-local-stepfunctions"


def node_peer_note() -> PeerInfo:
    """Whether the Node package aws-local-stepfunctions is there to compare against.

    The bench never installs it. It is not run as a peer yet; when present, the report says
    so, and the issue's figure for it (about 42 µs on the 6-state chain) is the moonshot.
    """
    node = shutil.which("node")
    if node is None:
        return PeerInfo(NODE, available=False, note="node is not on PATH")
    try:
        found = subprocess.run(
            [node, "-e", f"require.resolve('{NODE}')"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return PeerInfo(NODE, available=False, note=f"node did not answer: {exc}")
    if found.returncode != 0:
        return PeerInfo(
            NODE,
            available=False,
            note=f"not installed (`npm install {NODE}` to compare; the bench never installs it)",
        )
    return PeerInfo(NODE, available=False, note="installed, but not yet run by the bench")
