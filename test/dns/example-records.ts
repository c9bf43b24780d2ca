import { loadCatalog } from '../../src/catalog/load-catalog';
import { loadProfile } from '../../src/catalog/profile';
import { buildPolicy } from '../../src/policy/build';
import { lockableNames } from '../../src/resolve/update-lock';
import { exampleProfiles } from '../../src/workspace';
import { catalogRoot } from '../helpers';
import type { DnsRecord } from './dnsmasq';

/**
 * What fwgen's test DNS server answers for the names the shipped examples select. Every
 * address is a documentation address (RFC 5737, RFC 3849), never a vendor's real one.
 * A few names are made special so the example locks show each case: a CNAME chain, a name
 * with no AAAA, and Secure Trading's short TTL.
 */
export function exampleRecords(): DnsRecord[] {
  const catalog = loadCatalog(catalogRoot);
  const names = [...new Set(exampleProfiles().flatMap((p) => lockableNames(buildPolicy(catalog, loadProfile(p, catalog)))))].sort();
  const v4Blocks = ['192.0.2', '198.51.100', '203.0.113'];
  const records: DnsRecord[] = [];
  names.forEach((name, i) => {
    const ipv4 = [`${v4Blocks[i % 3]}.${10 + i}`];
    const ipv6 = [`2001:db8:53::${(10 + i).toString(16)}`];
    if (name === 'payxpress-soft-mpos.firebaseio.com') {
      records.push({ name, cname: 'edge.firebaseio-cdn.example', ttl: 3600 });
      records.push({ name: 'edge.firebaseio-cdn.example', cname: 'edge-1.firebaseio-cdn.example', ttl: 3600 });
      records.push({ name: 'edge-1.firebaseio-cdn.example', ipv4, ipv6, ttl: 3600 });
    } else if (name === 'www.qualcomm.cn') {
      records.push({ name, ipv4, ttl: 3600 });
    } else if (name === 'webservices.securetrading.example') {
      records.push({ name, ipv4: [ipv4[0]!, `${v4Blocks[(i + 1) % 3]}.${10 + i}`], ipv6, ttl: 30 });
    } else {
      records.push({ name, ipv4, ipv6, ttl: 3600 });
    }
  });
  return records;
}

export const EXAMPLE_LOCK_NOTE =
  "These addresses come from fwgen's test DNS server and are documentation addresses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), not the vendors' real addresses. Run fwgen resolve against your own resolver before using them.";
