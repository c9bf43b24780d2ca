"""Validates AWS documents against botocore's service models, offline.

No client, no credentials, no network: the EC2 and Network Firewall models that ship with
botocore are loaded from disk and botocore's own ParamValidator checks the parameters.
Usage: aws_validate.py ec2-ingress|ec2-egress FILE...
Prints one line per problem and exits 1 when there is any.
"""
import json
import sys

from botocore.loaders import Loader
from botocore.model import ServiceModel
from botocore.validate import ParamValidator

OPERATIONS = {
    "ec2-ingress": ("ec2", "AuthorizeSecurityGroupIngress", lambda doc: {"GroupId": "sg-0123456789abcdef0", "IpPermissions": doc}),
    "ec2-egress": ("ec2", "AuthorizeSecurityGroupEgress", lambda doc: {"GroupId": "sg-0123456789abcdef0", "IpPermissions": doc}),
    "network-firewall-rule-group": ("network-firewall", "CreateRuleGroup", lambda doc: doc),
}


def main() -> int:
    kind, files = sys.argv[1], sys.argv[2:]
    service, operation, wrap = OPERATIONS[kind]
    loader = Loader()
    model = ServiceModel(loader.load_service_model(service, "service-2"), service_name=service)
    shape = model.operation_model(operation).input_shape
    failed = False
    for path in files:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        report = ParamValidator().validate(wrap(doc), shape)
        if report.has_errors():
            failed = True
            print(f"{path}: {report.generate_report()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
