"""Development JWTs: a local RS256 key, Cognito-shaped ID tokens, and their verification.

On AWS, API Gateway's Cognito authorizer verifies the ID token and hands the Lambda its claims.
Locally, `stepsaga token` signs tokens with a development key and `stepsaga serve` verifies them
through the JWKS it publishes, with PyJWT (no hand-written crypto). Claims are Cognito's:
`sub`, `email`, `custom:tenant`, `cognito:groups`, `cognito:username`, `token_use` = `id`,
`aud` = the app client id, `iss` = the emulator's user pool URL (`http://<host>:<port>/<pool>`).
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = (
    "CLIENT_ID",
    "DEFAULT_TTL_SECONDS",
    "KEY_VARIABLE",
    "USER_POOL_ID",
    "DevKey",
    "InvalidBearerTokenError",
    "TokenVerifier",
    "default_key_path",
    "issuer_url",
)

#: The emulated user pool's id, in Cognito's `<region>_<id>` shape; the issuer URL ends with it.
USER_POOL_ID: Final = "us-east-1_stepsagaLocal"
#: The emulated app client's id: the `aud` of every token `stepsaga token` prints.
CLIENT_ID: Final = "stepsaga-local"
#: Names a key file to use instead of the cached one (as `--key` does).
KEY_VARIABLE: Final = "STEPSAGA_DEV_KEY"
#: A token's lifetime when none is given: Cognito's default for ID tokens, one hour.
DEFAULT_TTL_SECONDS: Final = 3600
_ALGORITHM: Final = "RS256"
# Leeway for clocks: none, the signer and the verifier share this machine's.
_LEEWAY_SECONDS: Final = 0


class InvalidBearerTokenError(Exception):
    """A bearer token is missing, malformed, tampered with, expired or not for this API.

    Attributes:
        reason: Why, in a few words a client may see (`expired`, `bad signature`...).
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def issuer_url(host: str, port: int) -> str:
    """The emulator's Cognito-shaped issuer: `http://<host>:<port>/<user pool id>`."""
    return f"http://{host}:{port}/{USER_POOL_ID}"


def default_key_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the development key lives: `$STEPSAGA_DEV_KEY`, else the user's cache folder.

    The cache folder is `$XDG_CACHE_HOME/stepsaga/dev-key.pem`, `~/.cache/stepsaga/dev-key.pem`
    without `XDG_CACHE_HOME`.
    """
    env = os.environ if environ is None else environ
    named = env.get(KEY_VARIABLE)
    if named:
        return Path(named)
    cache = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "stepsaga" / "dev-key.pem"


def _b64(number: int) -> str:
    data = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class DevKey:
    """The development signing key: an RSA private key and its key id.

    Attributes:
        private_key: The RSA key that signs tokens.
        kid: The key id in each token's header and in the JWKS (RFC 7638 thumbprint).
    """

    private_key: rsa.RSAPrivateKey
    kid: str

    @classmethod
    def generate(cls) -> DevKey:
        """A new key, kept nowhere (for a bench or a test that needs no `stepsaga token`)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(key, _thumbprint(key.public_key()))

    @classmethod
    def load(cls, path: Path | None = None) -> DevKey:
        """Read the key at `path` (default: `default_key_path()`), creating it the first time.

        A new key is written with mode 0600, created exclusively, so two processes starting at
        once end up with the same key.

        Raises:
            ValueError: The file is not a PEM RSA private key.
        """
        where = path or default_key_path()
        if not where.exists():
            where.parent.mkdir(parents=True, exist_ok=True)
            pem = cls.generate().private_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            try:
                fd = os.open(where, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process made it first: use theirs
            else:
                with os.fdopen(fd, "wb") as out:
                    out.write(pem)
        try:
            loaded = serialization.load_pem_private_key(where.read_bytes(), password=None)
        except (ValueError, TypeError) as error:
            raise ValueError(f"{where} is not a PEM private key without a password") from error
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError(f"{where} holds a {type(loaded).__name__}, not an RSA key")
        return cls(loaded, _thumbprint(loaded.public_key()))

    def jwk(self) -> dict[str, str]:
        """The public key as a JWK (what the JWKS lists)."""
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": _ALGORITHM,
            "n": _b64(numbers.n),
            "e": _b64(numbers.e),
        }

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JSON Web Key Set `serve` publishes at `<issuer>/.well-known/jwks.json`."""
        return {"keys": [self.jwk()]}

    def issue(
        self,
        *,
        issuer: str,
        tenant: str,
        sub: str,
        email: str | None = None,
        groups: Sequence[str] = (),
        ttl: int = DEFAULT_TTL_SECONDS,
        now: float | None = None,
    ) -> str:
        """Sign a Cognito-shaped ID token.

        Args:
            issuer: The `iss` claim (`issuer_url(host, port)` of the `serve` that will read it).
            tenant: The `custom:tenant` claim.
            sub: The subject (`sub`, and `cognito:username`).
            email: The `email` claim, if any.
            groups: The `cognito:groups` claim (left out when empty, as Cognito does).
            ttl: Seconds until it expires (a negative value makes an expired token).
            now: The issue time, in seconds since the epoch (default: now).
        """
        issued = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": CLIENT_ID,
            "sub": sub,
            "cognito:username": sub,
            "custom:tenant": tenant,
            "token_use": "id",
            "auth_time": issued,
            "iat": issued,
            "exp": issued + ttl,
        }
        if email:
            claims["email"] = email
        if groups:
            claims["cognito:groups"] = list(groups)
        return jwt.encode(claims, self.private_key, algorithm=_ALGORITHM, headers={"kid": self.kid})


def _thumbprint(public_key: rsa.RSAPublicKey) -> str:
    # RFC 7638: SHA-256 of the required members, in lexicographic order, without whitespace.
    numbers = public_key.public_numbers()
    canonical = f'{{"e":"{_b64(numbers.e)}","kty":"RSA","n":"{_b64(numbers.n)}"}}'
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class TokenVerifier:
    """Verifies bearer tokens as API Gateway's Cognito authorizer does, against a JWKS.

    Args:
        jwks: The key set tokens must be signed by (what `serve` publishes).
        issuer: The only `iss` accepted.
        audience: The only `aud` accepted (the app client id).
    """

    def __init__(self, jwks: Mapping[str, Any], *, issuer: str, audience: str = CLIENT_ID) -> None:
        self._keys = jwt.PyJWKSet.from_dict(dict(jwks))
        self.issuer = issuer
        self.audience = audience

    def claims(self, authorization: str | None) -> dict[str, Any]:
        """The verified claims of an `Authorization: Bearer <token>` header.

        Raises:
            InvalidBearerTokenError: No bearer token, or it fails any check (signature, key id,
                algorithm, expiry, issuer, audience, `token_use`).
        """
        if not authorization:
            raise InvalidBearerTokenError("no bearer token (Authorization: Bearer <token>)")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidBearerTokenError("the Authorization header is not 'Bearer <token>'")
        try:
            kid = jwt.get_unverified_header(token.strip()).get("kid")
            key = next((k for k in self._keys.keys if k.key_id == kid), None)
            if key is None:
                raise InvalidBearerTokenError("the token is signed by a key this API does not know")
            claims: dict[str, Any] = jwt.decode(
                token.strip(),
                key=key,
                algorithms=[_ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidBearerTokenError("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise InvalidBearerTokenError("the token is not for this API (aud)") from None
        except jwt.InvalidIssuerError:
            raise InvalidBearerTokenError("the token is from another issuer (iss)") from None
        except jwt.InvalidSignatureError:
            raise InvalidBearerTokenError("the token's signature does not verify") from None
        except jwt.InvalidTokenError as error:
            raise InvalidBearerTokenError(f"the token is invalid ({error})") from None
        if claims.get("token_use") != "id":
            raise InvalidBearerTokenError("the token is not an ID token (token_use)")
        return claims
