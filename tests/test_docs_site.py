"""The documentation site: every nav entry of mkdocs.yml is a page, and the site builds."""

import importlib.util
from pathlib import Path

import pytest

from tests.snippets import python_blocks, run_python

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "mkdocs.yml"


def _load_config():
    yaml = pytest.importorskip("yaml", reason="PyYAML (installed with mkdocs) is needed")

    class Loader(yaml.SafeLoader):
        """SafeLoader that reads tags it does not know (``!!python/name:...``) as None."""

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    return yaml.load(CONFIG.read_text(), Loader=Loader)


def _nav_files(entry):
    """The file paths of a nav entry, at any depth (external links excluded)."""
    if isinstance(entry, str):
        return [] if "://" in entry else [entry]
    if isinstance(entry, list):
        return [path for each in entry for path in _nav_files(each)]
    if isinstance(entry, dict):
        return [path for each in entry.values() for path in _nav_files(each)]
    raise AssertionError(f"Unexpected nav entry {entry!r}")


def test_every_nav_entry_is_a_page_under_docs():
    config = _load_config()
    docs = ROOT / config.get("docs_dir", "docs")
    files = _nav_files(config["nav"])
    assert "index.md" in files
    missing = [path for path in files if not (docs / path).is_file()]
    assert not missing, f"nav entries without a file under {docs}: {missing}"
    assert len(files) == len(set(files)), "a page is listed twice in the nav"


def test_every_api_page_documents_a_module_of_the_package():
    docs = ROOT / _load_config().get("docs_dir", "docs")
    pages = sorted((docs / "api").glob("*.md"))
    assert pages
    for page in pages:
        targets = [
            line.removeprefix(":::").strip()
            for line in page.read_text().splitlines()
            if line.startswith(":::")
        ]
        assert targets, f"{page.name} documents no object"
        for target in targets:
            path = ROOT / Path(*target.split("."))
            assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), (
                f"{page.name}: no module {target}"
            )


@pytest.mark.slow
def test_site_builds_in_strict_mode(tmp_path):
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip('mkdocs is not installed (pip install -e ".[dev]" installs it)')
    completed = run_python(
        "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site"), cwd=ROOT
    )
    assert completed.returncode == 0, completed.stderr[-5000:]
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "api" / "metrics" / "index.html").is_file()


GUIDE_PAGES = [ROOT / "docs" / "index.md", *sorted((ROOT / "docs" / "guide").glob("*.md"))]
# Each page's snippets continue one another: they run as one script, in order. The serving
# page reads the main job's SavedModel; tests/test_serving_raw_rows.py covers those calls.
GUIDE_SCRIPTS = {
    page.name: "\n".join(snippets)
    for page in GUIDE_PAGES
    if (snippets := python_blocks(page.read_text()))
    and not any("saved_models/" in snippet for snippet in snippets)
}


def test_the_guide_pages_have_snippets():
    assert {"passing-s.md", "inference-modes.md", "search.md"} <= set(GUIDE_SCRIPTS)


@pytest.mark.parametrize("page", sorted(GUIDE_SCRIPTS))
def test_guide_page_snippets_run_in_order(page, tmp_path):
    completed = run_python("-c", GUIDE_SCRIPTS[page], cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr[-3000:]
