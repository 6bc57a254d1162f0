"""Where code comes from (an app's source, a stack's custom cookbooks)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from stackops.model import deploysettings
from stackops.model import validation as v
from stackops.model.base import OpsWorksModel
from stackops.model.enums import SourceType
from stackops.model.fields import Line
from stackops.model.secret_ref import SecretText


class Source(OpsWorksModel):
    """Where code comes from: a git or svn repository, an archive URL or an S3 object."""

    type: SourceType
    url: Line | None = Field(default=None, min_length=1)
    username: Line | None = None
    password: SecretText | None = Field(default=None, repr=False)
    ssh_key: SecretText | None = Field(default=None, repr=False)
    revision: Line | None = None

    @model_validator(mode="after")
    def _url_required(self) -> Self:
        if self.type is SourceType.svn:
            raise ValueError(
                "svn sources are not supported; use git (a repository URL and a revision), "
                "archive (an http(s) URL of a .tar.gz or .zip) or s3 (s3://bucket/key)"
            )
        if self.url is None:
            raise ValueError(
                f"a {self.type.value} source needs a url "
                "(like s3://bucket/app.tar.gz, https://host/app.tar.gz or a git URL)"
            )
        v.as_value_error(deploysettings.validate_source_url, self.type.value, self.url)
        return self
