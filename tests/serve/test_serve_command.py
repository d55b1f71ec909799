"""`stepsaga serve` as a process: it prints where it listens, logs each request, and stops
cleanly on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from stepsaga.infra.cli import cli

PROGRAM = "import sys; from stepsaga.infra.cli import main; sys.argv[0] = 'stepsaga'; main()"


def test_serve_answers_over_http_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "STEPSAGA_DEV_KEY": ""}
    process = subprocess.Popen(
        [sys.executable, "-c", PROGRAM, "serve", "--port", "0", "--stores", "memory"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith("stepsaga serve: orders on http://127.0.0.1:"), banner
        url = banner.split(" on ", 1)[1].split()[0]
        port = url.rsplit(":", 1)[1]
        token = CliRunner(env={"XDG_CACHE_HOME": str(tmp_path), "STEPSAGA_DEV_KEY": ""}).invoke(
            cli, ["token", "--port", port, "--tenant", "acme", "--sub", "ann"]
        )
        assert token.exit_code == 0, token.output
        request = urllib.request.Request(
            f"{url}/executions/acme-0123456789abcdef",
            headers={"Authorization": f"Bearer {token.output.strip()}"},
        )
        try:
            urllib.request.urlopen(request, timeout=30)
        except urllib.error.HTTPError as error:
            assert error.code == 404
            assert json.loads(error.read())["error"]["code"] == "NotFound"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert out.rstrip().endswith("stepsaga serve: stopped")
    assert "GET /executions/acme-0123456789abcdef 404" in err
    assert "Traceback" not in err


def test_serve_refuses_an_invalid_tenant_by_name() -> None:
    result = CliRunner().invoke(cli, ["serve", "--tenant", "Bad#One"])
    assert result.exit_code == 2
    assert "--tenant" in result.output and "Traceback" not in result.output
