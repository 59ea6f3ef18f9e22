"""The analyzer protocol's modules: the SDK's where it is loaded, the same files without it in the policy worker."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from pulumi.runtime.proto import analyzer_pb2 as sdk_analyzer_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc as sdk_analyzer_pb2_grpc

from reliability_stack.preview import analyzer_protocol


def _fresh_interpreter(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_where_the_sdk_is_loaded_its_modules_are_used():
    assert analyzer_protocol.analyzer_pb2 is sdk_analyzer_pb2
    assert analyzer_protocol.analyzer_pb2_grpc is sdk_analyzer_pb2_grpc


def test_the_policy_worker_speaks_the_protocol_without_loading_the_sdk():
    # What `python -m reliability_stack.preview.policy_session` imports before it serves.
    loaded = _fresh_interpreter("""
        import sys
        import reliability_stack.preview.policy_session
        from reliability_stack.preview.analyzer import analyzer_pb2, analyzer_pb2_grpc
        print(sorted(name for name in sys.modules if name == "pulumi" or name.startswith("pulumi.")))
        print(analyzer_pb2.__name__, analyzer_pb2_grpc.AnalyzerStub.__name__)
    """).splitlines()
    assert loaded == ["[]", f"{analyzer_protocol.OWN_PACKAGE}.analyzer_pb2 AnalyzerStub"]


def test_its_messages_are_the_sdks_when_the_sdk_loads_later():
    # The CLI imports the analyzer before the stack program brings in the SDK: both then load
    # the same proto files into one descriptor pool, which must neither fail nor disagree.
    answer = _fresh_interpreter("""
        from reliability_stack.preview.analyzer_protocol import analyzer_pb2
        request = analyzer_pb2.AnalyzeRequest(type="aws:s3/bucket:Bucket", urn="urn:x", name="logs")
        from pulumi.runtime.proto import analyzer_pb2 as sdk
        assert request.DESCRIPTOR.full_name == sdk.AnalyzeRequest.DESCRIPTOR.full_name
        print(sdk.AnalyzeRequest.FromString(request.SerializeToString()).name)
    """)
    assert answer == "logs"
