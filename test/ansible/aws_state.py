"""What an EC2/CloudFormation endpoint holds, as JSON for the Ansible tests.

  aws_state.py ENDPOINT    then one question a line on stdin, a JSON array [COMMAND, ARG...]:
    ["vpc"]                      -> the default VPC id
    ["groups", NAME...]          -> {name: {ingress: [...], egress: [...]}} by group name
    ["stack", NAME, TEMPLATE, VPC] -> the same for the groups of a new stack
    ["newvpc", CIDR]             -> the id of a new VPC
    ["deployed", NAME]           -> a deployed stack: {parameters: {...}, groups: {class: group}}

Each answer is one line on stdout: {"ok": ANSWER} or {"error": MESSAGE}. One process answers
every question of a test file: importing boto3 costs about a CPU-second, more than a question.
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


def answer(ec2, cfn, cmd, args):
    if cmd == 'vpc':
        return ec2.describe_vpcs(Filters=[{'Name': 'is-default', 'Values': ['true']}])['Vpcs'][0]['VpcId']
    if cmd == 'groups':
        return describe(ec2, [{'Name': 'group-name', 'Values': args}])
    if cmd == 'stack':
        name, template, vpc = args
        with open(template) as f:
            body = f.read()
        cfn.create_stack(StackName=name, TemplateBody=body, Parameters=[{'ParameterKey': 'VpcId', 'ParameterValue': vpc}])
        cfn.get_waiter('stack_create_complete').wait(StackName=name, WaiterConfig={'Delay': 1, 'MaxAttempts': 60})
        return stack_groups(ec2, cfn, name)
    if cmd == 'newvpc':
        return ec2.create_vpc(CidrBlock=args[0])['Vpc']['VpcId']
    if cmd == 'deployed':
        stack = cfn.describe_stacks(StackName=args[0])['Stacks'][0]
        params = {p['ParameterKey']: p['ParameterValue'] for p in stack.get('Parameters', [])}
        return {'parameters': params, 'groups': stack_groups(ec2, cfn, args[0])}
    raise ValueError(f'unknown command {cmd}')


def main():
    endpoint = sys.argv[1]
    ec2 = boto3.client('ec2', endpoint_url=endpoint)
    cfn = boto3.client('cloudformation', endpoint_url=endpoint)
    for line in sys.stdin:
        cmd, *args = json.loads(line)
        try:
            reply = {'ok': answer(ec2, cfn, cmd, args)}
        except Exception as e:  # the test reports it with the question; the next question still gets its answer
            reply = {'error': f'{type(e).__name__}: {e}'}
        print(json.dumps(reply), flush=True)


if __name__ == '__main__':
    main()
