"""CI's lint step (scripts/lint.sh: ruff and mypy --strict with pyproject.toml's settings, run by
.ci/run before the tests) fails on a finding, so a mistake of either kind stops a submission."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.servers import ROOT

BIN = Path(sys.executable).parent


def run(tool: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / tool), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)


def test_a_finding_fails_the_step(tmp_path: Path) -> None:
    """The same settings on a copy of the package with one untyped, unused-import module."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    package = tmp_path / "twitter_crawler"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "bad.py").write_text("import os\n\n\ndef untyped(x):\n    return x\n")
    ruff = run("ruff", "check", ".", cwd=tmp_path)
    assert ruff.returncode == 1 and "F401" in ruff.stdout, ruff.stdout
    mypy = run("mypy", cwd=tmp_path)
    assert mypy.returncode == 1 and "no-untyped-def" in mypy.stdout, mypy.stdout
