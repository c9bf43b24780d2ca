import type { SnapshotLimit, SnapshotList } from '../policy/snapshot';
import { compareAnswers, compareClasses } from './answers';
import { subtractCidrs, subtractPorts, subtractStrings } from './sets';
import { portTexts, type FlowState, type SiteState, type Snapshot } from './snapshot';
import type { ChangeSet, Edge, FileChange, Flag, FlowChange, ListChange, ListSource, SiteChange, VendorPage } from './types';
import { append } from '../util/append';

/** A port range wider than this many ports is flagged. */
export const WIDE_PORT_RANGE = 100;
/** Prefixes shorter than these are flagged as wide (an explicit any is /0). */
const WIDE_PREFIX = { ipv4: 16, ipv6: 32 };

/** Compares two snapshots semantically: what each site allows, not how the text reads. */
export function compare(base: Snapshot, head: Snapshot): ChangeSet {
  const flags: Flag[] = [];
  const sites: SiteChange[] = [];
  const names = [...new Set([...base.sites.keys(), ...head.sites.keys()])].sort();
  for (const name of names) {
    const site = compareSite(base.sites.get(name), head.sites.get(name), flags);
    sites.push(site);
  }
  const lists = compareLists(base, head);
  for (const l of lists) {
    if (!l.before || !l.after) continue;
    const what = [
      l.before.recorded !== l.after.recorded ? `recorded ${l.before.recorded} → ${l.after.recorded}` : '',
      (l.before.version ?? '') !== (l.after.version ?? '') ? `version ${l.before.version ?? '(none)'} → ${l.after.version ?? '(none)'}` : '',
      (l.before.published ?? '') !== (l.after.published ?? '') ? `published ${l.before.published ?? '(none)'} → ${l.after.published ?? '(none)'}` : '',
      l.before.url !== l.after.url ? `source ${l.before.url} → ${l.after.url}` : '',
    ].filter(Boolean);
    flags.push({ kind: 'list-source-moved', message: `address list ${l.id}: ${what.join(', ')}`, origins: [] });
  }
  const flows = sites.flatMap((s) => s.flows);
  const count = (k: FlowChange['change']) => flows.filter((f) => f.change === k).length;
  const sitesChanged = sites.filter((s) => s.status !== 'unchanged').length;
  return {
    version: 1,
    base: base.label,
    head: head.label,
    // A class setting or an answer of the profile changes the policy as a reviewer approves it, whatever the flows do.
    policyChanged: sites.some((s) => s.status !== 'unchanged'),
    summary: {
      sites: sites.length,
      sitesChanged,
      flowsAdded: count('added'),
      flowsRemoved: count('removed'),
      flowsWidened: count('widened'),
      flowsNarrowed: count('narrowed'),
      flowsChanged: count('changed'),
      flags: flags.length,
      filesChanged: sites.reduce((n, s) => n + s.files.length, 0),
    },
    flags: sortFlags(flags),
    sites,
    lists,
    catalogNotCompared: [...base.rerendered].sort(),
  };
}

const FLAG_ORDER: Flag['kind'][] = [
  'any-address',
  'new-inbound',
  'wide-prefix',
  'wide-port-range',
  'required-removed',
  'target-limit',
  'name-unresolved',
  'name-stale',
  'list-source-moved',
];

function sortFlags(flags: Flag[]): Flag[] {
  return [...flags].sort(
    (a, b) =>
      FLAG_ORDER.indexOf(a.kind) - FLAG_ORDER.indexOf(b.kind) ||
      (a.site ?? '').localeCompare(b.site ?? '') ||
      (a.flow ?? '').localeCompare(b.flow ?? '') ||
      a.message.localeCompare(b.message),
  );
}

/** The vendor page a flow comes from, as the site's snapshot records it (after the change, else before). */
function pageOf(sites: Array<SiteState | undefined>, vendor: string, service: string): VendorPage | undefined {
  for (const site of sites) {
    const v = site?.vendors.find((x) => x.id === vendor);
    if (!v) continue;
    const cite = v.cites?.[service];
    return { vendor, title: v.title, ...(v.url ? { url: v.url } : {}), ...(cite ? { cite } : {}) };
  }
  return undefined;
}

function compareSite(base: SiteState | undefined, head: SiteState | undefined, flags: Flag[]): SiteChange {
  const name = (head ?? base)!.name;
  const flows: FlowChange[] = [];
  // Equal digests: the same rules, names and limits, so no flow and no flag can differ.
  const same = base !== undefined && head !== undefined && base.digest === head.digest;
  const keys = same ? [] : [...new Set([...(base?.flows.keys() ?? []), ...(head?.flows.keys() ?? [])])].sort();
  for (const key of keys) {
    const change = compareFlow(base?.flows.get(key), head?.flows.get(key), head?.lockFile ?? base?.lockFile);
    if (!change) continue;
    change.page = pageOf([head, base], change.vendor, change.service);
    flows.push(change);
    append(flags, flowFlags(name, change));
  }
  if (head && !same) append(append(flags, nameFlags(name, base, head)), limitFlags(name, base, head));
  // A new site's answers are all new; a removed site's go with it.
  const classes = base && head ? compareClasses(base.classes, head.classes) : [];
  const answers = head ? compareAnswers(base ?? { acknowledgements: [], exclusions: [] }, head) : [];
  const status = !base ? 'added' : !head ? 'removed' : flows.length + classes.length + answers.length > 0 ? 'changed' : 'unchanged';
  // Files are listed for what a reviewer approves: a site whose policy did not change lists none.
  const files = status === 'unchanged' ? [] : compareFiles(base?.files() ?? [], head?.files() ?? []);
  return {
    site: name,
    status,
    file: (head ?? base)!.file,
    flows,
    files,
    edges: edgesOf(base, head, flows),
    ...(classes.length > 0 ? { classes } : {}),
    ...(answers.length > 0 ? { answers } : {}),
  };
}

function compareFlow(before: FlowState | undefined, after: FlowState | undefined, lockFile: string | undefined): FlowChange | undefined {
  const b = before;
  const a = after;
  const ref = (a ?? b)!;
  const delta = (x: string[], y: string[]) => ({ added: subtractStrings(x, y), removed: subtractStrings(y, x) });
  const change: FlowChange = {
    id: ref.id,
    change: 'changed',
    deviceClass: ref.deviceClass,
    direction: ref.direction,
    vendor: ref.vendor,
    service: ref.service,
    serviceName: ref.serviceName,
    protocol: ref.protocol,
    requirement: ref.requirement,
    addresses: { added: subtractCidrs(a?.addresses ?? [], b?.addresses ?? []), removed: subtractCidrs(b?.addresses ?? [], a?.addresses ?? []) },
    names: delta(a?.names ?? [], b?.names ?? []),
    peers: delta(a?.peers ?? [], b?.peers ?? []),
    ports: { added: portTexts(subtractPorts(a?.ports ?? [], b?.ports ?? [])), removed: portTexts(subtractPorts(b?.ports ?? [], a?.ports ?? [])) },
    programs: delta(a?.programs ?? [], b?.programs ?? []),
    origins: ref.origins,
    locks: [],
  };
  if (!b) change.change = 'added';
  else if (!a) change.change = 'removed';
  else {
    const parts = [change.addresses, change.names, change.peers, change.ports, change.programs];
    const grew = parts.some((p) => p.added.length > 0);
    const shrank = parts.some((p) => p.removed.length > 0);
    if (!grew && !shrank && a.shape === b.shape) return undefined;
    change.change = grew && shrank ? 'changed' : grew ? 'widened' : shrank ? 'narrowed' : 'changed';
    const moved = Object.keys(a.pinned).some((n) => n in b.pinned && a.pinned[n]!.join() !== b.pinned[n]!.join());
    if (moved && lockFile) change.locks = [lockFile];
  }
  return change;
}

function prefixOf(cidr: string): { v6: boolean; prefix: number } {
  return { v6: cidr.includes(':'), prefix: Number(cidr.split('/')[1]) };
}

function flowFlags(site: string, f: FlowChange): Flag[] {
  const out: Flag[] = [];
  const at = { site, flow: f.id, origins: f.origins };
  const where = `${f.deviceClass} ${f.direction} ${f.protocol ?? 'program'}`;
  if (f.change === 'added' && f.direction === 'inbound') {
    out.push({ kind: 'new-inbound', message: `new inbound flow: ${where} (${f.vendor} ${f.service})`, ...at });
  }
  for (const c of f.addresses.added) {
    const { v6, prefix } = prefixOf(c);
    if (prefix === 0) out.push({ kind: 'any-address', message: `${where} now allows any ${v6 ? 'IPv6' : 'IPv4'} address (${c})`, ...at });
    else if (prefix < (v6 ? WIDE_PREFIX.ipv6 : WIDE_PREFIX.ipv4)) {
      out.push({ kind: 'wide-prefix', message: `${where} now allows ${c}, shorter than /${v6 ? WIDE_PREFIX.ipv6 : WIDE_PREFIX.ipv4}`, ...at });
    }
  }
  for (const p of f.ports.added) {
    const [from, to] = p.split('-').map(Number);
    if (to !== undefined && to - from! + 1 > WIDE_PORT_RANGE) {
      out.push({ kind: 'wide-port-range', message: `${where} now allows ports ${p} (${to - from! + 1} ports)`, ...at });
    }
  }
  if (f.change === 'removed' && f.requirement === 'required') {
    out.push({ kind: 'required-removed', message: `required flow removed: ${where} (${f.vendor} ${f.service})`, ...at });
  }
  return out;
}

function nameFlags(site: string, base: SiteState | undefined, head: SiteState): Flag[] {
  const out: Flag[] = [];
  for (const [name, info] of head.names) {
    if (info.wildcard) continue;
    const before = base?.names.get(name);
    const origins = head.lockFile ? [head.lockFile] : [];
    if (!info.pinned && (!before || before.pinned)) {
      out.push({ kind: 'name-unresolved', site, message: `${name} has no pinned addresses (run fwgen resolve)`, origins });
    } else if (info.stale) {
      // Per family: a failure that was already there at the base, even with a newer reason, is not new.
      const was = new Set(before?.staleFamilies ?? []);
      if (info.staleFamilies.some((f) => !was.has(f))) {
        out.push({ kind: 'name-stale', site, message: `${name}: the last lookup failed; addresses are from an earlier one (${info.stale})`, origins });
      }
    }
  }
  return out;
}

/**
 * Limits a target reports now that it did not before (AWS rule quotas and the like). A target
 * that installs another's files (ansible installs the aws files) repeats that target's limit
 * with a note: one limit is one flag, naming the targets it also stops.
 */
function limitFlags(site: string, base: SiteState | undefined, head: SiteState): Flag[] {
  const key = (d: { target: string; message: string }) => `${d.target}\u0000${d.message}`;
  const had = new Set((base?.limits ?? []).map(key));
  const fresh = head.limits.filter((d) => !had.has(key(d)));
  const repeatOf = (d: SnapshotLimit) =>
    fresh.find((o) => o !== d && o.target !== d.target && o.severity === d.severity && d.message.startsWith(`${o.message} (`));
  return fresh
    .filter((d) => !repeatOf(d))
    .map((d) => {
      const alsoStops = [...new Set(fresh.filter((c) => repeatOf(c) === d).map((c) => c.target))].sort();
      return {
        kind: 'target-limit' as const,
        site,
        message: `[${d.target}] ${d.severity}: ${d.message}${alsoStops.length ? ` (also stops ${alsoStops.join(', ')})` : ''}`,
        origins: d.at ? [d.at] : [],
      };
    });
}

function lineCounts(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of text.split('\n')) m.set(l, (m.get(l) ?? 0) + 1);
  return m;
}

/** Per file, lines added and removed, counted as multisets (rendered files are sorted). */
export function compareFiles(before: Array<{ path: string; content: string }>, after: Array<{ path: string; content: string }>): FileChange[] {
  const b = new Map(before.map((f) => [f.path, f.content]));
  const a = new Map(after.map((f) => [f.path, f.content]));
  const out: FileChange[] = [];
  for (const p of [...new Set([...b.keys(), ...a.keys()])].sort()) {
    const x = b.get(p);
    const y = a.get(p);
    if (x === y) continue;
    const bx = lineCounts(x ?? '');
    const ay = lineCounts(y ?? '');
    const more = (m: Map<string, number>, n: Map<string, number>) => [...m].reduce((s, [l, c]) => s + Math.max(0, c - (n.get(l) ?? 0)), 0);
    out.push({
      target: p.split('/')[1] ?? '',
      path: p,
      status: x === undefined ? 'added' : y === undefined ? 'removed' : 'changed',
      linesAdded: y === undefined ? 0 : x === undefined ? y.split('\n').length : more(ay, bx),
      linesRemoved: x === undefined ? 0 : y === undefined ? x.split('\n').length : more(bx, ay),
    });
  }
  return out;
}

/** The address lists a side's sites use, and where each list's addresses come from and when. */
function listsOf(side: Snapshot): Map<string, ListSource> {
  const out = new Map<string, ListSource>();
  for (const site of side.sites.values()) {
    for (const l of site.lists) out.set(l.id, sourceOf(l));
  }
  return out;
}

function sourceOf(l: SnapshotList): ListSource {
  return { url: l.url, recorded: l.recorded, ...(l.version !== undefined ? { version: l.version } : {}), ...(l.published !== undefined ? { published: l.published } : {}) };
}

/** Lists the sites use whose source moved (a new date or feed version is flagged), came or went. */
function compareLists(baseSide: Snapshot, headSide: Snapshot): ListChange[] {
  const base = listsOf(baseSide);
  const head = listsOf(headSide);
  const ids = [...new Set([...base.keys(), ...head.keys()])].sort();
  return ids
    .map((id) => ({ id, before: base.get(id), after: head.get(id) }))
    .filter((l) => JSON.stringify(l.before) !== JSON.stringify(l.after))
    .map((l) => ({ id: l.id, ...(l.before ? { before: l.before } : {}), ...(l.after ? { after: l.after } : {}) }));
}

/** Who may talk to whom at a site: device classes and the vendors (or peers) they reach. */
function edgesOf(base: SiteState | undefined, head: SiteState | undefined, changes: FlowChange[]): Edge[] {
  const changed = new Map(changes.map((c) => [c.id, c.change]));
  const edges = new Map<string, Edge & { kinds: Set<string> }>();
  const add = (f: FlowState, kind: string) => {
    const ends = f.peers.length > 0 ? f.peers : [f.vendor];
    for (const other of ends) {
      if (f.peers.length > 0 && f.direction === 'inbound') continue; // the peer's outbound half draws it
      const [from, to] = f.direction === 'outbound' ? [f.deviceClass, other] : [other, f.deviceClass];
      const k = `${from}\u0000${to}`;
      const e = edges.get(k) ?? { from, to, label: '', change: 'same' as const, kinds: new Set<string>() };
      const label = `${f.protocol ?? 'program'}${f.ports.length ? ' ' + portTexts(f.ports).join(',') : ''}`;
      e.label = [...new Set([...e.label.split('; ').filter(Boolean), label])].sort().join('; ');
      e.kinds.add(kind);
      edges.set(k, e);
    }
  };
  for (const f of head?.flows.values() ?? []) add(f, changed.get(f.id) ?? 'same');
  for (const f of base?.flows.values() ?? []) if (!head?.flows.has(f.id)) add(f, 'removed');
  return [...edges.values()]
    .map(({ kinds, ...e }) => ({
      ...e,
      change: (kinds.size === 1 && kinds.has('added') ? 'added' : kinds.size === 1 && kinds.has('removed') ? 'removed' : [...kinds].some((k) => k !== 'same') ? 'changed' : 'same') as Edge['change'],
    }))
    .sort((x, y) => x.from.localeCompare(y.from) || x.to.localeCompare(y.to));
}
