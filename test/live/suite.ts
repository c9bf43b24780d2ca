import * as fs from 'node:fs';
import * as path from 'node:path';
import { required, tools } from '../conformance/validators';
import { examplesRoot } from '../helpers';
import { netnsUnavailable } from './netns';
import type { Probe } from './probes';
import type { Outcome } from './site';

/** The example profiles, as paths; the live tests run every one of them. */
export const exampleProfiles: string[] = fs
  .readdirSync(examplesRoot)
  .filter((f) => f.endsWith('.yaml') && !f.endsWith('.lock.yaml'))
  .sort()
  .map((f) => path.join(examplesRoot, f));

/** Why the live tests cannot run here (no root, no namespaces, a tool missing), or undefined. */
export function liveUnavailable(extra: Array<keyof typeof tools> = []): string | undefined {
  const netns = netnsUnavailable();
  if (netns !== undefined) return `no network namespaces here (root needed): ${netns}`;
  const missing = (['nft', 'iptables', ...extra] as Array<keyof typeof tools>).filter((t) => !tools[t]);
  if (missing.length > 0) return `missing ${missing.join(', ')}`;
  if (!fs.existsSync('/usr/bin/ping') && !fs.existsSync('/bin/ping')) return 'missing ping (iputils-ping)';
  return undefined;
}

/**
 * test, or test.skip with a message, or a failing test when FWGEN_REQUIRE_VALIDATORS=1: the
 * live tests need root (named network namespaces, veth pairs) and the tools that apply rules.
 */
export function withLive(extra: Array<keyof typeof tools> = []): jest.It {
  const why = liveUnavailable(extra);
  if (why === undefined) return test;
  if (required) {
    return ((name: string) =>
      test(name, () => {
        throw new Error(`live-kernel tests cannot run (${why}) but FWGEN_REQUIRE_VALIDATORS=1: run them as root with .ci/run's packages`);
      })) as unknown as jest.It;
  }
  // eslint-disable-next-line no-console
  console.warn(`skipping live-kernel tests: ${why}`);
  return test.skip;
}

export function describeProbe(p: Probe): string {
  return `${p.proto} ${p.src} -> ${p.dst}${p.proto === 'icmp' ? '' : `:${p.port}`} (${p.why})`;
}

/** The probes whose outcome is not what the policy says, one line each: empty when all is well. */
export function mismatches(outcomes: Outcome[]): string[] {
  return outcomes
    .filter((o) => o.passed !== (o.probe.expect === 'pass'))
    .map((o) => `${o.probe.expect === 'pass' ? 'DROPPED but allowed' : 'PASSED but forbidden'}: ${describeProbe(o.probe)} [${o.detail}]`);
}

export function counts(probes: Probe[]): { pass: number; drop: number } {
  return { pass: probes.filter((p) => p.expect === 'pass').length, drop: probes.filter((p) => p.expect === 'drop').length };
}

/** A tag for namespace names, unique within this process: fwgen<pid><tag>-... */
let serial = 0;
export function nextTag(kind: string): string {
  return `${kind}${serial++}`;
}
