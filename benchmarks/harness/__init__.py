"""The benchmark harness: `common` (shared helpers), one module per benchmark, `registry` (names), `compare`
(regressions against earlier records), `__main__` (the command line)."""
