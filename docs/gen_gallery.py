"""Writes docs/gallery.md from the docstrings of examples/*.py (run after editing them:
python docs/gen_gallery.py). A test checks the page is up to date."""

import ast
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def render():
    lines = [
        "# Gallery",
        "",
        "Each example is a short script in `examples/` that runs offline; the tests run a",
        "reduced version of each (`--quick`) and check its score.",
        "",
    ]
    for name in sorted(os.listdir(os.path.join(ROOT, "examples"))):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(ROOT, "examples", name)) as f:
            doc = ast.get_docstring(ast.parse(f.read())) or ""
        parts = [p.replace("\n", " ") for p in doc.split("\n\n")]
        body = [re.sub(r"\[(--[^\]]+)\]", r"`[\1]`", p) for p in parts]
        lines += [f"## `{name}`", ""] + [p + "\n" for p in body]
        figure = os.path.join("gallery", name[:-3] + ".png")
        if os.path.exists(os.path.join(ROOT, "docs", figure)):
            lines += [f"![{name} figure]({figure})", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    with open(os.path.join(ROOT, "docs", "gallery.md"), "w") as f:
        f.write(render())
