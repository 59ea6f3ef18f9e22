"""boto3 clients for the runtime tools: explicit timeouts, bounded retries, one error type.

Every call the tools make to AWS goes through `AwsClients.call`, so a throttled or failing
API ends as a `RuntimeToolError` that names the service, the operation and the number of
attempts, never as a botocore traceback. Retries are botocore's own (`standard` or
`adaptive` mode) with a hard `max_attempts`; nothing here loops on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
)

from reliability_stack.errors import InputError, RuntimeToolError

RetryMode = Literal["standard", "adaptive"]

#: (token in a response, parameter that asks for the next page)
_PAGE_TOKENS = (("NextToken", "NextToken"), ("NextMarker", "Marker"), ("Marker", "Marker"))


@dataclass(frozen=True)
class ClientSettings:
    """How the tools talk to AWS. Defaults suit a CI job: fail within about a minute, not an hour."""

    region: str
    endpoint_url: str | None = None
    """Send every call to this URL instead of AWS (moto server in tests, a VPC endpoint in CI)."""
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    max_attempts: int = 4
    """Total attempts per call, the first one included (botocore's `max_attempts`)."""
    retry_mode: RetryMode = "standard"

    def __post_init__(self) -> None:
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise InputError("timeouts must be positive seconds", field="--connect-timeout/--read-timeout")
        if not 1 <= self.max_attempts <= 10:
            raise InputError("max attempts must be between 1 and 10", field="--max-attempts")
        if self.retry_mode not in ("standard", "adaptive"):
            raise InputError("retry mode must be 'standard' or 'adaptive'", field="--retry-mode")

    def botocore_config(self) -> Config:
        """The botocore Config that carries the timeouts and the retry bound."""
        return Config(
            region_name=self.region,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
        )


ClientHook = Callable[[Any], None]


def _process_session() -> boto3.session.Session:
    """boto3's process-wide session: its loader keeps parsed service models, which cost far
    more to load than a call takes (tests and long-lived callers build many client caches)."""
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    return boto3.DEFAULT_SESSION


@dataclass
class AwsClients:
    """A small cache of boto3 clients, one per (service, region), built from `ClientSettings`.

    `on_client` hooks run on each new client (tests use them to inject faults through
    botocore's event system).
    """

    settings: ClientSettings
    on_client: list[ClientHook] = field(default_factory=list)
    _session: boto3.session.Session = field(default_factory=_process_session)
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    def client(self, service: str, region: str | None = None) -> Any:
        """The client of `service` in `region` (the settings' region by default)."""
        region = region or self.settings.region
        key = (service, region)
        if key not in self._cache:
            settings = replace(self.settings, region=region)
            try:
                client = self._session.client(service, region_name=region, endpoint_url=settings.endpoint_url,
                                              config=settings.botocore_config())
            except (NoRegionError, ValueError) as exc:
                raise InputError(f"cannot create a {service} client: {exc}", field="--region") from None
            for hook in self.on_client:
                hook(client)
            self._cache[key] = client
        return self._cache[key]

    def call(self, service: str, operation: str, *, region: str | None = None, **params: Any) -> dict[str, Any]:
        """Call one API operation; failures become a RuntimeToolError with a one-line reason."""
        client = self.client(service, region)
        try:
            response: dict[str, Any] = getattr(client, operation)(**params)
        except ClientError as exc:
            raise RuntimeToolError(self._client_error_message(service, operation, region, exc)) from None
        except (ConnectTimeoutError, ReadTimeoutError, EndpointConnectionError) as exc:
            raise RuntimeToolError(
                f"{service} {operation} in {region or self.settings.region}: {exc} "
                f"(gave up after {self.settings.max_attempts} attempts)") from None
        except NoCredentialsError:
            raise RuntimeToolError(
                f"{service} {operation}: no AWS credentials (CI assumes a role through OIDC; locally set a profile)"
            ) from None
        except BotoCoreError as exc:
            raise RuntimeToolError(f"{service} {operation} in {region or self.settings.region}: {exc}") from None
        return response

    def paginate(self, service: str, operation: str, result_key: str, *, region: str | None = None,
                 **params: Any) -> Iterator[Any]:
        """Every item under `result_key` across the pages of `operation`.

        Continuation tokens as the describe APIs spell them: `NextToken` (Auto Scaling,
        CloudWatch), `Marker` (RDS, ElastiCache), `NextMarker` answered with `Marker` (ELBv2).
        """
        request = dict(params)
        while True:
            page = self.call(service, operation, region=region, **request)
            yield from page.get(result_key, [])
            token = next(((request_name, page[name]) for name, request_name in _PAGE_TOKENS if page.get(name)), None)
            if token is None:
                return
            request[token[0]] = token[1]

    def _client_error_message(self, service: str, operation: str, region: str | None, exc: ClientError) -> str:
        error = exc.response.get("Error", {})
        metadata = exc.response.get("ResponseMetadata", {})
        attempts = metadata.get("RetryAttempts", 0) + 1
        status = metadata.get("HTTPStatusCode", "?")
        code = error.get("Code", "Unknown")
        message = error.get("Message", "").strip()
        retried = f"after {attempts} attempt{'s' if attempts != 1 else ''}"
        return (f"{service} {operation} in {region or self.settings.region} failed {retried}: "
                f"{code} (HTTP {status}){': ' + message if message else ''}")
