"""Run the consumer's `__main__.py` under the mock runtime and print what it declared as JSON.

Runs inside the throwaway environment, so everything it imports comes from the installed
reliability-stack package; the first output line names where that package lives.
"""

import json
import runpy
import sys
from pathlib import Path

import yaml

import reliability_stack
from reliability_stack.preview.capture import capture_program
from reliability_stack.preview.mocks import RealisticMocks


class ConsumerMocks(RealisticMocks):
    """The shared mocks, answering data-source calls with an empty failure list (MockMonitor iterates it)."""

    def call(self, args):
        result, failures = super().call(args)
        return result, failures or []


def main(project_dir: Path, stack: str) -> None:
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())["name"]
    config = yaml.safe_load((project_dir / f"Pulumi.{stack}.yaml").read_text())["config"]
    captured = capture_program(lambda: runpy.run_path(str(project_dir / "__main__.py")),
                               project=project, stack=stack, config=config, mocks=ConsumerMocks("eu-west-1"))
    print(json.dumps({
        "package_file": reliability_stack.__file__,
        "exports": captured.exports,
        "resources": [r.to_plan() for r in captured.resources],
    }))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
