/**
 * The AWS play applied for real against a local EC2 endpoint (moto on loopback): the groups
 * then hold exactly the policy's rules, a second run changes nothing, a flow removed from the
 * profile is removed from the group, and the CloudFormation template deployed as a stack to the
 * same endpoint gives the same rules.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { catalogRoot, tempDir } from '../helpers';
import { awsPython, parseAnsible, playbook, renderExample, withAnsible } from './harness';
import { awsEnv, startMoto, type Moto } from './moto';

const it = withAnsible('ansible-playbook', 'moto');
const SITE = 'ecommerce-web';

type Rule = [string, number, number, string, string];
interface GroupState {
  ingress: Rule[];
  egress: Rule[];
}

let moto: Moto | undefined;
const env = awsEnv;
let endpoint = '';

function state(...args: string[]): Promise<unknown> {
  return moto!.state(...args);
}

/** What the aws target's IpPermissions files say, one entry per CIDR, as the endpoint reports it. */
function expected(site: string, cls: string): GroupState {
  const read = (dir: string): Rule[] => {
    const perms = JSON.parse(fs.readFileSync(path.join(site, 'aws', `${cls}.${dir}.json`), 'utf8')) as Array<{
      IpProtocol: string;
      FromPort: number;
      ToPort: number;
      IpRanges?: Array<{ CidrIp: string; Description: string }>;
      Ipv6Ranges?: Array<{ CidrIpv6: string; Description: string }>;
    }>;
    return perms
      .flatMap((p) => [
        ...(p.IpRanges ?? []).map((r): Rule => [p.IpProtocol, p.FromPort, p.ToPort, r.CidrIp, r.Description]),
        ...(p.Ipv6Ranges ?? []).map((r): Rule => [p.IpProtocol, p.FromPort, p.ToPort, r.CidrIpv6, r.Description]),
      ])
      .sort();
  };
  return { ingress: read('ingress'), egress: read('egress') };
}

interface CfnEntry {
  IpProtocol: string;
  FromPort?: number;
  ToPort?: number;
  CidrIp?: string;
  CidrIpv6?: string;
  Description: string;
}

function cfnRules(entries: CfnEntry[]): Rule[] {
  return entries.map((e): Rule => [e.IpProtocol, e.FromPort ?? -1, e.ToPort ?? -1, (e.CidrIp ?? e.CidrIpv6)!, e.Description]).sort();
}

function apply(site: string) {
  const vars = JSON.stringify({ fwgen_aws_region: 'us-east-1', fwgen_aws_endpoint_url: endpoint, ansible_python_interpreter: awsPython });
  return playbook(['-i', 'inventory.yml', 'aws.yml', '-e', vars], { cwd: path.join(site, 'ansible'), env });
}

function groups(site: string): { names: Record<string, string>; classes: string[] } {
  const vars = parseAnsible(fs.readFileSync(path.join(site, 'ansible/vars/aws.yml'), 'utf8')) as { fwgen_aws_groups: Array<{ name: string; device_class: string }> };
  return { names: Object.fromEntries(vars.fwgen_aws_groups.map((g) => [g.device_class, g.name])), classes: vars.fwgen_aws_groups.map((g) => g.device_class) };
}

function sorted(g: GroupState): GroupState {
  return { ingress: [...g.ingress].sort(), egress: [...g.egress].sort() };
}

beforeAll(async () => {
  if (!awsPython) return;
  moto = await startMoto();
  endpoint = moto.endpoint;
}, 60_000);

afterAll(() => moto?.stop());

describe('AWS security groups through amazon.aws.ec2_security_group', () => {
  it('holds exactly the policy, is idempotent, removes a dropped flow; the CloudFormation stack matches', async () => {
    const out = tempDir('fwgen-ansible-aws-');
    const hosts = (doc: Parameters<Parameters<typeof renderExample>[2] & object>[0]) => doc.setIn(['targets', 'ansible'], { hosts: { aws: ['aws-controller'] } });
    const site = renderExample(SITE, out, hosts);
    const { names, classes } = groups(site);
    expect(classes.length).toBeGreaterThan(0);

    const first = apply(site);
    expect(first.output).toMatch(/PLAY RECAP/);
    expect({ status: first.status, output: first.status === 0 ? '' : first.output }).toEqual({ status: 0, output: '' });
    const held = (await state('groups', ...Object.values(names))) as Record<string, GroupState>;
    for (const c of classes) expect(sorted(held[names[c]!]!)).toEqual(expected(site, c));

    const second = apply(site);
    expect(second.status).toBe(0);
    expect(second.changed).toBe(0);

    const before = expected(site, 'ecommerce-web-server');
    // Drop the Excoinz webhooks flow (inbound 8443) from the profile: the rule leaves the group.
    renderExample(SITE, out, (doc) => {
      hosts(doc);
      doc.setIn(['vendors', 'excoinz', 'exclude'], ['webhooks']);
    });
    const third = apply(site);
    expect(third.status).toBe(0);
    expect(third.changed).toBeGreaterThan(0);
    const after = ((await state('groups', names['ecommerce-web-server']!)) as Record<string, GroupState>)[names['ecommerce-web-server']!]!;
    expect(sorted(after)).toEqual(expected(site, 'ecommerce-web-server'));
    expect(before.ingress.some((r) => r[1] === 8443)).toBe(true);
    expect(after.ingress.some((r) => r[1] === 8443)).toBe(false);

    // The alternative path: the CloudFormation template as a stack on the same endpoint.
    const vpc = (await state('vpc')) as string;
    const stack = (await state('stack', `fwgen-${SITE}`, path.join(site, 'aws/security-groups.cfn.json'), vpc)) as Record<string, GroupState>;
    const template = JSON.parse(fs.readFileSync(path.join(site, 'aws/security-groups.cfn.json'), 'utf8')) as {
      Resources: Record<string, { Properties: { Tags: Array<{ Key: string; Value: string }>; SecurityGroupIngress: CfnEntry[]; SecurityGroupEgress: CfnEntry[] } }>;
    };
    for (const c of classes) {
      const want = expected(site, c);
      // moto builds a stack's group from SecurityGroupIngress CidrIp entries only (no IPv6, egress or
      // descriptions: moto/ec2/models/security_groups.py, create_from_cloudformation_json); that part
      // is compared as deployed, the rest of the template as written.
      const v4Ingress = (rules: Rule[]) => rules.filter((r) => r[3].includes('.')).map((r) => r.slice(0, 4)).sort();
      expect(v4Ingress(stack[c]!.ingress)).toEqual(v4Ingress(want.ingress));
      const resource = Object.values(template.Resources).find((r) => r.Properties.Tags.some((t) => t.Key === 'fwgen:device-class' && t.Value === c))!;
      // An empty egress list in the template is one rule that allows nothing (the default allow-all must not survive).
      if (want.egress.length === 0) want.egress = [['-1', -1, -1, '127.0.0.1/32', 'fwgen: no egress is allowed; this replaces the default allow-all rule']];
      expect({ ingress: cfnRules(resource.Properties.SecurityGroupIngress), egress: cfnRules(resource.Properties.SecurityGroupEgress) }).toEqual(want);
    }
  }, 300_000);

  it('a group description from a long class name with characters AWS refuses: cut to 255 allowed characters, the same in the vars, the template and the group', async () => {
    const catalog = tempDir('fwgen-ansible-aws-catalog-');
    fs.cpSync(catalogRoot, catalog, { recursive: true });
    const classes = path.join(catalog, 'device-classes.yaml');
    const long = `Web server "eu" <main> ${'with a very long name '.repeat(20)}`;
    fs.writeFileSync(classes, fs.readFileSync(classes, 'utf8').replace('name: E-commerce web server', `name: ${JSON.stringify(long)}`));
    // A group name of its own: AWS never changes the description of a group that exists.
    const edit = (doc: Parameters<Parameters<typeof renderExample>[2] & object>[0]) => {
      doc.setIn(['targets', 'ansible'], { hosts: { aws: ['aws-controller'] } });
      doc.setIn(['targets', 'aws', 'groupName'], 'fwgen-long-description');
    };
    const site = renderExample(SITE, tempDir('fwgen-ansible-aws-'), edit, catalog);
    const vars = parseAnsible(fs.readFileSync(path.join(site, 'ansible/vars/aws.yml'), 'utf8')) as { fwgen_aws_groups: Array<{ name: string; description: string; device_class: string }> };
    const group = vars.fwgen_aws_groups.find((g) => g.device_class === 'ecommerce-web-server')!;
    expect(group.description.length).toBeLessThanOrEqual(255);
    expect(group.description).toMatch(/^fwgen ecommerce-web: Web server eu main with a very long name .*\.\.\.$/);
    expect(group.description).toMatch(/^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]+$/);
    const template = JSON.parse(fs.readFileSync(path.join(site, 'aws/security-groups.cfn.json'), 'utf8')) as { Resources: Record<string, { Properties: { GroupDescription: string } }> };
    expect(Object.values(template.Resources).map((r) => r.Properties.GroupDescription)).toContain(group.description);

    const r = apply(site);
    expect({ status: r.status, output: r.status === 0 ? '' : r.output }).toEqual({ status: 0, output: '' });
    const held = (await state('groups', group.name)) as Record<string, { description: string }>;
    expect(held[group.name]!.description).toBe(group.description);
  }, 300_000);
});
