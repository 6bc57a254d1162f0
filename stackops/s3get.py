"""Download the agent's files from S3 on a fresh instance, with nothing but Python's stdlib.

UserData runs this before stackops (or boto3, or the aws CLI) is there: it reads
the instance role's credentials from the instance metadata service (IMDSv2),
signs S3 GETs with Signature Version 4, fetches `<prefix>manifest.json` and every
file it lists, and checks each one's sha256. It is embedded in UserData as is,
so it imports nothing from stackops.

    python3 s3get.py --bucket B --region R --prefix agent/0.1.0/ --dest /opt/stackops/wheels
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

IMDS = "http://169.254.169.254"
UNSIGNED = "UNSIGNED-PAYLOAD"


def credentials(wait: float = 120.0) -> dict[str, str]:
    """The instance role's credentials (or AWS_ACCESS_KEY_ID... from the environment)."""
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        return {
            "AccessKeyId": os.environ["AWS_ACCESS_KEY_ID"],
            "SecretAccessKey": os.environ["AWS_SECRET_ACCESS_KEY"],
            "Token": os.environ.get("AWS_SESSION_TOKEN", ""),
        }
    deadline = time.monotonic() + wait
    while True:  # the instance profile's credentials may take a moment at boot
        try:
            token = _imds(
                "PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "300"}
            )
            headers = {"X-aws-ec2-metadata-token": token}
            base = "/latest/meta-data/iam/security-credentials/"
            role = _imds("GET", base, headers).split()[0]
            return json.loads(_imds("GET", base + role, headers))
        except (OSError, ValueError, IndexError) as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"s3get: no instance role credentials: {exc}") from None
            time.sleep(3)


def _imds(method: str, path: str, headers: dict[str, str]) -> str:
    request = urllib.request.Request(IMDS + path, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read().decode()


def object_url(bucket: str, key: str, region: str, endpoint_url: str | None) -> str:
    """Virtual-hosted style on AWS; path style on another endpoint (LocalStack, a sandbox)."""
    path = urllib.parse.quote(key, safe="/-_.~")
    if endpoint_url:
        return f"{endpoint_url.rstrip('/')}/{bucket}/{path}"
    suffix = ".cn" if region.startswith("cn-") else ""
    return f"https://{bucket}.s3.{region}.amazonaws.com{suffix}/{path}"


def signed_headers(
    url: str, region: str, creds: dict[str, str], now: datetime.datetime
) -> dict[str, str]:
    """The headers of a Signature Version 4 GET of `url` (S3, unsigned payload)."""
    parts = urllib.parse.urlsplit(url)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    headers = {"host": parts.netloc, "x-amz-content-sha256": UNSIGNED, "x-amz-date": stamp}
    if creds.get("Token"):
        headers["x-amz-security-token"] = creds["Token"]
    names = ";".join(sorted(headers))
    canonical = "\n".join(
        [
            "GET",
            parts.path or "/",
            parts.query,
            "".join(f"{name}:{headers[name].strip()}\n" for name in sorted(headers)),
            names,
            UNSIGNED,
        ]
    )
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + creds["SecretAccessKey"]).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={creds['AccessKeyId']}/{scope}, "
        f"SignedHeaders={names}, Signature={signature}"
    )
    del headers["host"]  # urllib sends it itself, with the same value
    return headers


def get(url: str, region: str, creds: dict[str, str], tries: int = 5) -> bytes:
    """GET one object, retrying what may pass (throttling, a blip)."""
    for attempt in range(tries):
        now = datetime.datetime.now(datetime.UTC)
        request = urllib.request.Request(url, headers=signed_headers(url, region, creds, now))
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or attempt == tries - 1:
                detail = exc.read()[:300].decode(errors="replace")
                raise SystemExit(f"s3get: GET {url}: HTTP {exc.code}: {detail}") from None
        except OSError as exc:
            if attempt == tries - 1:
                raise SystemExit(f"s3get: GET {url}: {exc}") from None
        time.sleep(2**attempt)
    raise SystemExit(f"s3get: GET {url} failed")


def fetch(
    bucket: str, region: str, prefix: str, dest: str, endpoint_url: str | None = None
) -> list[str]:
    """Download the manifest's files into `dest`, each checked; return their names."""
    creds = credentials()
    manifest = json.loads(
        get(object_url(bucket, prefix + "manifest.json", region, endpoint_url), region, creds)
    )
    os.makedirs(dest, exist_ok=True)
    names = []
    for entry in manifest["files"]:
        name = os.path.basename(entry["name"])
        body = get(object_url(bucket, prefix + name, region, endpoint_url), region, creds)
        if hashlib.sha256(body).hexdigest() != entry["sha256"]:
            raise SystemExit(f"s3get: {name}: sha256 is not the manifest's; not installed")
        with open(os.path.join(dest, name), "wb") as out:
            out.write(body)
        names.append(name)
    return names


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--dest", required=True)
    parser.add_argument("--endpoint-url")
    args = parser.parse_args(argv)
    names = fetch(args.bucket, args.region, args.prefix, args.dest, args.endpoint_url)
    print(f"s3get: {len(names)} file(s) from s3://{args.bucket}/{args.prefix} in {args.dest}")


if __name__ == "__main__":
    sys.exit(main())
