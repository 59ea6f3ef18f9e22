"""Pulumi entry point of the reliability-stack project: the stack program lives in the package."""

from pathlib import Path

from reliability_stack.program import main

# SLO files and the image lock are read relative to the project, wherever Pulumi runs us from.
main(root=Path(__file__).resolve().parent)
