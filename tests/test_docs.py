"""The documentation site builds with `mkdocs build --strict` (the [docs] extra) and the
gallery page lists every example."""

import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(__file__))


def test_mkdocs_build_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    mkdocs = shutil.which("mkdocs", path=os.path.dirname(sys.executable))
    cmd = [mkdocs] if mkdocs else [sys.executable, "-m", "mkdocs"]
    r = subprocess.run(
        cmd + ["build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "site" / "index.html").exists()


def test_gallery_lists_every_example():
    with open(os.path.join(ROOT, "docs", "gallery.md")) as f:
        gallery = f.read()
    for name in os.listdir(os.path.join(ROOT, "examples")):
        if name.endswith(".py"):
            assert f"`{name}`" in gallery, name


def test_gallery_page_is_generated_from_the_examples():
    sys.path.insert(0, os.path.join(ROOT, "docs"))
    import gen_gallery

    with open(os.path.join(ROOT, "docs", "gallery.md")) as f:
        assert f.read() == gen_gallery.render(), "run: python docs/gen_gallery.py"
