import * as fs from 'node:fs';
import { buildPolicy } from '../../src/policy/build';
import { addressBookFor } from '../../src/resolve/address-book';
import { evaluate, prepare } from '../../src/ruleset/evaluate';
import { readRulesets } from '../../src/ruleset/readers';
import { answerFromPolicy, preparePolicy, resolveEnd } from '../../src/ruleset/policy-answer';
import { targetById } from '../../src/targets/registry';
import { renderPolicy } from '../../src/targets/render';
import { loadSite } from '../../src/workspace';
import { catalogRoot, tempDir } from '../helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { writeWorkload, scatteredAddresses } = require('../../bench/workloads') as {
  writeWorkload: (root: string, shape: { name: string; terms: number; perTerm: number; note: string }) => { profile: string };
  scatteredAddresses: (n: number) => string[];
};

/**
 * fwgen query on the benchmark's large workload (1,000 terms over 20,000 scattered /32s)
 * answers in under 200 ms once started: the policy built, the files read and their networks
 * parsed (what the command does first), the answer itself is timed, from the policy and from the rendered
 * nftables and iptables files, for the address the first-match walk reaches last.
 */

const LIMIT_MS = 200;

test('query answers on the large workload in under 200 ms after start-up', () => {
  const dir = tempDir('fwgen-query-speed-');
  const shape = { name: 'large', terms: 1000, perTerm: 20, note: '' };
  const { profile } = writeWorkload(dir, shape);
  const { catalog, profile: p } = loadSite(catalogRoot, profile);
  const policy = buildPolicy(catalog, p, addressBookFor(profile), false);
  const files = renderPolicy(policy, [targetById('nftables')!, targetById('iptables')!], p.targets).files;
  const text = (suffix: string) => ({ file: suffix, text: files.find((f) => f.path.endsWith(suffix))!.content });
  const nft = readRulesets([text('.nft')]);
  const ipt = readRulesets([text('.rules.v4'), text('.ipsets')]);
  const addresses = scatteredAddresses(shape.terms * shape.perTerm);
  const last = addresses[addresses.length - 1]!;
  // Start-up, as the command does it: every network parsed once.
  preparePolicy(policy);
  prepare([...nft, ...ipt]);

  const timed = <T>(f: () => T): [T, number] => {
    const start = process.hrtime.bigint();
    const v = f();
    return [v, Number(process.hrtime.bigint() - start) / 1e6];
  };
  const [fromPolicy, policyMs] = timed(() => answerFromPolicy(policy, resolveEnd(policy, 'ecommerce-web-server'), resolveEnd(policy, last), 'tcp', 443, 'host'));
  const packet = { family: 4 as const, protocol: 'tcp' as const, src: '203.0.113.10', dst: last, dport: 443, oif: { is: 'eth0' } };
  const [fromNft, nftMs] = timed(() => evaluate(nft, packet, 'output'));
  const [fromIpt, iptMs] = timed(() => evaluate(ipt, packet, 'output'));
  const [missNft, missMs] = timed(() => evaluate(nft, { ...packet, dst: '8.8.8.8' }, 'output'));

  expect([fromPolicy.verdict, fromNft.verdict, fromIpt.verdict, missNft.verdict]).toEqual(['allow', 'accept', 'accept', 'drop']);
  expect(fromPolicy.rules.map((r) => r.id)).toEqual(['site.t00999-web.ecommerce-web-server.out.tcp']);
  // eslint-disable-next-line no-console
  console.info(`query on the large workload: policy ${policyMs.toFixed(1)} ms, nftables ${nftMs.toFixed(1)} ms, iptables ${iptMs.toFixed(1)} ms, a drop ${missMs.toFixed(1)} ms`);
  expect(Math.max(policyMs, nftMs, iptMs, missMs)).toBeLessThan(LIMIT_MS);
  fs.rmSync(dir, { recursive: true, force: true });
}, 300_000);
