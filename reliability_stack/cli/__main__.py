"""`python -m reliability_stack.cli` is `relstack`."""

from reliability_stack.cli.main import app

app(prog_name="relstack")
