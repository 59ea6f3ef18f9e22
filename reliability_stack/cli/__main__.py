"""`python -m reliability_stack.cli` is `relstack`."""

from reliability_stack.cli.main import main

main()
