"""The analyzer protocol's generated modules, loaded without the rest of the Pulumi SDK.

The SDK ships them as `pulumi.runtime.proto.analyzer_pb2` and `analyzer_pb2_grpc`, and
importing them by those names runs `pulumi/__init__.py` first, which loads the whole SDK
(~100 ms of CPU). The policy session's worker process speaks the protocol and nothing else
of the SDK, and it starts while the program runs, on the core the program's threads also
use. So the same files are loaded as modules of a package of this module's own, in every
process: where the SDK is loaded too, both describe the protocol from the one descriptor
pool, and their messages are the same classes (tests/preview/test_analyzer_protocol.py).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

PACKAGE = f"{__name__}._generated"


def _load() -> tuple[types.ModuleType, types.ModuleType]:
    sdk = importlib.util.find_spec("pulumi")  # found, not imported
    if sdk is None or sdk.origin is None:
        raise ImportError("the Pulumi SDK (pulumi) is not installed", name="pulumi")
    package = types.ModuleType(PACKAGE, "The SDK's pulumi/runtime/proto, without its `__init__`.")
    package.__path__ = [str(Path(sdk.origin).parent / "runtime" / "proto")]
    sys.modules[PACKAGE] = package
    return importlib.import_module(f"{PACKAGE}.analyzer_pb2"), importlib.import_module(f"{PACKAGE}.analyzer_pb2_grpc")


if not TYPE_CHECKING:
    analyzer_pb2, analyzer_pb2_grpc = _load()

__all__ = ["analyzer_pb2", "analyzer_pb2_grpc"]
