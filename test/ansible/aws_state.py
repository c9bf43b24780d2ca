"""What an EC2/CloudFormation endpoint holds, as JSON for the Ansible tests.

  aws_state.py ENDPOINT vpc                    -> the default VPC id
  aws_state.py ENDPOINT groups NAME...         -> {name: {ingress: [...], egress: [...]}} by group name
  aws_state.py ENDPOINT stack NAME TEMPLATE VPC -> the same for the groups of a new stack
  aws_state.py ENDPOINT newvpc CIDR            -> the id of a new VPC
  aws_state.py ENDPOINT deployed NAME          -> a deployed stack: {parameters: {...}, groups: {class: group}}

Each rule is [protocol, from, to, cidr, description], one per CIDR, sorted.
"""
import json
import sys

import boto3


def rules(perms):
    out = []
    for p in perms:
        proto, lo, hi = p['IpProtocol'], p.get('FromPort', -1), p.get('ToPort', -1)
        for r in p.get('IpRanges', []):
            out.append([proto, lo, hi, r['CidrIp'], r.get('Description', '')])
        for r in p.get('Ipv6Ranges', []):
            out.append([proto, lo, hi, r['CidrIpv6'], r.get('Description', '')])
    return sorted(out)


def describe(ec2, filters):
    groups = ec2.describe_security_groups(Filters=filters)['SecurityGroups']
    return {g['GroupName']: {'ingress': rules(g['IpPermissions']), 'egress': rules(g['IpPermissionsEgress']),
                             'tags': {t['Key']: t['Value'] for t in g.get('Tags', [])}, 'description': g['Description'],
                             'vpc': g.get('VpcId')} for g in groups}


def stack_groups(ec2, cfn, name):
    ids = [r['PhysicalResourceId'] for r in cfn.describe_stack_resources(StackName=name)['StackResources']
           if r['ResourceType'] == 'AWS::EC2::SecurityGroup']
    found = describe(ec2, [{'Name': 'group-id', 'Values': ids}])
    # Keyed by the device-class tag, since CloudFormation names the groups itself.
    return {g['tags'].get('fwgen:device-class', n): g for n, g in found.items()}


def main():
    endpoint, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    ec2 = boto3.client('ec2', endpoint_url=endpoint)
    if cmd == 'vpc':
        vpcs = ec2.describe_vpcs(Filters=[{'Name': 'is-default', 'Values': ['true']}])['Vpcs']
        print(json.dumps(vpcs[0]['VpcId']))
    elif cmd == 'groups':
        print(json.dumps(describe(ec2, [{'Name': 'group-name', 'Values': args}])))
    elif cmd == 'stack':
        name, template, vpc = args
        cfn = boto3.client('cloudformation', endpoint_url=endpoint)
        with open(template) as f:
            body = f.read()
        cfn.create_stack(StackName=name, TemplateBody=body, Parameters=[{'ParameterKey': 'VpcId', 'ParameterValue': vpc}])
        cfn.get_waiter('stack_create_complete').wait(StackName=name, WaiterConfig={'Delay': 1, 'MaxAttempts': 60})
        print(json.dumps(stack_groups(ec2, cfn, name)))
    elif cmd == 'newvpc':
        print(json.dumps(ec2.create_vpc(CidrBlock=args[0])['Vpc']['VpcId']))
    elif cmd == 'deployed':
        cfn = boto3.client('cloudformation', endpoint_url=endpoint)
        stack = cfn.describe_stacks(StackName=args[0])['Stacks'][0]
        params = {p['ParameterKey']: p['ParameterValue'] for p in stack.get('Parameters', [])}
        print(json.dumps({'parameters': params, 'groups': stack_groups(ec2, cfn, args[0])}))
    else:
        sys.exit(f'unknown command {cmd}')


if __name__ == '__main__':
    main()
