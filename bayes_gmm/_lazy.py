"""PyMC, PyTensor and ArviZ, imported on first use.

Together they take seconds to import, and only fitting needs PyMC and PyTensor: with
these stand-ins, ``import bayes_gmm`` costs little more than scikit-learn, and a fit
loaded from a file predicts without ever importing PyMC. A module-level ``pm.Normal`` or
``az.summary`` reads as usual; the import happens at the first attribute looked up.
"""

import importlib


class LazyModule:
    """A module's stand-in that imports it when one of its attributes is first read."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attribute):
        # importlib returns the cached module after the first call: a dict lookup.
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self):
        return f"<lazily imported module {self._name!r}>"


pm = LazyModule("pymc")
pt = LazyModule("pytensor.tensor")
az = LazyModule("arviz")
