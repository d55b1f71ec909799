"""`stepsaga token`: print a development JWT that `stepsaga serve` accepts."""

from __future__ import annotations

from pathlib import Path

import click

from stepsaga.domain import InvalidIdentifierError, TenantId


@click.command()
@click.option("--tenant", required=True, help="The custom:tenant claim, a tenant code.")
@click.option("--sub", required=True, help="The subject (sub), who the caller is.")
@click.option("--email", default=None, help="The email claim.")
@click.option("--groups", default="", help="Cognito groups (cognito:groups), separated by commas.")
@click.option(
    "--ttl",
    type=int,
    default=3600,
    show_default=True,
    help="Seconds until it expires (a negative value makes an expired token).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8080,
    show_default=True,
    help="The port of the serve that will read it (part of the issuer).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Its host (the issuer's).")
@click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The signing key (default: $STEPSAGA_DEV_KEY, else ~/.cache/stepsaga/dev-key.pem).",
)
def token(
    tenant: str,
    sub: str,
    email: str | None,
    groups: str,
    ttl: int,
    port: int,
    host: str,
    key: Path | None,
) -> None:
    """Print an RS256 ID token, Cognito-shaped, for `stepsaga serve --port PORT`.

    It is signed by a local development key, created the first time in your cache folder
    (or --key FILE); `serve` publishes that key's JWKS and accepts nothing else.

        curl -H "Authorization: Bearer $(stepsaga token --tenant acme --sub ann)" ...
    """
    from stepsaga.infra.local.gateway import DevKey, issuer_url

    try:
        TenantId(tenant)
    except InvalidIdentifierError as error:
        raise click.BadParameter(error.reason, param_hint="--tenant") from None
    if not sub.strip():
        raise click.BadParameter("must not be empty", param_hint="--sub")
    try:
        signer = DevKey.load(key)
    except (ValueError, OSError) as error:
        raise click.BadParameter(str(error), param_hint="--key") from None
    chosen = tuple(g.strip() for g in groups.split(",") if g.strip())
    click.echo(
        signer.issue(
            issuer=issuer_url(host, port),
            tenant=tenant,
            sub=sub,
            email=email,
            groups=chosen,
            ttl=ttl,
        )
    )
