"""Creates security groups on an EC2 endpoint (moto on loopback) and prints what
DescribeSecurityGroups returns for them, as the AWS CLI would (--output json).

  sg_describe.py ENDPOINT < spec.json

spec: [{"name": ..., "tags": {...}, "ingress": [IpPermissions...], "egress": [IpPermissions...] or null}]
A UserIdGroupPairs entry may name a group of the spec made before it ({"GroupName": ...}).
An egress list replaces the default allow-all egress rule; null keeps it. Groups are made
outside a VPC: moto counts IPv4 and IPv6 rules together against the VPC quota of 60, where
AWS counts each family apart, so a group fwgen fits in the quota could not be made in one.
"""
import json
import sys

import boto3

ec2 = boto3.client('ec2', endpoint_url=sys.argv[1], region_name='us-east-1')
ids = []
by_name = {}


def resolve(perms):
    for p in perms:
        for pair in p.get('UserIdGroupPairs', []):
            if 'GroupName' in pair:
                pair['GroupId'] = by_name[pair.pop('GroupName')]
    return perms


for g in json.load(sys.stdin):
    gid = ec2.create_security_group(GroupName=g['name'], Description='audit test')['GroupId']
    ids.append(gid)
    by_name[g['name']] = gid
    if g.get('tags'):
        ec2.create_tags(Resources=[gid], Tags=[{'Key': k, 'Value': v} for k, v in g['tags'].items()])
    if g.get('ingress'):
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=resolve(g['ingress']))
    if g.get('egress') is not None:
        ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[{'IpProtocol': '-1', 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
        if g['egress']:
            ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=resolve(g['egress']))
print(json.dumps(ec2.describe_security_groups(GroupIds=ids), indent=2, default=str))
