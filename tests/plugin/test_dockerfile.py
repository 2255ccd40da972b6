"""The container image, read (no Docker engine runs here): a pinned slim Python 3.11, two stages
with the compilers in the first only, a non-root user, the plugin as the command, and nothing of
the checkout's secrets in the build context. The command itself is run by test_entry_point.py,
exactly as written here (support.dockerfile_command)."""

from __future__ import annotations

import json
import re

from tests.plugin.support import dockerfile_command
from tests.support.servers import ROOT

BUILD_PACKAGES = ("build-essential", "libjpeg-dev", "zlib1g-dev")


def stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), split at each FROM."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.replace("\\\n", " ").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    out: list[list[str]] = []
    for line in lines:
        if line.startswith("FROM "):
            out.append([])
        if out:
            out[-1].append(line)
    return out


def base_image() -> str:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    return re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)[1]


def test_base_image_is_a_pinned_slim_python_3_11() -> None:
    assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+", base_image()), base_image()
    for stage in stages():
        assert stage[0].split()[1] == "${PYTHON_IMAGE}", stage[0]


def test_compilers_only_in_the_build_stage() -> None:
    build, final = stages()[0], stages()[-1]
    assert len(stages()) == 2
    assert " AS build" in build[0]
    build_text, final_text = "\n".join(build), "\n".join(final)
    for package in BUILD_PACKAGES:
        assert package in build_text and package not in final_text, package
    assert re.search(r'pip install "\.\[pod\]"', build_text)
    assert "COPY --from=build /opt/venv /opt/venv" in final_text
    # Pillow (compiled against libjpeg) needs its runtime library in the final image.
    assert "libjpeg62-turbo" in final_text


def test_runs_as_a_non_root_user_with_the_plugin_as_its_command() -> None:
    final = stages()[-1]
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), users
    entrypoint = [json.loads(line.removeprefix("ENTRYPOINT ")) for line in final
                  if line.startswith("ENTRYPOINT ")]
    assert entrypoint == [["tini", "--", "python", "-m", "twitter_crawler.plugin"]]
    assert dockerfile_command()[1:] == ["-m", "twitter_crawler.plugin"]
    assert (ROOT / "twitter_crawler" / "plugin" / "__main__.py").is_file()


def test_the_build_context_leaves_secrets_and_local_state_out() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")}
    for name in ("settings_local.py", ".env", "*.sqlite3", ".venv/", ".git/", "crawls/", "jobs/"):
        assert name in ignored, name
    # What the build copies is not ignored.
    for needed in ("pyproject.toml", "README.md", "twitter_crawler/", "twitter_crawler"):
        assert needed not in ignored
