"""The local API Gateway: HTTP in front of the trigger Lambda, with Cognito-shaped tokens.

`ApiGateway` turns HTTP requests into API Gateway REST proxy events (claims from a verified JWT
at `requestContext.authorizer.claims`) and the Lambda's answers back into HTTP; `DevKey` signs
development ID tokens (`stepsaga token`) and `TokenVerifier` checks them against the JWKS the
gateway publishes at `<issuer>/.well-known/jwks.json`. `serve` runs a whole service behind it:
the trigger, the engine with the service's handlers, and moto's DynamoDB and SES
(`stepsaga serve`).

The development key is kept at `$STEPSAGA_DEV_KEY`, else `$XDG_CACHE_HOME/stepsaga/dev-key.pem`
(`~/.cache/stepsaga/dev-key.pem`), created on first use; `--key FILE` names another.
"""

from stepsaga.infra.local.gateway._http import ApiGateway, GatewayRequest, InvocationContext
from stepsaga.infra.local.gateway._serve import Serving, serve
from stepsaga.infra.local.gateway._tokens import (
    CLIENT_ID,
    DEFAULT_TTL_SECONDS,
    KEY_VARIABLE,
    USER_POOL_ID,
    DevKey,
    InvalidBearerTokenError,
    TokenVerifier,
    default_key_path,
    issuer_url,
)

__all__ = (
    "CLIENT_ID",
    "DEFAULT_TTL_SECONDS",
    "KEY_VARIABLE",
    "USER_POOL_ID",
    "ApiGateway",
    "DevKey",
    "GatewayRequest",
    "InvalidBearerTokenError",
    "InvocationContext",
    "Serving",
    "TokenVerifier",
    "default_key_path",
    "issuer_url",
    "serve",
)
