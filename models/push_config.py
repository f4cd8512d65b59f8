"""The `[push.*]` tables of sources.toml: systems regiofeed feeds (the Smart Village App)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SVA_CLIENT_ID_ENV = "REGIOFEED_SVA_CLIENT_ID"
SVA_CLIENT_SECRET_ENV = "REGIOFEED_SVA_CLIENT_SECRET"


class SvaPushConfig(BaseModel):
    """`[push.sva]`: a Smart Village App mainserver that takes our items by GraphQL.

    The OAuth2 client id and secret come from the environment (REGIOFEED_SVA_CLIENT_ID,
    REGIOFEED_SVA_CLIENT_SECRET), never from the sources file.
    """

    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(description="the GraphQL endpoint, e.g. https://…/graphql")
    token_url: str = Field(description="the OAuth2 token endpoint, e.g. https://…/oauth/token")
    # Only items of these sources (all when empty), and only these kinds.
    sources: list[str] = Field(default_factory=list)
    kinds: list[Literal["news", "event"]] = Field(default_factory=lambda: ["news", "event"])
    timeout: float = Field(30.0, gt=0, description="seconds for one request")

    @model_validator(mode="before")
    @classmethod
    def _no_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if any(word in key.lower() for word in ("secret", "password", "client_id")):
                    raise ValueError(
                        f"{key}: credentials come from the environment ({SVA_CLIENT_ID_ENV}, "
                        f"{SVA_CLIENT_SECRET_ENV}), never from the sources file")
        return data

    @field_validator("endpoint", "token_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("expected an http(s) URL")
        return value


class PushConfig(BaseModel):
    """`[push]`: every system regiofeed pushes its items to after publishing."""

    model_config = ConfigDict(extra="forbid")

    sva: SvaPushConfig | None = None
