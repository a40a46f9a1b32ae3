"""The wheel ships every package of the source tree and every file the code reads."""

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_and_its_data_is_declared():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "seqsal").rglob("__init__.py")
    }
    assert set(config["packages"]) == packages
    data = config["package-data"]["seqsal"]
    shipped = {
        p for p in (ROOT / "seqsal").rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")
    }
    assert {
        str(p.relative_to(ROOT / "seqsal")) for p in shipped if "__pycache__" not in p.parts
    } <= set(data)


def test_one_version():
    """seqsal.__version__ is the version: pyproject reads it, CITATION.cff says it."""
    import seqsal

    assert "version" in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dynamic"]
    cited = (ROOT / "CITATION.cff").read_text()
    assert f"\nversion: {seqsal.__version__}\n" in cited
