"""The hub image's inputs agree with each other: pins, build context, package data."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements-hub.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"requirements-hub.txt: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = version
    return pins


def test_every_runtime_dependency_is_pinned_within_its_bounds():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _pins()
    for spec in project["dependencies"]:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not pinned: run ./build.sh lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{req.name}=={pins[name]} is outside {req.specifier}: run ./build.sh lock"
        )


def test_build_context_allows_everything_the_dockerfile_copies():
    allowed = {
        line[1:].strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    copies = re.findall(r"^COPY (?!--from)(.+) \S+$", (ROOT / "Dockerfile").read_text(), re.M)
    for sources in copies:
        for source in sources.split():
            source = source.replace("[t]", "t")  # the optional build-ca.crt
            assert any(source == a or source.startswith(a + "/") for a in allowed), source
    # The context stays small: none of the heavy or private directories are sent.
    for private in (".venv", ".git", ".dev", "tests", "images"):
        assert not any(a == private or a.startswith(private + "/") for a in allowed)


def test_every_template_directory_is_package_data():
    # The image installs the package (not a checkout): templates must be package data.
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["portal"]
    for html in (ROOT / "portal").rglob("*.html"):
        rel = html.relative_to(ROOT / "portal").parent.as_posix()
        assert f"{rel}/*.html" in data, f"portal/{rel}/*.html is not package data"


def test_every_file_of_the_package_reaches_the_image():
    # Modules come with their packages; anything else (the store's migrations: alembic.ini, the
    # revision template, versions/*.py outside any package) only if package data names it.
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["portal"]
    package = ROOT / "portal"
    for path in package.rglob("*"):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        if path.suffix == ".py" and (path.parent / "__init__.py").exists():
            continue
        rel = path.relative_to(package).as_posix()
        assert any(fnmatch(rel, pattern) for pattern in data), f"portal/{rel} is not package data"
