"""Deploying a service to AWS: its CloudFormation template, its Lambda bundles, its stack.

Build-time code, imported by the command line (`stepsaga synth`, `package`, `deploy`) and never
by a Lambda: it compiles sagas, which the lean runtime leaves out.
"""

from stepsaga.infra.aws.deploy._bundle import (
    LAMBDA_TARGET,
    Bundle,
    BundleError,
    Target,
    build_bundle,
    bundle_manifest,
    runtime_requirements,
)
from stepsaga.infra.aws.deploy._stack import (
    DeployError,
    DeployResult,
    StackEvent,
    deploy_service,
    parse_parameters,
)
from stepsaga.infra.aws.deploy._template import (
    ALARMED_ERRORS,
    API_STAGE,
    BUNDLE,
    LAMBDA_ARCHITECTURE,
    LAMBDA_RUNTIME,
    TRIGGER_HANDLER,
    UNSCOPED_ACTIONS,
    CodeLocation,
    SynthError,
    synthesise_template,
)

__all__ = (
    "ALARMED_ERRORS",
    "API_STAGE",
    "BUNDLE",
    "LAMBDA_ARCHITECTURE",
    "LAMBDA_RUNTIME",
    "LAMBDA_TARGET",
    "TRIGGER_HANDLER",
    "UNSCOPED_ACTIONS",
    "Bundle",
    "BundleError",
    "CodeLocation",
    "DeployError",
    "DeployResult",
    "StackEvent",
    "SynthError",
    "Target",
    "build_bundle",
    "bundle_manifest",
    "deploy_service",
    "parse_parameters",
    "runtime_requirements",
    "synthesise_template",
)
