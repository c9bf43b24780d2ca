/**
 * The AWS plays' settings come from the user's inventory (an inventory file, group_vars and
 * host_vars beside it; never -e), whichever order the inventories are named in, and are
 * honoured by the security groups and the CloudFormation stack (moto on loopback). Two sites
 * with one controller each: each stack and each set of groups holds its own site's groups.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { runInProcess, tempDir } from '../helpers';
import { awsPython, editExample, parseAnsible, playbook, renderExample, withAnsible } from './harness';
import { awsEnv, startMoto, type Moto } from './moto';

const it = withAnsible('ansible-playbook', 'moto');

let moto: Moto | undefined;

beforeAll(async () => {
  if (awsPython) moto = await startMoto();
}, 60_000);

afterAll(() => moto?.stop());

type Doc = Parameters<NonNullable<Parameters<typeof renderExample>[2]>>[0];
const controller = (name: string) => (doc: Doc) => doc.setIn(['targets', 'ansible'], { hosts: { aws: [name] } });

interface Group {
  vpc: string;
  tags: Record<string, string>;
}

/** The site's groups as vars/aws.yml lists them: name → device class. */
function siteGroups(site: string): Record<string, string> {
  const vars = parseAnsible(fs.readFileSync(path.join(site, 'ansible/vars/aws.yml'), 'utf8')) as { fwgen_aws_groups: Array<{ name: string; device_class: string }> };
  return Object.fromEntries(vars.fwgen_aws_groups.map((g) => [g.name, g.device_class]));
}

/**
 * A CloudFormation run: the stack is created, then the module lists the stack's resources and
 * reads their LastUpdatedTimestamp, which moto 5 spells LastUpdateTimestamp
 * (moto/cloudformation/responses.py, list_stack_resources). That one KeyError, after every
 * stack of the run was created, counts as deployed; the stacks are then read back.
 */
function stackRun(r: { status: number; output: string }, stacks: number): { status: number; output: string } {
  const motoTypo = (r.output.match(/The error was: KeyError: 'LastUpdatedTimestamp'/g) ?? []).length;
  const failed = (r.output.match(/^fatal: |^failed: /gm) ?? []).length;
  return r.status !== 0 && motoTypo === stacks && failed === stacks ? { status: 0, output: '' } : ok(r);
}

/** A run's status, with its output (the end of it: the recap and what failed) only when it failed. */
function ok(r: { status: number; output: string }): { status: number; output: string } {
  return { status: r.status, output: r.status === 0 ? '' : r.output.slice(-3000) };
}

describe('AWS settings from the inventory', () => {
  it('fwgen_aws_vpc_id, _stack_name, _region and _endpoint_url from an inventory file, group_vars and host_vars, in either inventory order', async () => {
    const site = renderExample('ecommerce-web', tempDir('fwgen-ansible-aws-settings-'), controller('aws-controller'));
    const vpc = (await moto!.state('newvpc', '10.77.0.0/16')) as string;
    expect(vpc).not.toBe(await moto!.state('vpc'));

    // The user's own inventory, in a folder of its own: each setting from another place.
    const mine = tempDir('fwgen-ansible-mine-');
    fs.writeFileSync(path.join(mine, 'mine.yml'), stringify({ all: { children: { ecommerce_web_aws: { vars: { fwgen_aws_vpc_id: vpc } } } } }));
    fs.mkdirSync(path.join(mine, 'group_vars'));
    fs.writeFileSync(path.join(mine, 'group_vars/all.yml'), stringify({ fwgen_aws_stack_name: 'shop-stack-from-group-vars' }));
    fs.mkdirSync(path.join(mine, 'host_vars'));
    fs.writeFileSync(
      path.join(mine, 'host_vars/aws-controller.yml'),
      stringify({ fwgen_aws_region: 'us-east-1', fwgen_aws_endpoint_url: moto!.endpoint, ansible_python_interpreter: awsPython }),
    );
    const siteInventory = path.join(site, 'ansible/inventory.yml');

    // Without a VPC the stack is refused before anything is sent.
    const none = playbook(['-i', siteInventory, path.join(site, 'ansible/aws-cloudformation.yml')], { env: awsEnv, cwd: mine });
    expect(none.status).not.toBe(0);
    expect(none.output).toContain('Set fwgen_aws_vpc_id');

    const groups = playbook(['-i', 'mine.yml', '-i', siteInventory, path.join(site, 'ansible/aws.yml')], { env: awsEnv, cwd: mine });
    expect(ok(groups)).toEqual({ status: 0, output: '' });
    const names = siteGroups(site);
    const held = (await moto!.state('groups', ...Object.keys(names))) as Record<string, Group>;
    expect(Object.keys(held).sort()).toEqual(Object.keys(names).sort());
    for (const g of Object.values(held)) expect(g.vpc).toBe(vpc);

    const stack = playbook(['-i', siteInventory, '-i', 'mine.yml', path.join(site, 'ansible/aws-cloudformation.yml')], { env: awsEnv, cwd: mine });
    expect(stackRun(stack, 1)).toEqual({ status: 0, output: '' });
    const deployed = (await moto!.state('deployed', 'shop-stack-from-group-vars')) as { parameters: Record<string, string>; groups: Record<string, Group> };
    expect(deployed.parameters.VpcId).toBe(vpc);
    expect(Object.keys(deployed.groups).sort()).toEqual(Object.values(names).sort());
    for (const g of Object.values(deployed.groups)) expect(g.vpc).toBe(vpc);
  }, 300_000);

  it('two sites with a controller each: each stack and each site\'s groups hold that site\'s groups only', async () => {
    const sites = { 'ecommerce-web': 'ctl-web', 'eu-restaurant-aloha': 'ctl-aloha' };
    const profiles = Object.entries(sites).flatMap(([name, ctl]) => ['-p', editExample(name, controller(ctl))]);
    const out = tempDir('fwgen-ansible-two-sites-');
    const r = await runInProcess(['inventory', ...profiles, '-o', out]);
    expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });

    // The user's inventory first: the plays must not take their folder from whichever inventory named a host first.
    const mine = tempDir('fwgen-ansible-mine-');
    const settings = { fwgen_aws_region: 'us-east-1', fwgen_aws_endpoint_url: moto!.endpoint, fwgen_aws_vpc_id: await moto!.state('vpc') };
    // The Python with boto3, as host vars (the site's group names the one running Ansible).
    const hosts = Object.fromEntries(Object.values(sites).map((h) => [h, { ansible_python_interpreter: awsPython }]));
    fs.writeFileSync(path.join(mine, 'mine.yml'), stringify({ all: { hosts, vars: settings } }));
    const inventories = ['-i', path.join(mine, 'mine.yml'), '-i', path.join(out, 'inventory.yml')];
    const groups = playbook([...inventories, path.join(out, 'site.yml'), '--tags', 'fwgen_aws', '--limit', Object.values(sites).join(',')], { env: awsEnv, cwd: mine });
    expect(ok(groups)).toEqual({ status: 0, output: '' });
    // One run per stack: a run stops at a play whose every host failed, which moto's answer makes each one do.
    for (const name of Object.keys(sites)) {
      const deploy = playbook([...inventories, path.join(out, name, 'ansible/aws-cloudformation.yml')], { env: awsEnv, cwd: mine });
      expect(stackRun(deploy, 1)).toEqual({ status: 0, output: '' });
    }

    for (const name of Object.keys(sites)) {
      const own = siteGroups(path.join(out, name));
      const held = (await moto!.state('groups', ...Object.keys(own))) as Record<string, Group>;
      expect(Object.keys(held).sort()).toEqual(Object.keys(own).sort());
      for (const g of Object.values(held)) expect(g.tags['fwgen:profile']).toBe(name);
      const deployed = (await moto!.state('deployed', `fwgen-${name}`)) as { groups: Record<string, Group> };
      expect(Object.keys(deployed.groups).sort()).toEqual(Object.values(own).sort());
      for (const g of Object.values(deployed.groups)) expect(g.tags['fwgen:profile']).toBe(name);
    }
  }, 300_000);
});
