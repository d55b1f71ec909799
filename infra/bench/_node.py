"""The optional Node peer, aws-local-stepfunctions: run only when already installed.

The bench never installs it: `npm install aws-local-stepfunctions` in the directory the bench
runs from (or a `NODE_PATH` that holds it) brings it in. Its executions are timed inside Node
(`process.hrtime`), one Node process per machine, so process start-up is not counted.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from stepsaga.infra.bench._check import check_outcome
from stepsaga.infra.bench._machines import BenchMachine
from stepsaga.infra.bench._peers import Outcome
from stepsaga.infra.bench._report import NODE_PEER, Budget, PeerInfo, PeerResult, Timing

# Reads a job on stdin, times executions within the budget, prints the samples and the last
# outcome. Task states are answered locally, shaped like a lambda:invoke response.
_RUNNER = r"""
if (!Promise.withResolvers) {
  // aws-local-stepfunctions 3 calls it; Node 20 lacks it
  Promise.withResolvers = () => {
    let resolve, reject;
    const promise = new Promise((yes, no) => { resolve = yes; reject = no; });
    return { promise, resolve, reject };
  };
}
const { StateMachine } = require('aws-local-stepfunctions');
let text = '';
process.stdin.on('data', (chunk) => { text += chunk; });
process.stdin.on('end', async () => {
  const job = JSON.parse(text);
  const machine = new StateMachine(job.definition, {
    validationOptions: { checkPaths: false, checkArn: false },
  });
  const handlers = {};
  for (const state of job.taskStates) {
    handlers[state] = async (input) => ({
      Payload: { ok: true, step: input.Payload.step, order: input.Payload.orderId },
    });
  }
  const options = { overrides: { taskResourceLocalHandlers: handlers } };
  const once = () => machine.run(job.input, options).result;
  const samples = [];
  const report = { samples, status: 'SUCCEEDED', output: null, error: null, cause: null };
  try {
    let spent = 0;
    for (let i = 0; i < job.warmup; i++) {
      const started = process.hrtime.bigint();
      report.output = await once();
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      if (elapsed > job.seconds / 4) {
        // as in the Python runner: a run this slow (real-time sleeps) counts as timed
        samples.push(elapsed);
        spent += elapsed;
        break;
      }
    }
    while (samples.length < job.maxRuns && (samples.length < job.minRuns || spent < job.seconds)) {
      const started = process.hrtime.bigint();
      report.output = await once();
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      samples.push(elapsed);
      spent += elapsed;
    }
  } catch (err) {
    report.status = 'FAILED';
    report.error = (err && (err.name || err.constructor.name)) || 'Error';
    report.cause = String(err && err.message);
  }
  process.stdout.write(JSON.stringify(report));
});
"""


def _node() -> str | None:
    return shutil.which("node")


def node_peer_info() -> PeerInfo:
    """Whether aws-local-stepfunctions can be run (never installed by the bench)."""
    node = _node()
    if node is None:
        return PeerInfo(NODE_PEER, available=False, note="node is not on PATH")
    try:
        found = subprocess.run(
            [node, "-e", f"require.resolve('{NODE_PEER}')"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return PeerInfo(NODE_PEER, available=False, note=f"node did not answer: {exc}")
    if found.returncode != 0:
        return PeerInfo(
            NODE_PEER,
            available=False,
            note=(
                f"not installed (`npm install {NODE_PEER}` to compare; the bench never installs it)"
            ),
        )
    return PeerInfo(NODE_PEER, available=True, note="timed inside Node (process.hrtime)")


class NodePeer:
    """aws-local-stepfunctions, timed in its own Node process per machine.

    Args:
        timeout: Seconds one machine may take in Node.
    """

    name = NODE_PEER

    def __init__(self, timeout: float = 120.0) -> None:
        self._timeout = timeout

    def supports(self, machine: BenchMachine) -> str | None:
        return None

    def measure(self, machine: BenchMachine, budget: Budget) -> PeerResult:
        """Time `machine` in Node within `budget` and check its last output."""
        node = _node()
        if node is None:
            return PeerResult(peer=self.name, skipped="node is not on PATH")
        states = machine.definition["States"]
        job = {
            "definition": machine.definition,
            "input": machine.input,
            "taskStates": [name for name, state in states.items() if state["Type"] == "Task"],
            "warmup": budget.warmup,
            "minRuns": budget.min_runs,
            "maxRuns": budget.max_runs,
            "seconds": budget.seconds,
        }
        try:
            done = subprocess.run(
                [node, "-e", _RUNNER],
                input=json.dumps(job),
                capture_output=True,
                text=True,
                timeout=self._timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return PeerResult(peer=self.name, problem=f"node: {exc}")
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            return PeerResult(peer=self.name, problem=f"node exited {done.returncode}: {tail}")
        report: dict[str, Any] = json.loads(done.stdout)
        outcome = Outcome(
            status=report["status"],
            output=report["output"] if report["status"] == "SUCCEEDED" else None,
            error=report["error"],
            cause=report["cause"],
        )
        samples = report["samples"]
        return PeerResult(
            peer=self.name,
            timing=Timing.of(samples) if samples else None,
            outcome=outcome,
            problem=check_outcome(machine, outcome) or (None if samples else "no timed runs"),
        )
