"""pytest plugins of the suite, loaded by the repository's conftest.py: the tiers
(:mod:`tests.plugins.tiers`), scheduling by measured durations
(:mod:`tests.plugins.durations`) and the figure check of every notebook cell
(:mod:`tests.plugins.figures`)."""
