"""The ``pasc`` command line: parse, call the Python API, print. No model logic here.

One module per group of commands; each defines plain click commands that are
registered on the ``main`` group below. Exit codes: 0 success
(targets may still fail: that is a result), 1 a failed target with
``--strict``, 2 bad input, with one message naming the file, the key path,
what was expected and what was found, 130 stopped by Ctrl-C, 143 by SIGTERM.
"""

from __future__ import annotations

import os
import sys

if "numpy" not in sys.modules:
    # pasc's arrays are small: OpenBLAS's pool of threads, one per core, would only
    # spin idle for a while once numpy loads, a tenth of a second of CPU taken from
    # the run. (A setting of the user's own is kept.)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from simulator.lifetime import kept_for_life

# The commands load what they need (pandas, pydantic, numpy...) once, for the whole
# process: out of the garbage collector's way (see simulator.lifetime).
with kept_for_life():
    import click

    from simulator.cli.check import check
    from simulator.cli.common import PascGroup
    from simulator.cli.fit import export_log, fit
    from simulator.cli.province import province
    from simulator.cli.report import compare, report
    from simulator.cli.run import run, schema, validate
    from simulator.cli.serve import serve
    from simulator.cli.staffing import erlang, quota, size_cmd
    from simulator.cli.sweep import sweep


@click.group(cls=PascGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pasc")
def main() -> None:
    """Simulate commune Public Administration Service Centers and size their staff."""


for command in (
    run,
    validate,
    schema,
    erlang,
    size_cmd,
    quota,
    sweep,
    check,
    compare,
    report,
    province,
    serve,
    fit,
    export_log,
):
    main.add_command(command)

__all__ = ["main"]
