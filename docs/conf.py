"""Sphinx configuration: numpydoc API reference and a sphinx-gallery built from examples/."""

import re
from pathlib import Path

from sphinx.errors import ExtensionError

import bayes_gmm

project = "bayes_gmm"
author = "bayes_gmm developers"
release = version = bayes_gmm.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # Ships MathJax and points mathjax_path at the copy in _static: the maths renders
    # without internet (sphinx.ext.mathjax alone loads it from a CDN).
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
# _templates/autosummary/class.rst documents every method on the class's page.
templates_path = ["_templates"]
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
html_theme = "pydata_sphinx_theme"
html_title = "bayes_gmm"
exclude_patterns = ["_build"]

# Built offline: no inventories are fetched.
intersphinx_mapping = {}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    # Run every example on every build, not only those edited since the last one: a change
    # to the package can break an example that did not change. This build is where CI
    # executes the gallery (once); an example that raises fails the build.
    "run_stale_examples": True,
}


def _check_mathjax_is_local(app, exception):
    """Fail the build if a page would fetch MathJax from the internet, or its copy is missing.

    Runs after sphinx-mathjax-offline has copied MathJax into _static (priority 900).
    """
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    remote = sorted(
        str(page.relative_to(outdir))
        for page in outdir.rglob("*.html")
        if re.search(r'<script[^>]*src="(https?:)?//[^"]*mathjax', page.read_text(), re.I)
    )
    local = outdir / "_static" / app.config.mathjax_path
    if remote or not local.is_file():
        raise ExtensionError(
            f"MathJax must be served from the built site: pages loading it remotely: "
            f"{remote or 'none'}; {local} {'exists' if local.is_file() else 'is missing'}"
        )


def setup(app):
    app.connect("build-finished", _check_mathjax_is_local, priority=900)
