"""Sphinx configuration: numpydoc API reference and a sphinx-gallery built from examples/."""

import bayes_gmm

project = "bayes_gmm"
author = "bayes_gmm developers"
release = version = bayes_gmm.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
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
