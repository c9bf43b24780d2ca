import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCatalog } from '../../src/catalog/load-catalog';
import { loadProfile } from '../../src/catalog/profile';
import { formatPorts } from '../../src/net/ports';
import { buildPolicy } from '../../src/policy/build';
import type { Policy } from '../../src/policy/types';
import { acmeProfile, acmeVendor, tempCatalog, withAnswers } from '../helpers';

/** One Acme service whose flows are the given address lists, each on its own port, all tcp out of pos-terminal. */
function policyWith(flows: Array<{ port: number; addresses: string[] }>): Policy {
  const items = flows
    .map((f) => `      - direction: outbound\n        protocol: tcp\n        ports: [${f.port}]\n        addresses: [${f.addresses.join(', ')}]\n`)
    .join('');
  const root = tempCatalog({
    'acme.yaml': acmeVendor(`  - id: api\n    name: Acme API\n    requirement: required\n    deviceClasses: [pos-terminal]\n    flows:\n${items}`),
  });
  const file = path.join(root, 'site.yaml');
  fs.writeFileSync(file, withAnswers(acmeProfile('  pos-terminal:\n    addresses: [10.0.0.0/24]\n'), [['management-access', 'pos-terminal']]));
  const catalog = loadCatalog(root);
  return buildPolicy(catalog, loadProfile(file, catalog));
}

const summary = (p: Policy) => p.rules.map((r) => `${r.id} ${formatPorts(r.ports)} ${r.remote.addresses.ipv4.join(' ')}`);

describe('rules that differ only in ports are merged', () => {
  test('the same networks, written differently, become one rule with both ports', () => {
    const p = policyWith([
      { port: 443, addresses: ['192.0.2.0/25', '192.0.2.128/25', '198.51.100.7'] },
      { port: 80, addresses: ['198.51.100.7/32', '192.0.2.0/24'] },
    ]);
    expect(summary(p)).toEqual(['acme.api.pos-terminal.out.tcp 80,443 192.0.2.0/24 198.51.100.7/32']);
    expect(p.rules[0]!.origins.map((o) => o.flow)).toEqual([0, 1]);
  });

  test('networks of the same count and the same first and last stay apart when one in the middle differs', () => {
    const p = policyWith([
      { port: 443, addresses: ['192.0.2.1', '192.0.2.5', '192.0.2.9'] },
      { port: 80, addresses: ['192.0.2.1', '192.0.2.7', '192.0.2.9'] },
      { port: 8080, addresses: ['192.0.2.1', '192.0.2.5', '192.0.2.9'] },
    ]);
    expect(summary(p)).toEqual([
      'acme.api.pos-terminal.out.tcp 80 192.0.2.1/32 192.0.2.7/32 192.0.2.9/32',
      'acme.api.pos-terminal.out.tcp.2 443,8080 192.0.2.1/32 192.0.2.5/32 192.0.2.9/32',
    ]);
  });
});
