import * as ipaddr from 'ipaddr.js';
import type { Probe } from './probes';
import type { Rendered } from './render';

/**
 * A deliberately widened copy of rendered files, for the check that the harness notices a rule
 * that lets more through than the policy says: one rule's single port P becomes P to P+1.
 */
export interface Widened {
  rendered: Rendered;
  /** The forbidden probe that the widened rule now lets through. */
  probe: Probe;
}

/** Widens the port of the rule behind `probe` (an allowed probe on a single-port rule) in every file. */
export function widenPort(rendered: Rendered, probe: Probe, ruleId: string, probes: Probe[]): Widened {
  const next = besideAbove(probe, probes);
  if (!next) throw new Error(`no forbidden probe on port ${probe.port + 1} beside ${ruleId}`);
  const files = new Map<string, string>();
  let edits = 0;
  for (const [name, text] of rendered.files) {
    const lines = text.split('\n').map((line) => {
      if (!line.includes(`"${ruleId} (`)) return line;
      const widened = line
        .replace(new RegExp(`(?<!-)(dport )${probe.port}( )`), `$1${probe.port}-${probe.port + 1}$2`)
        .replace(new RegExp(`(--dport )${probe.port}( )`), `$1${probe.port}:${probe.port + 1}$2`);
      if (widened !== line) edits++;
      return widened;
    });
    files.set(name, lines.join('\n'));
  }
  if (edits === 0) throw new Error(`found no rule line of ${ruleId} with port ${probe.port} to widen`);
  return { rendered: { ...rendered, files }, probe: next };
}

/** The forbidden probe one port above an allowed one, same ends and protocol. */
export function besideAbove(probe: Probe, probes: Probe[]): Probe | undefined {
  return probes.find((p) => p.proto === probe.proto && p.src === probe.src && p.dst === probe.dst && p.port === probe.port + 1 && p.expect === 'drop');
}

/** The range one bit wider than `cidr` (198.51.100.0/24 → 198.51.100.0/23), canonical. */
export function supernet(cidr: string): string {
  const [addr, prefix] = ipaddr.parseCIDR(cidr);
  const wider = `${addr.toString()}/${prefix - 1}`;
  const network = addr.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(wider) : ipaddr.IPv6.networkAddressFromCIDR(wider);
  return `${network.toString()}/${prefix - 1}`;
}

/**
 * Widens one range of the policy by one bit wherever the files print it (a set element, an
 * ipset entry, a -s/-d match): the address just outside it on one side now falls inside.
 */
export function widenRange(rendered: Rendered, probe: Probe): Widened & { range: string; wider: string } {
  const range = probe.range!;
  const wider = supernet(range);
  const pattern = new RegExp(`(?<![0-9a-f.:])${range.replace(/[.]/g, '\\.')}(?![0-9])`, 'g');
  const files = new Map<string, string>();
  let edits = 0;
  for (const [name, text] of rendered.files) {
    files.set(
      name,
      text.replace(pattern, () => {
        edits++;
        return wider;
      }),
    );
  }
  if (edits === 0) throw new Error(`found ${range} in no rendered file`);
  return { rendered: { ...rendered, files }, probe, range, wider };
}
