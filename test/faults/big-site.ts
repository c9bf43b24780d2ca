import * as fs from 'node:fs';
import * as path from 'node:path';
import { catalogRoot, tempDir } from '../helpers';

/**
 * A site large enough that rendering it takes a noticeable time and writes hundreds of
 * files: `classes` device classes, each with its own files in every target, and flows with
 * many addresses. `variant` moves every class to other addresses and drops the last one, so the next render
 * changes every file and removes some: the old and new sets differ everywhere.
 */
export function bigSite(classes: number, addressesPerFlow: number): { catalog: string; profile(variant: number, name?: string): string } {
  const root = tempDir('fwgen-big-');
  const catalog = path.join(root, 'catalog');
  fs.mkdirSync(path.join(catalog, 'vendors'), { recursive: true });
  fs.mkdirSync(path.join(catalog, 'lists'));
  for (const f of fs.readdirSync(path.join(catalogRoot, 'lists'))) fs.copyFileSync(path.join(catalogRoot, 'lists', f), path.join(catalog, 'lists', f));
  const ids = Array.from({ length: classes }, (_, i) => `class-${String(i).padStart(3, '0')}`);
  fs.writeFileSync(
    path.join(catalog, 'device-classes.yaml'),
    'deviceClasses:\n' + ids.map((id) => `  - id: ${id}\n    name: Device ${id}\n    description: A generated device class.\n    os: any\n`).join(''),
  );
  const addresses = (flow: number) =>
    Array.from({ length: addressesPerFlow }, (_, i) => `10.${flow}.${Math.floor(i / 250)}.${(i % 250) + 1}`).join(', ');
  fs.writeFileSync(
    path.join(catalog, 'vendors', 'bulk.yaml'),
    `vendor:
  id: bulk
  name: Bulk Vendor
  source: { title: Generated page, seed: generated.txt }
services:
  - id: api
    name: Bulk API
    requirement: required
    deviceClasses: [${ids.join(', ')}]
    flows:
${[1, 2, 3]
  .map(
    (f) => `      - direction: outbound
        protocol: tcp
        ports: [443, ${8000 + f}]
        addresses: [${addresses(f)}]
`,
  )
  .join('')}`,
  );
  return {
    catalog,
    profile(variant: number, name = 'big-site') {
      const file = path.join(root, `${name}-${variant}.yaml`);
      const bound = variant === 0 ? ids : ids.slice(0, -1);
      fs.writeFileSync(
        file,
        `profile:
  name: ${name}
region: eu
environment: production
vendors:
  bulk: {}
deviceClasses:
${bound.map((id, i) => `  ${id}: { addresses: [172.${16 + variant}.${i}.0/24] }\n`).join('')}targets:
  nftables: { mode: host }
  iptables: { mode: host }
  aws: { maxRules: 1000 }
acknowledge:
${bound.map((id) => `  - { check: management-access, deviceClass: ${id}, reason: Generated devices that are never applied }\n`).join('')}`,
      );
      return file;
    },
  };
}
