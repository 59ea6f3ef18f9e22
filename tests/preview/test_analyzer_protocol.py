"""The analyzer protocol's modules: the SDK's files, loaded without the SDK, and the SDK's classes where both are loaded."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from reliability_stack.preview import analyzer_protocol


def _fresh_interpreter(code: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_policy_worker_speaks_the_protocol_without_loading_the_sdk():
    # What `python -m reliability_stack.preview.policy_session` imports before it serves.
    loaded = _fresh_interpreter("""
        import sys
        import reliability_stack.preview.policy_session
        from reliability_stack.preview.analyzer import analyzer_pb2, analyzer_pb2_grpc
        print(len([name for name in sys.modules if name == "pulumi" or name.startswith("pulumi.")]))
        print(analyzer_pb2.__name__, analyzer_pb2_grpc.AnalyzerStub.__name__)
    """)
    assert loaded == ["0", f"{analyzer_protocol.PACKAGE}.analyzer_pb2", "AnalyzerStub"]


@pytest.mark.parametrize("sdk_first", [True, False], ids=["sdk-loaded-first", "sdk-loaded-later"])
def test_where_the_sdk_is_loaded_too_its_messages_are_the_same_classes(sdk_first):
    # The CLI loads these before the stack program brings in the SDK; tests load either first.
    own = "from reliability_stack.preview.analyzer_protocol import analyzer_pb2"
    sdk = "from pulumi.runtime.proto import analyzer_pb2 as sdk_pb2"
    answer = _fresh_interpreter(f"""
        {sdk if sdk_first else own}
        {own if sdk_first else sdk}
        request = analyzer_pb2.AnalyzeRequest(type="aws:s3/bucket:Bucket", urn="urn:x", name="logs")
        print(analyzer_pb2.AnalyzeRequest is sdk_pb2.AnalyzeRequest, isinstance(request, sdk_pb2.AnalyzeRequest))
        print(sdk_pb2.AnalyzeRequest.FromString(request.SerializeToString()).name)
    """)
    assert answer == ["True", "True", "logs"]
