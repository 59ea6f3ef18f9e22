"""The analyzer protocol's generated modules, without the rest of the Pulumi SDK where it is not loaded.

The SDK ships them as `pulumi.runtime.proto.analyzer_pb2` and `analyzer_pb2_grpc`, and
importing them by those names runs `pulumi/__init__.py` first, which loads the whole SDK
(~100 ms of CPU). The policy session's worker process speaks the protocol and nothing
else of the SDK, and it starts while the program runs, on the core the program's threads
also use. So where the SDK is not loaded yet, the same files are loaded as modules of a
package of this module's own. Either way they describe the protocol from one descriptor
pool, so their messages are the SDK's (tests/preview/test_analyzer_protocol.py).
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

SDK_PACKAGE = "pulumi.runtime.proto"
OWN_PACKAGE = f"{__name__}._generated"


def _load() -> tuple[types.ModuleType, types.ModuleType]:
    if "pulumi" in sys.modules:  # the SDK is loaded: its modules cost nothing more
        package = SDK_PACKAGE
    else:
        package = OWN_PACKAGE
        if package not in sys.modules:
            sdk = importlib.util.find_spec("pulumi")
            if sdk is None or sdk.origin is None:
                raise ImportError("the Pulumi SDK (pulumi) is not installed", name="pulumi")
            own = types.ModuleType(package, "The SDK's pulumi/runtime/proto, its `__init__` not run.")
            own.__path__ = [str(Path(sdk.origin).parent / "runtime" / "proto")]
            sys.modules[package] = own
    return (importlib.import_module(f"{package}.analyzer_pb2"),
            importlib.import_module(f"{package}.analyzer_pb2_grpc"))


if not TYPE_CHECKING:
    analyzer_pb2, analyzer_pb2_grpc = _load()

__all__ = ["analyzer_pb2", "analyzer_pb2_grpc"]
