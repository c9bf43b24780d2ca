/**
 * The generated pfsense.yml run for real: pfsensible.core's modules against a fixture config.xml
 * that also holds another fwgen site's items and the admin's own (pfsense-box.ts). After each run
 * the config is parsed back and compared with the policy (the rendered vars): this site's items
 * are exactly the vars', nothing else changed or moved. Then a second run changes nothing, and a
 * render without one flow removes that flow's rule and aliases and nothing else.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { aliasNamePrefix, ownerMark } from '../../src/targets/pfsense-identity';
import { tempDir } from '../helpers';
import { parseAnsible, renderExample, unlessMissing } from './harness';
import { configItems, fixtureConfig, missingForBox, OTHER_SITE as OTHER, PfsenseBox, type ConfigItems } from './pfsense-box';

const SITE = 'eu-restaurant-aloha';
const it = unlessMissing(missingForBox());

interface Vars {
  fwgen_pfsense_alias_prefix: string;
  fwgen_pfsense_rule_prefix: string;
  fwgen_pfsense_aliases: Array<{ name: string; type: string; address: string; descr: string; detail: string }>;
  fwgen_pfsense_rules: Array<Record<string, string>>;
}

/** A flow of the site's own, only in the first render: the one the third run must remove. */
const BACKUP_FLOW = { id: 'backup', name: 'Off-site backup', deviceClasses: ['boh-server'], direction: 'outbound', protocol: 'tcp', ports: [22, 873], addresses: ['198.51.100.7'] };

function render(dir: string, withBackup: boolean): { siteDir: string; vars: Vars } {
  const siteDir = renderExample(SITE, dir, (doc) => {
    doc.setIn(['targets', 'ansible', 'hosts'], doc.createNode({ pfsense: ['fw1'] }));
    if (withBackup) doc.addIn(['flows'], doc.createNode(BACKUP_FLOW));
  });
  return { siteDir, vars: parseAnsible(fs.readFileSync(path.join(siteDir, 'ansible/vars/pfsense.yml'), 'utf8')) as Vars };
}

const text = (v: unknown): string => (v === undefined ? '' : String(v));

/** A source or destination as pfsense_aggregate's items say it: [!]alias or address, NET:if, or any. */
function end(e: Record<string, unknown> | undefined): string {
  if (!e) return '';
  if (e.address !== undefined) return `${e.not !== undefined ? '!' : ''}${text(e.address)}`;
  if (e.network !== undefined) return `NET:${text(e.network)}`;
  return e.any !== undefined ? 'any' : '';
}

/** An element as comparable text: keys sorted, values as parsed. */
function canon(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${k}:${canon((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** This site's items, told apart independently of the module under test. */
function split(items: ConfigItems, vars: Vars) {
  const mark = vars.fwgen_pfsense_rule_prefix;
  const ownAlias = (a: Record<string, unknown>) => text(a.name).startsWith(vars.fwgen_pfsense_alias_prefix) && text(a.descr).startsWith(mark);
  const ownRule = (r: Record<string, unknown>) => text(r.descr).startsWith(mark) && r.floating === undefined;
  return {
    ownAliases: items.aliases.filter(ownAlias),
    ownRules: items.rules.filter(ownRule),
    otherAliases: items.aliases.filter((a) => !ownAlias(a)),
    otherRules: items.rules.filter((r) => !ownRule(r)),
  };
}

/** Every difference between this site's items in the config and the policy. */
function policyProblems(items: ConfigItems, vars: Vars): string[] {
  const problems: string[] = [];
  const { ownAliases, ownRules } = split(items, vars);
  const names = (list: Array<Record<string, unknown>>, key: string) => list.map((x) => text(x[key])).sort();
  if (canon(names(ownAliases, 'name')) !== canon(vars.fwgen_pfsense_aliases.map((a) => a.name).sort())) {
    problems.push(`aliases: config has ${names(ownAliases, 'name').join(' ')}; policy has ${vars.fwgen_pfsense_aliases.map((a) => a.name).sort().join(' ')}`);
  }
  for (const want of vars.fwgen_pfsense_aliases) {
    const got = ownAliases.find((a) => a.name === want.name);
    for (const field of ['type', 'address', 'descr', 'detail'] as const) {
      if (got && text(got[field]) !== want[field]) problems.push(`alias ${want.name}: ${field} is ${text(got[field])}, policy ${want[field]}`);
    }
  }
  if (canon(names(ownRules, 'descr')) !== canon(vars.fwgen_pfsense_rules.map((r) => r.name).sort())) {
    problems.push(`rules: config has ${names(ownRules, 'descr').join(' | ')}; policy has ${vars.fwgen_pfsense_rules.map((r) => r.name).sort().join(' | ')}`);
  }
  for (const want of vars.fwgen_pfsense_rules) {
    const got = ownRules.find((r) => r.descr === want.name);
    if (!got) continue;
    const dst = got.destination as Record<string, unknown>;
    const actual = {
      action: text(got.type),
      interface: text(got.interface),
      ipprotocol: text(got.ipprotocol),
      // pfSense writes no <protocol> for a rule on any protocol.
      protocol: got.protocol === undefined ? 'any' : text(got.protocol),
      source: end(got.source as Record<string, unknown>),
      destination: end(dst),
      destination_port: text(dst?.port),
      tracker: text(got.tracker),
    };
    for (const [field, value] of Object.entries(actual)) {
      if (value !== text(want[field])) problems.push(`rule ${want.name}: ${field} is ${value}, policy ${text(want[field])}`);
    }
  }
  return problems;
}

let box: PfsenseBox;
let first: { siteDir: string; vars: Vars };
let second: { siteDir: string; vars: Vars };
let fixture: ConfigItems;
let afterFirst = '';

const runPlay = (siteDir: string) =>
  box.play(['-i', path.join(siteDir, 'ansible/inventory.yml'), '-i', path.join(box.work, 'hosts.yml'), path.join(siteDir, 'ansible/pfsense.yml')]);

beforeAll(() => {
  box = new PfsenseBox();
  first = render(path.join(box.work, 'render-1'), true);
  second = render(path.join(box.work, 'render-2'), false);
  const config = fixtureConfig(first.vars.fwgen_pfsense_alias_prefix, first.vars.fwgen_pfsense_rule_prefix);
  fs.writeFileSync(box.configFile, config);
  fixture = configItems(config);
  // The firewall for the inventory's pfSense group: this machine, through the local connection.
  fs.writeFileSync(path.join(box.work, 'hosts.yml'), 'all:\n  hosts:\n    fw1:\n      ansible_connection: local\n      ansible_python_interpreter: /usr/bin/python3\n');
});
afterAll(() => box.remove());

describe('pfsense.yml against pfsensible.core', () => {
  it('the first run applies the policy and removes only this site\'s stale items', () => {
    const r = runPlay(first.siteDir);
    expect({ status: r.status, failed: r.failed }).toEqual({ status: 0, failed: 0 });
    expect(r.changed).toBeGreaterThan(0);
    afterFirst = box.config();
    const items = configItems(afterFirst);
    expect(policyProblems(items, first.vars)).toEqual([]);
    // The admin's, the other site's, the floating rule named like ours: unchanged and in their order.
    const before = split(fixture, first.vars);
    const now = split(items, first.vars);
    expect(now.otherAliases.map(canon)).toEqual(before.otherAliases.map(canon));
    expect(now.otherRules.map(canon)).toEqual(before.otherRules.map(canon));
    expect(before.otherRules.length).toBe(5);
    // The fixture's stale items, in both the CDATA form pfSense writes and the plain one pfsensible.core writes.
    const staleRules = before.ownRules.map((r) => text(r.descr));
    expect(staleRules).toEqual([
      `${first.vars.fwgen_pfsense_rule_prefix}old/vendor boh-server outbound tcp`,
      `${first.vars.fwgen_pfsense_rule_prefix}old/vendor boh-server inbound tcp`,
      `${first.vars.fwgen_pfsense_rule_prefix}stale {{ lookup('pipe', 'touch /cf/conf/templated') }} {% raw %}`,
    ]);
    for (const d of staleRules) expect(items.rules.some((x) => x.descr === d)).toBe(false);
    expect(fs.existsSync(path.join(box.work, 'conf/templated'))).toBe(false);
    expect(items.aliases.some((a) => a.name === `${first.vars.fwgen_pfsense_alias_prefix}old_vendor`)).toBe(false);
    // The flow of the later removal is in this policy.
    expect(first.vars.fwgen_pfsense_rules.some((x) => x.name.includes('site/backup'))).toBe(true);
  }, 240_000);

  it('the second run changes nothing', () => {
    const r = runPlay(first.siteDir);
    expect({ status: r.status, failed: r.failed, changed: r.changed }).toEqual({ status: 0, failed: 0, changed: 0 });
    expect(box.config()).toBe(afterFirst);
  }, 240_000);

  it('a render without a flow removes its rule and aliases and nothing else, from another folder', () => {
    const removedRules = first.vars.fwgen_pfsense_rules.map((x) => x.name).filter((n) => !second.vars.fwgen_pfsense_rules.some((y) => y.name === n));
    const removedAliases = first.vars.fwgen_pfsense_aliases.map((x) => x.name).filter((n) => !second.vars.fwgen_pfsense_aliases.some((y) => y.name === n));
    expect(removedRules).toEqual([`${first.vars.fwgen_pfsense_rule_prefix}site/backup boh-server outbound tcp`]);
    expect(removedAliases.length).toBe(2); // the backup host and its two ports
    const r = runPlay(second.siteDir);
    expect({ status: r.status, failed: r.failed }).toEqual({ status: 0, failed: 0 });
    expect(r.changed).toBeGreaterThan(0);
    const items = configItems(box.config());
    expect(policyProblems(items, second.vars)).toEqual([]);
    for (const n of removedRules) expect(items.rules.some((x) => x.descr === n)).toBe(false);
    for (const n of removedAliases) expect(items.aliases.some((x) => x.name === n)).toBe(false);
    // Everything else is as the first run left it, in the same order: other items and this site's remaining ones.
    const kept = (c: ConfigItems) => ({
      aliases: c.aliases.filter((a) => !removedAliases.includes(text(a.name))).map(canon),
      rules: c.rules.filter((x) => !removedRules.includes(text(x.descr))).map(canon),
    });
    expect(kept(items)).toEqual(kept(configItems(afterFirst)));
    expect(runPlay(second.siteDir)).toMatchObject({ status: 0, failed: 0, changed: 0 });
  }, 360_000);

  it('the pfsense target\'s config.xml carries the same identities as the play\'s vars', () => {
    const fragment = configItems(fs.readFileSync(path.join(first.siteDir, 'pfsense/config.xml'), 'utf8'));
    expect(fragment.aliases.map((a) => text(a.name)).sort()).toEqual(first.vars.fwgen_pfsense_aliases.map((a) => a.name).sort());
    expect(fragment.rules.map((x) => text(x.descr)).sort()).toEqual(first.vars.fwgen_pfsense_rules.map((x) => x.name).sort());
  });
});

/** The play's module run on its own, as Ansible runs it (a JSON file of arguments), against the fixture. */
describe('fwgen_pfsense_owned', () => {
  const moduleIt = unlessMissing(spawnSync('/usr/bin/python3', ['-c', 'import ansible']).status === 0 ? [] : ['ansible in /usr/bin/python3']);
  let dir = '';
  beforeAll(() => (dir = tempDir('fwgen-pfsense-owned-')));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function owned(args: Record<string, unknown>): { status: number; result: Record<string, unknown> } {
    const config = path.join(dir, 'config.xml');
    fs.writeFileSync(config, fixtureConfig(first.vars.fwgen_pfsense_alias_prefix, first.vars.fwgen_pfsense_rule_prefix));
    fs.writeFileSync(path.join(dir, 'args.json'), JSON.stringify({ ANSIBLE_MODULE_ARGS: { config, ...args } }));
    const r = spawnSync('/usr/bin/python3', [path.join(first.siteDir, 'ansible/library/fwgen_pfsense_owned.py'), path.join(dir, 'args.json')], { encoding: 'utf8' });
    return { status: r.status ?? -1, result: JSON.parse(r.stdout) as Record<string, unknown> };
  }
  const marks = () => ({ alias_prefix: first.vars.fwgen_pfsense_alias_prefix, descr_prefix: first.vars.fwgen_pfsense_rule_prefix });

  moduleIt('returns this site\'s stale items as lists, and nothing of the admin\'s or another site\'s', () => {
    const { status, result } = owned({ ...marks(), aliases: first.vars.fwgen_pfsense_aliases, rules: first.vars.fwgen_pfsense_rules });
    expect(status).toBe(0);
    const p = first.vars.fwgen_pfsense_alias_prefix;
    const m = first.vars.fwgen_pfsense_rule_prefix;
    expect(result).toMatchObject({
      changed: false,
      stale_aliases: [{ name: `${p}old_vendor`, state: 'absent' }],
      stale_rules: [
        { name: `${m}old/vendor boh-server outbound tcp`, interface: 'lan', state: 'absent' },
        { name: `${m}old/vendor boh-server inbound tcp`, interface: 'wan', state: 'absent' },
        { name: `${m}stale {{ lookup('pipe', 'touch /cf/conf/templated') }} {% raw %}`, interface: 'lan', state: 'absent' },
      ],
      owned_aliases: [`${p}c_boh_server`, `${p}old_vendor`],
    });
  });

  moduleIt('resolves interfaces as pfsense_aggregate does and refuses one the firewall lacks', () => {
    const rule = first.vars.fwgen_pfsense_rules[0]!;
    expect(owned({ ...marks(), aliases: [], rules: [{ ...rule, interface: 'dmz' }] }).status).toBe(0);
    // pfsense_aggregate would skip this rule without a word: the stock LAN has no description "LAN".
    const { status, result } = owned({ ...marks(), aliases: [], rules: [{ ...rule, interface: 'LAN' }] });
    expect(status).toBe(1);
    expect(result.msg).toBe(`rule ${JSON.stringify(rule.name)}: interface "LAN" is not on this firewall (it has: "wan", "lan", "opt1", "dmz")`);
  });

  moduleIt('refuses to take over an alias that is the admin\'s, and refuses empty marks', () => {
    const name = `${first.vars.fwgen_pfsense_alias_prefix}by_hand`;
    const { status, result } = owned({ ...marks(), aliases: [{ name }], rules: [] });
    expect(status).toBe(1);
    expect(result.msg).toMatch(new RegExp(`^aliases "${name}" exist on the firewall but are not this site's`));
    expect(owned({ alias_prefix: '', descr_prefix: ' ', aliases: [], rules: [] })).toMatchObject({ status: 1, result: { msg: 'alias_prefix and descr_prefix must not be empty' } });
  });
});
