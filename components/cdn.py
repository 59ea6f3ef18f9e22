"""CloudFront distribution that fails over between two origins and degrades gracefully.

With two origins (in `prod`, the ALBs of two regions) the default behaviour targets an
origin group that retries a request on the secondary when the primary answers 500, 502,
503 or 504 or cannot be reached. CloudFront fails over only GET, HEAD and OPTIONS, so a
behaviour that allows writes on an origin group is rejected; send writes to the primary
through `write_path_patterns` instead. Failover is fast because each origin gets few, short
connection attempts (attempts x connect timeout is the delay before the secondary) and a
read timeout below the ALB idle timeout (the edge gives up, and fails over, before the ALB
answers 504 itself). Errors are cached for seconds, not minutes, and the cache policy
keeps objects long enough for the origin's `Cache-Control: stale-if-error` to serve stale
content while the origins are down.

Viewers: redirect to HTTPS, TLS 1.2 (2021 ciphers) or newer, HTTP/2 and HTTP/3, IPv6.
Standard logs go to a protected, encrypted, versioned S3 bucket with a lifecycle rule.

Usage::

    from reliability_stack.components.cdn import Cdn, CdnArgs, CdnOrigin

    cdn = Cdn("checkout-cdn", CdnArgs(
        service="checkout",
        origins=[CdnOrigin(origin_id="us-east-1", domain_name="origin-use1.example.com"),
                 CdnOrigin(origin_id="us-west-2", domain_name="origin-usw2.example.com")],
        aliases=["checkout.example.com"],
        certificate_arn=certificate.arn,       # ACM certificate in us-east-1
        alb_idle_timeout_seconds=60,           # read timeout defaults below it (30 s)
        web_acl_arn=edge.web_acl_arn,          # EdgeProtection(scope="CLOUDFRONT")
        write_path_patterns=["/api/orders*"],  # POST/PUT go to the primary, no failover
    ))
"""

# No `from __future__ import annotations`: the component provider reads these annotations
# at runtime to build the package schema.
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from reliability_stack.errors import ComponentArgsError
from reliability_stack.resource_tags import standard_tags

TYPE_TOKEN = "reliability-stack:cdn:Cdn"
COMPONENT = "Cdn"

READ_ONLY_METHODS = ("GET", "HEAD")
READ_ONLY_WITH_OPTIONS = ("GET", "HEAD", "OPTIONS")
ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
NON_IDEMPOTENT_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The three method sets CloudFront accepts on a behaviour.
ALLOWED_METHOD_SETS = (frozenset(READ_ONLY_METHODS), frozenset(READ_ONLY_WITH_OPTIONS), frozenset(ALL_METHODS))
FAILOVER_STATUS_CODES = frozenset({403, 404, 416, 500, 502, 503, 504})
VIEWER_TLS_POLICIES = ("TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025")
# AWS managed cache policy "CachingDisabled": writes must never be cached.
CACHING_DISABLED_POLICY_ID = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
PRICE_CLASSES = ("PriceClass_All", "PriceClass_200", "PriceClass_100")


@dataclass
class CdnOrigin:
    """One custom (HTTPS) origin, typically a regional ALB or a regional DNS name in front of it."""

    origin_id: str
    """Stable id of the origin inside the distribution, e.g. the region name."""

    domain_name: pulumi.Input[str]
    """DNS name CloudFront connects to; the origin must present a certificate valid for it."""

    https_port: int = 443
    """HTTPS port of the origin."""


@dataclass
class CdnArgs:
    """Arguments of `Cdn`. Defaults are the resilient choice; each knob says what it turns down."""

    service: str
    """Service behind the distribution (tag `reliability-stack:service`)."""

    origins: list[CdnOrigin]
    """One or two origins; with two, the first is primary and the second takes over on 5xx."""

    aliases: list[str] = field(default_factory=list)
    """Viewer host names (CNAMEs); they require `certificate_arn`."""

    certificate_arn: pulumi.Input[str] | None = None
    """ACM certificate in us-east-1 for the aliases. Required unless `allow_default_certificate`."""

    allow_default_certificate: bool = False
    """Knob: serve on *.cloudfront.net with CloudFront's certificate, which cannot enforce a TLS 1.2 minimum."""

    minimum_protocol_version: str = "TLSv1.2_2021"
    """Viewer security policy: TLSv1.2_2021 or newer."""

    failover_status_codes: list[int] = field(default_factory=lambda: [500, 502, 503, 504])
    """Origin responses that send the request to the secondary origin; must not be empty."""

    allowed_methods: list[str] = field(default_factory=lambda: list(READ_ONLY_WITH_OPTIONS))
    """Methods of the default behaviour. With two origins, write methods are rejected (no failover for them)."""

    write_path_patterns: list[str] = field(default_factory=list)
    """Path patterns that accept all methods; routed to the primary origin directly, never cached."""

    connection_attempts: int = 3
    """Connection attempts per origin (1-3)."""

    connection_timeout_seconds: int = 5
    """Seconds per connection attempt (1-5): attempts x timeout is the delay before failing over."""

    alb_idle_timeout_seconds: int = 60
    """Idle timeout of the origin load balancers; the origin read and keep-alive timeouts stay below it."""

    origin_read_timeout_seconds: int | None = None
    """Origin read timeout; defaults to min(30, alb_idle_timeout_seconds - 1) and must stay below the idle timeout."""

    origin_keepalive_timeout_seconds: int = 5
    """Origin keep-alive; below the ALB idle timeout so CloudFront never reuses a connection the ALB closed (502s)."""

    error_caching_min_ttl_seconds: int = 10
    """How long CloudFront caches 5xx responses (0-10 s): long error TTLs extend an outage."""

    error_response_page_path: str | None = None
    """Optional static error page (e.g. /errors/5xx.html) returned for 5xx, with the original status code."""

    default_ttl_seconds: int = 0
    """TTL when the origin sends no Cache-Control; 0 = dynamic content is cached only when the origin says so."""

    stale_if_error_seconds: int = 86400
    """Upper bound of the origin's `stale-if-error`: the cache policy's max TTL is at least this long."""

    cache_policy_id: pulumi.Input[str] | None = None
    """Use an existing cache policy instead of the declared one."""

    origin_request_policy_id: pulumi.Input[str] | None = None
    """Use an existing origin request policy instead of the declared one (all viewer headers but Host)."""

    web_acl_arn: pulumi.Input[str] | None = None
    """WAFv2 web ACL ARN (scope CLOUDFRONT, us-east-1), e.g. from `EdgeProtection`."""

    origin_shield_region: str | None = None
    """Knob: Origin Shield in this region (fewer origin requests, extra cost)."""

    price_class: str = "PriceClass_All"
    """Edge locations used; All gives the most redundancy and the lowest latency."""

    logging: bool = True
    """Knob: standard access logs to an S3 bucket declared here."""

    log_retention_days: int = 90
    """Days before access logs expire from the log bucket."""

    log_bucket_region: str | None = None
    """Region of the log bucket (pulumi-aws 7 `region`); None means the provider's region."""

    protect: bool = True
    """Pulumi `protect` on the log bucket (stateful). Turn off only for throwaway stacks."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra tags; `reliability-stack:stack` and `reliability-stack:service` are always added."""

    @property
    def failover(self) -> bool:
        return len(self.origins) == 2

    def read_timeout(self) -> int:
        if self.origin_read_timeout_seconds is not None:
            return self.origin_read_timeout_seconds
        return min(30, self.alb_idle_timeout_seconds - 1)

    def validate(self) -> None:
        """Raise ComponentArgsError, naming the argument, on an impossible or unsafe combination."""
        self._validate_origins()
        self._validate_methods()
        self._validate_timeouts()
        self._validate_viewer()
        if not 0 <= self.error_caching_min_ttl_seconds <= 10:
            raise ComponentArgsError(COMPONENT, "error_caching_min_ttl_seconds",
                                     "must be 0-10 s: cached errors outlive the origin's recovery")
        if self.error_response_page_path is not None and not self.error_response_page_path.startswith("/"):
            raise ComponentArgsError(COMPONENT, "error_response_page_path", "must start with '/'")
        if self.default_ttl_seconds < 0 or self.default_ttl_seconds > self.stale_if_error_seconds:
            raise ComponentArgsError(COMPONENT, "default_ttl_seconds",
                                     "must be between 0 and stale_if_error_seconds (the max TTL)")
        if self.stale_if_error_seconds < 60:
            raise ComponentArgsError(COMPONENT, "stale_if_error_seconds",
                                     "must be at least 60 s to bridge an origin outage")
        if self.price_class not in PRICE_CLASSES:
            raise ComponentArgsError(COMPONENT, "price_class", f"must be one of {', '.join(PRICE_CLASSES)}")
        if self.log_retention_days < 1:
            raise ComponentArgsError(COMPONENT, "log_retention_days", "must be at least 1 day")

    def _validate_origins(self) -> None:
        if not self.service:
            raise ComponentArgsError(COMPONENT, "service", "must name the owning service")
        if len(self.origins) not in (1, 2):
            raise ComponentArgsError(
                COMPONENT, "origins",
                f"expected one origin, or two for failover (an origin group has exactly two members); got {len(self.origins)}")
        ids = [origin.origin_id for origin in self.origins]
        if len(set(ids)) != len(ids) or not all(ids):
            raise ComponentArgsError(COMPONENT, "origins", "origin_id values must be distinct and non-empty")
        if self.failover and "failover" in ids:
            raise ComponentArgsError(COMPONENT, "origins", "origin_id 'failover' is reserved for the origin group")
        if self.failover:
            if not self.failover_status_codes:
                raise ComponentArgsError(COMPONENT, "failover_status_codes",
                                         "must not be empty: the origin group would never fail over")
            unknown = sorted(set(self.failover_status_codes) - FAILOVER_STATUS_CODES)
            if unknown:
                raise ComponentArgsError(
                    COMPONENT, "failover_status_codes",
                    f"{unknown} cannot trigger failover (allowed: {sorted(FAILOVER_STATUS_CODES)})")

    def _validate_methods(self) -> None:
        methods = frozenset(m.upper() for m in self.allowed_methods)
        if methods not in ALLOWED_METHOD_SETS:
            raise ComponentArgsError(
                COMPONENT, "allowed_methods",
                "must be one of CloudFront's sets: GET,HEAD | GET,HEAD,OPTIONS | all seven methods")
        writes = sorted(methods & NON_IDEMPOTENT_METHODS)
        if self.failover and writes:
            raise ComponentArgsError(
                COMPONENT, "allowed_methods",
                f"{', '.join(writes)} on a behaviour with an origin group: CloudFront fails over only "
                "GET, HEAD and OPTIONS; route writes to the primary with write_path_patterns")
        for pattern in self.write_path_patterns:
            if not pattern or pattern == "*" or pattern == "/*":
                raise ComponentArgsError(COMPONENT, "write_path_patterns",
                                         f"{pattern!r} would take over the default behaviour; use specific paths")

    def _validate_timeouts(self) -> None:
        if not 1 <= self.connection_attempts <= 3:
            raise ComponentArgsError(COMPONENT, "connection_attempts", "must be 1-3")
        if not 1 <= self.connection_timeout_seconds <= 5:
            raise ComponentArgsError(
                COMPONENT, "connection_timeout_seconds",
                "must be 1-5 s: attempts x connect timeout is how long viewers wait before failover")
        if not 1 <= self.alb_idle_timeout_seconds <= 4000:
            raise ComponentArgsError(COMPONENT, "alb_idle_timeout_seconds", "must be 1-4000 s (the ALB range)")
        read = self.read_timeout()
        if not 1 <= read <= 180:
            raise ComponentArgsError(COMPONENT, "origin_read_timeout_seconds", "must be 1-180 s")
        if read >= self.alb_idle_timeout_seconds:
            raise ComponentArgsError(
                COMPONENT, "origin_read_timeout_seconds",
                f"{read} s must stay below alb_idle_timeout_seconds ({self.alb_idle_timeout_seconds} s): "
                "the edge must time out (and fail over) before the load balancer answers 504")
        if not 1 <= self.origin_keepalive_timeout_seconds < self.alb_idle_timeout_seconds:
            raise ComponentArgsError(
                COMPONENT, "origin_keepalive_timeout_seconds",
                "must be at least 1 s and below alb_idle_timeout_seconds, or reused connections fail with 502")

    def _validate_viewer(self) -> None:
        if self.minimum_protocol_version not in VIEWER_TLS_POLICIES:
            raise ComponentArgsError(COMPONENT, "minimum_protocol_version",
                                     f"must be one of {', '.join(VIEWER_TLS_POLICIES)}")
        if self.certificate_arn is None:
            if self.aliases:
                raise ComponentArgsError(COMPONENT, "certificate_arn", "aliases need an ACM certificate")
            if not self.allow_default_certificate:
                raise ComponentArgsError(
                    COMPONENT, "certificate_arn",
                    "required: the default *.cloudfront.net certificate cannot enforce TLS 1.2 "
                    "(set allow_default_certificate=True to accept that)")
        elif isinstance(self.certificate_arn, str) and ":acm:" in self.certificate_arn \
                and ":acm:us-east-1:" not in self.certificate_arn:
            raise ComponentArgsError(COMPONENT, "certificate_arn", "CloudFront needs an ACM certificate in us-east-1")


def _origin_args(origin: CdnOrigin, args: CdnArgs) -> Any:
    spec: dict[str, Any] = {
        "origin_id": origin.origin_id,
        "domain_name": origin.domain_name,
        "connection_attempts": args.connection_attempts,
        "connection_timeout": args.connection_timeout_seconds,
        "custom_origin_config": {
            "origin_protocol_policy": "https-only",
            "origin_ssl_protocols": ["TLSv1.2"],
            "http_port": 80,
            "https_port": origin.https_port,
            "origin_read_timeout": args.read_timeout(),
            "origin_keepalive_timeout": args.origin_keepalive_timeout_seconds,
        },
    }
    if args.origin_shield_region:
        spec["origin_shield"] = {"enabled": True, "origin_shield_region": args.origin_shield_region}
    return spec


class Cdn(pulumi.ComponentResource):
    """CloudFront distribution with origin failover, short error caching, stale fallback and logs."""

    distribution_id: pulumi.Output[str]
    distribution_arn: pulumi.Output[str]
    domain_name: pulumi.Output[str]
    hosted_zone_id: pulumi.Output[str]
    log_bucket_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: CdnArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args.validate()
        super().__init__(TYPE_TOKEN, name, {}, opts)
        tags = standard_tags(pulumi.get_stack(), args.service, args.tags)
        child = pulumi.ResourceOptions(parent=self)

        cache_policy_id = args.cache_policy_id
        if cache_policy_id is None:
            cache_policy_id = aws.cloudfront.CachePolicy(
                f"{name}-cache",
                comment=f"{args.service}: origin Cache-Control wins; max TTL keeps stale-if-error usable",
                min_ttl=0,
                default_ttl=args.default_ttl_seconds,
                max_ttl=args.stale_if_error_seconds,
                parameters_in_cache_key_and_forwarded_to_origin={
                    "enable_accept_encoding_gzip": True,
                    "enable_accept_encoding_brotli": True,
                    "cookies_config": {"cookie_behavior": "none"},
                    "headers_config": {"header_behavior": "none"},
                    "query_strings_config": {"query_string_behavior": "all"},
                },
                opts=child).id
        origin_request_policy_id = args.origin_request_policy_id
        if origin_request_policy_id is None:
            # Everything but Host: the origin's certificate is for its own name, not the viewer's.
            origin_request_policy_id = aws.cloudfront.OriginRequestPolicy(
                f"{name}-origin-request",
                comment=f"{args.service}: all viewer headers except Host, all cookies and query strings",
                cookies_config={"cookie_behavior": "all"},
                headers_config={"header_behavior": "allExcept", "headers": {"items": ["host"]}},
                query_strings_config={"query_string_behavior": "all"},
                opts=child).id

        primary = args.origins[0]
        target = "failover" if args.failover else primary.origin_id
        origin_groups: list[Any] = []
        if args.failover:
            origin_groups.append({
                "origin_id": "failover",
                "failover_criteria": {"status_codes": sorted(args.failover_status_codes)},
                "members": [{"origin_id": origin.origin_id} for origin in args.origins],
            })
        methods = _ordered_methods(args.allowed_methods)
        write_behaviours: list[Any] = [{
            "path_pattern": pattern,
            "target_origin_id": primary.origin_id,
            "viewer_protocol_policy": "redirect-to-https",
            "allowed_methods": list(ALL_METHODS),
            "cached_methods": list(READ_ONLY_METHODS),
            "cache_policy_id": CACHING_DISABLED_POLICY_ID,
            "origin_request_policy_id": origin_request_policy_id,
            "compress": True,
        } for pattern in args.write_path_patterns]
        error_responses: list[Any] = [{
            "error_code": code,
            "error_caching_min_ttl": args.error_caching_min_ttl_seconds,
            **({"response_code": code, "response_page_path": args.error_response_page_path}
               if args.error_response_page_path else {}),
        } for code in (500, 502, 503, 504)]

        viewer_certificate: Any
        if args.certificate_arn is not None:
            viewer_certificate = {"acm_certificate_arn": args.certificate_arn, "ssl_support_method": "sni-only",
                                  "minimum_protocol_version": args.minimum_protocol_version}
        else:
            viewer_certificate = {"cloudfront_default_certificate": True}

        logging_config: Any = None
        self.log_bucket_name = None
        if args.logging:
            bucket = _LogBucket(name, args, tags, self)
            logging_config = {"bucket": bucket.domain_name, "include_cookies": False, "prefix": f"{name}/"}
            self.log_bucket_name = bucket.name

        distribution = aws.cloudfront.Distribution(
            name,
            enabled=True,
            comment=f"{args.service} ({pulumi.get_stack()})",
            aliases=args.aliases or None,
            origins=[_origin_args(origin, args) for origin in args.origins],
            origin_groups=origin_groups or None,
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=target,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=methods,
                cached_methods=list(READ_ONLY_METHODS),
                cache_policy_id=cache_policy_id,
                origin_request_policy_id=origin_request_policy_id,
                compress=True,
            ),
            ordered_cache_behaviors=write_behaviours or None,
            custom_error_responses=error_responses,
            viewer_certificate=viewer_certificate,
            http_version="http2and3",
            is_ipv6_enabled=True,
            price_class=args.price_class,
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
            logging_config=logging_config,
            web_acl_id=args.web_acl_arn,
            tags=tags,
            opts=child)

        self.distribution_id = distribution.id
        self.distribution_arn = distribution.arn
        self.domain_name = distribution.domain_name
        self.hosted_zone_id = distribution.hosted_zone_id
        self.register_outputs({
            "distribution_id": distribution.id, "distribution_arn": distribution.arn,
            "domain_name": distribution.domain_name, "hosted_zone_id": distribution.hosted_zone_id,
            "log_bucket_name": self.log_bucket_name,
        })


def _ordered_methods(methods: Sequence[str]) -> list[str]:
    wanted = {m.upper() for m in methods}
    return [m for m in ALL_METHODS if m in wanted]


class _LogBucket:
    """The S3 bucket of standard access logs, built from the non-deprecated bucket resources.

    CloudFront standard logging writes with ACLs, so object ownership is
    BucketOwnerPreferred (not BucketOwnerEnforced); public access stays fully blocked.
    """

    def __init__(self, name: str, args: CdnArgs, tags: dict[str, str], parent: pulumi.Resource) -> None:
        region = args.log_bucket_region
        child = pulumi.ResourceOptions(parent=parent)
        bucket = aws.s3.Bucket(
            f"{name}-logs", bucket_prefix=f"{name[:40]}-logs-", force_destroy=False,
            region=region, tags=tags, opts=pulumi.ResourceOptions(parent=parent, protect=args.protect))
        aws.s3.BucketPublicAccessBlock(
            f"{name}-logs", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, region=region, opts=child)
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-logs", bucket=bucket.id, rule={"object_ownership": "BucketOwnerPreferred"},
            region=region, opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-logs", bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"},
                    "bucket_key_enabled": True}],
            region=region, opts=child)
        aws.s3.BucketVersioning(
            f"{name}-logs", bucket=bucket.id, versioning_configuration={"status": "Enabled"},
            region=region, opts=child)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-logs", bucket=bucket.id,
            rules=[{
                "id": "expire-access-logs",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "expiration": {"days": args.log_retention_days},
                "noncurrent_version_expiration": {"noncurrent_days": 7},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
            }],
            region=region, opts=child)
        self.name: pulumi.Output[str] = bucket.bucket
        # CloudFront needs the ACL-enabled ownership setting before it can deliver logs.
        self.domain_name: pulumi.Output[str] = pulumi.Output.all(bucket.bucket_domain_name, ownership.id).apply(
            lambda values: values[0])
