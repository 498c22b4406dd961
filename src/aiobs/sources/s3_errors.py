"""botocore's exceptions as one sentence the user can act on.

Errors that stop the run (no credentials, access denied, no such bucket) become `InputError`s (exit
code 2); an object that cannot be read once listed is described the same way, as an input issue.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)

from aiobs.errors import InputError

_DENIED = frozenset({"AccessDenied", "AllAccessDisabled", "AccountProblem", "InvalidObjectState"})
_REJECTED_CREDENTIALS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired"}
)
_THROTTLED = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceUnavailable"})
#: What S3 answers for an object that was listed but is gone (deleted) when fetched.
GONE_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


@contextmanager
def s3_errors(what: str, bucket: str | None = None) -> Iterator[None]:
    """botocore's exceptions as one sentence the user can act on (InputError: exit code 2)."""
    try:
        yield
    except NoCredentialsError:
        msg = (
            f"cannot read {what}: no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "choose a profile with AWS_PROFILE, or configure ~/.aws/credentials"
        )
        raise InputError(msg) from None
    except PartialCredentialsError as exc:
        msg = f"cannot read {what}: the AWS credentials are incomplete ({exc})"
        raise InputError(msg) from None
    except ProfileNotFound as exc:
        profile = exc.kwargs.get("profile")
        msg = f"cannot read {what}: the AWS profile '{profile}' is not in ~/.aws/config or ~/.aws/credentials"
        raise InputError(msg) from None
    except (EndpointConnectionError, ConnectTimeoutError) as exc:
        endpoint = exc.kwargs.get("endpoint_url", "the S3 endpoint")
        msg = f"cannot read {what}: cannot connect to {endpoint} (check --endpoint-url, AWS_ENDPOINT_URL, the network)"
        raise InputError(msg) from None
    except ClientError as exc:
        raise InputError(f"cannot read {what}: {describe_client_error(exc, bucket)}") from None
    except BotoCoreError as exc:
        raise InputError(f"cannot read {what}: {exc}") from None


def describe_client_error(exc: ClientError, bucket: str | None = None) -> str:
    """What an S3 error response means, in words."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    detail = error.get("Message") or code
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code == "NoSuchBucket":
        return f"no such S3 bucket: {error.get('BucketName') or bucket}"
    if code in _REJECTED_CREDENTIALS:
        return f"S3 rejected the AWS credentials ({code}: {detail}); check them, or whether they have expired"
    if code == "InvalidObjectState":
        return f"the object is archived ({detail}); restore it before reading it"
    if code in _DENIED or status == 403:
        return f"access denied ({detail}); the credentials need s3:ListBucket on the bucket, s3:GetObject on objects"
    if code in _THROTTLED or status == 503:
        return f"S3 kept throttling ({code or status}) through every retry; try again later or raise AWS_MAX_ATTEMPTS"
    return f"S3 answered {code or status}: {detail}"
