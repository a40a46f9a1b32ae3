"""The documentation site builds without a warning, and the README stays a front page."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None,
    reason="mkdocs is not installed (pip install -e '.[docs]'; .ci/run installs it)",
)
def test_the_site_builds_strict(tmp_path):
    """A broken link, a page left out of the nav or a docstring that does not parse
    fails the build (``strict: true`` in mkdocs.yml)."""
    mkdocs = Path(sys.executable).parent / "mkdocs"
    done = subprocess.run(
        [str(mkdocs), "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "index.html").stat().st_size > 100_000
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    nav = (ROOT / "mkdocs.yml").read_text()
    assert all(page in nav for page in pages), pages  # every page is in the nav


def test_the_readme_is_a_front_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    for link in ("docs/design.md", "docs/troubleshooting.md", "docs/your-data.md"):
        assert f"]({link})" in readme and (ROOT / link).is_file()
