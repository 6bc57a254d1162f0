"""S3 adapter: the artifacts bucket (its settings) and the objects in it."""

from __future__ import annotations

from collections.abc import Mapping

from stackops.aws.roles import BOOTSTRAP, DISPATCHER, INSTANCE, ROLES, calls
from stackops.aws.session import AwsSession, aws_errors, error_code
from stackops.errors import AwsFailure, Conflict, NotFound

BLOCK_ALL_PUBLIC_ACCESS = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


class Bucket:
    """One S3 bucket by name."""

    def __init__(self, session: AwsSession, name: str) -> None:
        self.name = name
        self._client = session.client("s3")

    # -- the bucket itself --------------------------------------------------
    @calls("s3:ListBucket", roles=(BOOTSTRAP,))
    def exists(self) -> bool:
        """True when the bucket exists and is ours; Conflict when another account owns it."""
        try:
            with aws_errors("s3:HeadBucket"):
                self._client.head_bucket(Bucket=self.name)
        except AwsFailure as exc:
            code = error_code(exc)
            if code in ("404", "NoSuchBucket", "NotFound"):
                return False
            if code in ("403", "Forbidden", "AccessDenied"):
                raise Conflict(
                    f"S3 bucket {self.name} exists but is not accessible: "
                    "another account owns it, or these credentials may not list it",
                    hint="bucket names are global; choose another --namespace",
                ) from exc
            raise
        return True

    @calls("s3:CreateBucket", roles=(BOOTSTRAP,))
    def create(self, region: str) -> None:
        """Create the bucket in `region` (us-east-1 takes no location constraint)."""
        kwargs: dict[str, object] = {"Bucket": self.name}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        with aws_errors("s3:CreateBucket"):
            self._client.create_bucket(**kwargs)

    @calls("s3:GetBucketPublicAccessBlock", roles=(BOOTSTRAP,))
    def public_access_block(self) -> dict[str, bool] | None:
        """The bucket's public access block, or None when it has none."""
        try:
            with aws_errors("s3:GetPublicAccessBlock"):
                resp = self._client.get_public_access_block(Bucket=self.name)
        except AwsFailure as exc:
            if error_code(exc) == "NoSuchPublicAccessBlockConfiguration":
                return None
            raise
        return dict(resp["PublicAccessBlockConfiguration"])

    @calls("s3:PutBucketPublicAccessBlock", roles=(BOOTSTRAP,))
    def put_public_access_block(self, configuration: Mapping[str, bool]) -> None:
        with aws_errors("s3:PutPublicAccessBlock"):
            self._client.put_public_access_block(
                Bucket=self.name, PublicAccessBlockConfiguration=dict(configuration)
            )

    @calls("s3:PutBucketTagging", roles=(BOOTSTRAP,))
    def put_tags(self, tags: Mapping[str, str]) -> None:
        """Replace the bucket's tags."""
        with aws_errors("s3:PutBucketTagging"):
            self._client.put_bucket_tagging(
                Bucket=self.name,
                Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]},
            )

    # -- objects -------------------------------------------------------------
    @calls("s3:PutObject", roles=(BOOTSTRAP, DISPATCHER, INSTANCE))
    def put_object(self, key: str, body: bytes, *, content_type: str | None = None) -> None:
        kwargs: dict[str, object] = {"Bucket": self.name, "Key": key, "Body": body}
        if content_type:
            kwargs["ContentType"] = content_type
        with aws_errors("s3:PutObject"):
            self._client.put_object(**kwargs)

    @calls("s3:GetObject", roles=ROLES)
    def get_object(self, key: str) -> bytes:
        """The object's content; NotFound when there is no such key."""
        try:
            with aws_errors("s3:GetObject"):
                resp = self._client.get_object(Bucket=self.name, Key=key)
                return resp["Body"].read()
        except AwsFailure as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                raise NotFound(f"s3://{self.name}/{key} does not exist") from exc
            raise
