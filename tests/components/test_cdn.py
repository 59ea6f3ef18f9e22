"""Cdn: origin failover, origin timeouts, policies, error caching, viewer TLS, logging; knobs and errors."""

import pytest

from reliability_stack.components.cdn import CACHING_DISABLED_POLICY_ID, Cdn, CdnArgs, CdnOrigin
from reliability_stack.errors import ComponentArgsError
from reliability_stack.preview.capture import capture_program
from reliability_stack.preview.mocks import RealisticMocks
from reliability_stack.resource_tags import SERVICE_TAG, STACK_TAG
from tests.assertions import children_of, find, one, props_like

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
BUCKET = "aws:s3/bucket:Bucket"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c"
WAF = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/abc"


class BucketMocks(RealisticMocks):
    """Adds the bucket name and domain AWS derives (not in the shared mocks yet)."""

    def new_resource(self, args):
        resource_id, state = super().new_resource(args)
        if args.typ == BUCKET:
            state.setdefault("bucket", f"{args.inputs.get('bucketPrefix', '')}{resource_id}")
            state["bucketDomainName"] = f"{state['bucket']}.s3.amazonaws.com"
        return resource_id, state


def two_origins() -> list[CdnOrigin]:
    return [CdnOrigin(origin_id="us-east-1", domain_name="us-east-1.shop.example.com"),
            CdnOrigin(origin_id="eu-west-1", domain_name="eu-west-1.shop.example.com")]


def cdn_args(**overrides) -> CdnArgs:
    values = dict(service="shop", origins=two_origins(), aliases=["shop.example.com"], certificate_arn=CERT,
                  web_acl_arn=WAF)
    values.update(overrides)
    return CdnArgs(**values)


def capture(args: CdnArgs):
    return capture_program(lambda: Cdn("shop-cdn", args), stack="prod", mocks=BucketMocks()).resources


@pytest.fixture(scope="module")
def resources():
    return capture(cdn_args())


@pytest.fixture(scope="module")
def distribution(resources):
    return one(resources, DISTRIBUTION)


def test_declares_distribution_policies_and_log_bucket_resources(resources):
    component = one(resources, "reliability-stack:cdn:Cdn")
    types = sorted(r.type for r in children_of(resources, component))
    assert types == sorted([
        DISTRIBUTION, "aws:cloudfront/cachePolicy:CachePolicy", "aws:cloudfront/originRequestPolicy:OriginRequestPolicy",
        BUCKET, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"])
    assert not any("V2" in r.type for r in resources)


def test_origin_group_fails_over_on_5xx_between_the_two_origins(distribution):
    assert distribution.props["originGroups"] == [{
        "originId": "failover",
        "failoverCriteria": {"statusCodes": [500, 502, 503, 504]},
        "members": [{"originId": "us-east-1"}, {"originId": "eu-west-1"}],
    }]
    behaviour = distribution.props["defaultCacheBehavior"]
    assert behaviour["targetOriginId"] == "failover"
    assert behaviour["allowedMethods"] == ["GET", "HEAD", "OPTIONS"]
    assert behaviour["viewerProtocolPolicy"] == "redirect-to-https"


def test_origins_have_short_connection_timeouts_and_https_only_tls12(distribution):
    for origin in distribution.props["origins"]:
        assert props_like(origin, {
            "connectionAttempts": 3,
            "connectionTimeout": 5,
            "customOriginConfig": {"originProtocolPolicy": "https-only", "originSslProtocols": ["TLSv1.2"],
                                   "originReadTimeout": 30, "originKeepaliveTimeout": 5},
        })


def test_read_timeout_default_follows_the_alb_idle_timeout():
    resources = capture(cdn_args(alb_idle_timeout_seconds=20, logging=False))
    for origin in one(resources, DISTRIBUTION).props["origins"]:
        assert origin["customOriginConfig"]["originReadTimeout"] == 19


def test_cache_and_origin_request_policies_are_declared_and_used(resources, distribution):
    cache = one(resources, "aws:cloudfront/cachePolicy:CachePolicy")
    request = one(resources, "aws:cloudfront/originRequestPolicy:OriginRequestPolicy")
    # The distribution references the declared policies (mock ids derive from the resource names).
    assert cache.name == "shop-cdn-cache" and request.name == "shop-cdn-origin-request"
    assert cache.props["maxTtl"] >= 86400  # room for the origin's stale-if-error
    assert cache.props["minTtl"] == 0
    assert cache.props["parametersInCacheKeyAndForwardedToOrigin"]["enableAcceptEncodingBrotli"] is True
    assert request.props["headersConfig"] == {"headerBehavior": "allExcept", "headers": {"items": ["host"]}}
    behaviour = distribution.props["defaultCacheBehavior"]
    assert behaviour["cachePolicyId"].startswith("shop-cdn-cache")
    assert behaviour["originRequestPolicyId"].startswith("shop-cdn-origin-request")
    assert behaviour["compress"] is True


def test_5xx_errors_are_cached_briefly(distribution):
    responses = distribution.props["customErrorResponses"]
    assert sorted(r["errorCode"] for r in responses) == [500, 502, 503, 504]
    assert all(r["errorCachingMinTtl"] == 10 for r in responses)


def test_viewer_tls_http_versions_waf_and_tags(distribution):
    assert distribution.props["viewerCertificate"] == {
        "acmCertificateArn": CERT, "sslSupportMethod": "sni-only", "minimumProtocolVersion": "TLSv1.2_2021"}
    assert distribution.props["httpVersion"] == "http2and3"
    assert distribution.props["isIpv6Enabled"] is True
    assert distribution.props["webAclId"] == WAF
    assert distribution.props["aliases"] == ["shop.example.com"]
    assert distribution.props["tags"][STACK_TAG] == "prod"
    assert distribution.props["tags"][SERVICE_TAG] == "shop"


def test_logs_go_to_a_protected_private_encrypted_bucket(resources, distribution):
    bucket = one(resources, BUCKET)
    assert bucket.options["protect"] is True
    assert bucket.props["forceDestroy"] is False
    assert distribution.props["loggingConfig"] == {
        "bucket": bucket.outputs["bucketDomainName"], "includeCookies": False, "prefix": "shop-cdn/"}
    block = one(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(block.props[k] is True for k in
               ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    # Standard logging delivers with ACLs: BucketOwnerEnforced would break it.
    assert one(resources, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").props["rule"] == {
        "objectOwnership": "BucketOwnerPreferred"}
    assert one(resources, "aws:s3/bucketVersioning:BucketVersioning").props["versioningConfiguration"] == {
        "status": "Enabled"}
    lifecycle = one(resources, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert lifecycle.props["rules"][0]["expiration"] == {"days": 90}


def test_write_paths_go_to_the_primary_origin_uncached():
    resources = capture(cdn_args(write_path_patterns=["/api/orders*"]))
    behaviours = one(resources, DISTRIBUTION).props["orderedCacheBehaviors"]
    assert len(behaviours) == 1
    assert props_like(behaviours[0], {
        "pathPattern": "/api/orders*", "targetOriginId": "us-east-1", "cachePolicyId": CACHING_DISABLED_POLICY_ID,
        "viewerProtocolPolicy": "redirect-to-https"})
    assert "POST" in behaviours[0]["allowedMethods"]


def test_single_origin_has_no_group_and_may_allow_writes():
    resources = capture(cdn_args(origins=two_origins()[:1], allowed_methods=[
        "GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]))
    distribution = one(resources, DISTRIBUTION)
    assert "originGroups" not in distribution.props
    assert distribution.props["defaultCacheBehavior"]["targetOriginId"] == "us-east-1"
    assert len(distribution.props["defaultCacheBehavior"]["allowedMethods"]) == 7


def test_knobs_turn_resilience_down_explicitly():
    resources = capture(cdn_args(
        aliases=[], certificate_arn=None, allow_default_certificate=True, logging=False, protect=False,
        error_caching_min_ttl_seconds=0, failover_status_codes=[502, 503], web_acl_arn=None,
        origin_shield_region="us-east-1", cache_policy_id="managed-cache", origin_request_policy_id="managed-orp"))
    distribution = one(resources, DISTRIBUTION)
    assert distribution.props["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert "loggingConfig" not in distribution.props and not find(resources, BUCKET)
    assert "webAclId" not in distribution.props
    assert all(r["errorCachingMinTtl"] == 0 for r in distribution.props["customErrorResponses"])
    assert distribution.props["originGroups"][0]["failoverCriteria"] == {"statusCodes": [502, 503]}
    assert distribution.props["origins"][0]["originShield"] == {"enabled": True, "originShieldRegion": "us-east-1"}
    assert distribution.props["defaultCacheBehavior"]["cachePolicyId"] == "managed-cache"
    assert not find(resources, "aws:cloudfront/cachePolicy:CachePolicy")
    assert not find(resources, "aws:cloudfront/originRequestPolicy:OriginRequestPolicy")


def test_error_page_returns_the_original_status_code():
    resources = capture(cdn_args(error_response_page_path="/errors/5xx.html", logging=False))
    for response in one(resources, DISTRIBUTION).props["customErrorResponses"]:
        assert response["responsePagePath"] == "/errors/5xx.html"
        assert response["responseCode"] == response["errorCode"]


@pytest.mark.parametrize("methods", [
    ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
])
def test_origin_group_with_write_methods_is_rejected(methods):
    with pytest.raises(ComponentArgsError, match="fails over only") as error:
        capture(cdn_args(allowed_methods=methods))
    assert error.value.field == "Cdn.allowed_methods"


@pytest.mark.parametrize(("overrides", "argument"), [
    (dict(origins=[]), "origins"),
    (dict(origins=two_origins() + [CdnOrigin(origin_id="ap", domain_name="ap.example.com")]), "origins"),
    (dict(origins=[CdnOrigin("a", "a.example.com"), CdnOrigin("a", "b.example.com")]), "origins"),
    (dict(failover_status_codes=[]), "failover_status_codes"),
    (dict(failover_status_codes=[500, 501]), "failover_status_codes"),
    (dict(allowed_methods=["GET", "POST"]), "allowed_methods"),
    (dict(write_path_patterns=["/*"]), "write_path_patterns"),
    (dict(connection_attempts=4), "connection_attempts"),
    (dict(connection_timeout_seconds=10), "connection_timeout_seconds"),
    (dict(origin_read_timeout_seconds=60), "origin_read_timeout_seconds"),
    (dict(alb_idle_timeout_seconds=30, origin_read_timeout_seconds=30), "origin_read_timeout_seconds"),
    (dict(origin_keepalive_timeout_seconds=60), "origin_keepalive_timeout_seconds"),
    (dict(error_caching_min_ttl_seconds=300), "error_caching_min_ttl_seconds"),
    (dict(minimum_protocol_version="TLSv1.1_2016"), "minimum_protocol_version"),
    (dict(certificate_arn=None), "certificate_arn"),
    (dict(certificate_arn=None, aliases=[], allow_default_certificate=False), "certificate_arn"),
    (dict(certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/x"), "certificate_arn"),
    (dict(price_class="PriceClass_1"), "price_class"),
    (dict(stale_if_error_seconds=10), "stale_if_error_seconds"),
    (dict(error_response_page_path="errors.html"), "error_response_page_path"),
])
def test_invalid_combinations_name_the_argument(overrides, argument):
    with pytest.raises(ComponentArgsError) as error:
        capture(cdn_args(**overrides))
    assert error.value.field == f"Cdn.{argument}"
