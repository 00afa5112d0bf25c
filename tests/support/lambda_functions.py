"""The Lambda functions infra/template.yaml declares, read from the template rather than listed
by hand (a function added there is checked without anyone remembering to): each one's handler,
runtime, architecture and the code parameter (Code.S3Key: !Ref <parameter>) that names its
bundle in infra/package.py's BUNDLES."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from cfnlint.decode import decode

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"


class LambdaFunction(NamedTuple):
    logical_id: str
    module: str  # the handler's module, e.g. workflows.entry.serve_loader
    attribute: str  # the handler's function in it, e.g. handler
    code_parameter: str | None  # None when S3Key is not a plain !Ref (the tests refuse that)
    runtime: str
    architectures: list[str]


def template_functions(template: Path = TEMPLATE) -> list[LambdaFunction]:
    parsed, errors = decode(str(template))
    assert not errors, errors
    out = []
    for logical_id, resource in sorted(parsed["Resources"].items()):
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        props = resource["Properties"]
        module, _, attribute = props["Handler"].rpartition(".")
        key = props.get("Code", {}).get("S3Key")
        parameter = key.get("Ref") if isinstance(key, dict) else None
        out.append(LambdaFunction(logical_id, module, attribute, parameter, props["Runtime"],
                                  list(props.get("Architectures", ["x86_64"]))))
    return out
