import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Rendered } from './render';
import type { LiveSite } from './site';

/**
 * Applies rendered Linux files the way their headers tell an admin to: nft -f for nftables;
 * for iptables the ipsets first (ipset -exist restore), then iptables-restore -n and
 * ip6tables-restore -n, then the jumps into fwgen's chains that the header names. A gateway
 * file goes into the router, a host file into its device class's namespace.
 */

export interface Applied {
  /** Host mode: the classes whose namespace now holds their host file. */
  enforcing: Set<string>;
  /** What was loaded where, for messages. */
  loaded: string[];
}

function placeFor(site: LiveSite, rendered: Rendered, scope: string): string {
  if (rendered.mode === 'gateway') return site.router;
  const ns = site.classNs.get(scope);
  if (!ns) throw new Error(`a host file for '${scope}', which is not a device class of ${rendered.policy.profile.name}`);
  return ns;
}

/** The jump commands a rules file's header asks for ("# ... iptables -I INPUT -j FWGEN-IN; ..."). */
export function headerJumps(text: string): string[][] {
  const header = text.split('\n').filter((l) => l.startsWith('#')).join('\n');
  const jumps = [...header.matchAll(/\b(ip6?tables) (-[IA]) ([A-Z]+) -j (FWGEN-[A-Z0-9-]+)/g)].map((m) => [m[1]!, m[2]!, m[3]!, '-j', m[4]!]);
  if (jumps.length === 0) throw new Error('the rules file header names no jump into its chains');
  return jumps;
}

/** The files of one rendered target, grouped per place: '' for the gateway, a class id in host mode. */
function groups(rendered: Rendered, pattern: RegExp): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of rendered.files.keys()) {
    const m = pattern.exec(name);
    if (m) out.set(m[1]!.replace(/\.$/, ''), m[1]!);
  }
  return out;
}

export function applyNftables(site: LiveSite, rendered: Rendered, label: string): Applied {
  const dir = site.write(rendered, label);
  const enforcing = new Set<string>();
  const loaded: string[] = [];
  for (const [scope, base] of groups(rendered, /^(.*)\.nft$/)) {
    const ns = placeFor(site, rendered, scope);
    site.exec(ns, 'nft', ['-f', path.join(dir, `${base}.nft`)]);
    if (rendered.mode === 'host') enforcing.add(scope);
    loaded.push(`${base}.nft → ${ns}`);
  }
  return { enforcing, loaded };
}

export function applyIptables(site: LiveSite, rendered: Rendered, label: string): Applied {
  const dir = site.write(rendered, label);
  const enforcing = new Set<string>();
  const loaded: string[] = [];
  for (const [scope, base] of groups(rendered, /^(.*)rules\.v4$/)) {
    const ns = placeFor(site, rendered, scope);
    for (const [tool, file] of iptablesSteps(base)) {
      const p = path.join(dir, file);
      if (!fs.existsSync(p)) continue;
      site.exec(ns, tool, tool === 'ipset' ? ['-exist', 'restore'] : ['-n'], fs.readFileSync(p, 'utf8'));
      if (tool !== 'ipset') {
        for (const jump of headerJumps(fs.readFileSync(p, 'utf8'))) {
          if (jump[0] !== tool.replace('-restore', '')) throw new Error(`${file}: unexpected jump command ${jump.join(' ')}`);
          site.exec(ns, jump[0]!, jump.slice(1));
        }
      }
    }
    if (rendered.mode === 'host') enforcing.add(scope);
    loaded.push(`${base}rules.v4/v6 → ${ns}`);
  }
  return { enforcing, loaded };
}

function iptablesSteps(base: string): Array<[string, string]> {
  return [
    ['ipset', `${base}ipsets`],
    ['iptables-restore', `${base}rules.v4`],
    ['ip6tables-restore', `${base}rules.v6`],
  ];
}
