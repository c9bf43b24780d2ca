import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIdentity } from '../catalog/build-identity';
import { catalogFiles } from '../catalog/load-catalog';
import type { Profile } from '../catalog/profile';
import type { Catalog } from '../catalog/types';
import { isWithin } from '../fs';
import { isHexId } from '../fs/git-tree';
import { policyListIds } from '../policy/snapshot';
import type { Policy } from '../policy/types';
import { lockPathFor } from '../resolve/lock';
import type { RenderedFile } from '../targets/render';
import { displayPath, packageRoot } from '../util/paths';
import type { Workspace } from '../site/workspace-file';
import type { FleetEntry } from './inventory';

/**
 * The render record, out/<site>/inputs.json: what a site was rendered from (digests of its
 * profile, lock, the catalog files it selects, fwgen.yaml, fwgen's build) and what the render
 * wrote (the Git blob id of each file), with the site's entry in the fleet inventory. `check
 * --base REV` and `diff --base REV` skip a site whose record in the base revision still names
 * what the head holds (incremental.ts); a record a change brings is only ever compared with
 * what a render makes, never believed.
 */
export const RECORD_FILE = 'inputs.json';
export const RECORD_VERSION = 1;

export interface SiteRecord {
  version: typeof RECORD_VERSION;
  site: string;
  /** fwgen's build identity (catalog/build-identity.ts); in fwgen's own checkout its version only. */
  fwgen: string;
  /** sha256 of fwgen.yaml. */
  workspace: string;
  options: { allowUnresolved: boolean };
  profile: RecordedFile;
  lock?: RecordedFile;
  catalog: {
    /**
     * The files the site selects, by the name messages give them: sha256 of each. A catalog
     * file added or removed (which can change what a site selects) is not recorded here, or
     * every site's record would change with it: incremental.ts compares the catalog folders'
     * listings of the base and the head instead.
     */
    files: Record<string, string>;
  };
  /** The address lists the site's policy names: diff compares their sources for a site it does not render. */
  lists: string[];
  /** Every file written for the site but this one, relative to the output folder: its Git blob id. */
  outputs: Record<string, string>;
  /** The site's entry in the fleet's inventory, so that a site not rendered again needs no parsing. */
  fleet: FleetEntry;
}

export interface RecordedFile {
  /** Relative to the workspace root. */
  file: string;
  sha256: string;
}

/** What every site of one run shares: computed once per thread, the same in render and in check. */
export interface WorkspaceInputs {
  fwgen: string;
  workspace: string;
  /** Displayed name → sha256, for every catalog file. */
  catalogFiles: Map<string, string>;
  deviceClassFiles: string[];
}

export function recordPath(site: string): string {
  return `${site}/${RECORD_FILE}`;
}

export function sha256(bytes: Buffer | string): string {
  // The one-shot hash where Node has it: check hashes every profile of a fleet.
  return typeof crypto.hash === 'function' ? crypto.hash('sha256', bytes, 'hex') : crypto.createHash('sha256').update(bytes).digest('hex');
}

/** A file's id as Git names the blob (SHA-1 object format). */
export function gitBlobId(content: string | Buffer): string {
  // A text is hashed as it is: a copy of it as bytes, for every file of every site, fed the GC.
  if (typeof content !== 'string') return crypto.createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
  return crypto.createHash('sha1').update(`blob ${Buffer.byteLength(content, 'utf8')}\0`).update(content, 'utf8').digest('hex');
}

/** What fileDigest reads files into, kept from one file to the next. */
let scratch = Buffer.allocUnsafe(1 << 16);

/** sha256 of a regular file's bytes; '' for a file that is missing or not a regular file. */
export function fileDigest(file: string): string {
  // Only a regular file is opened: a link's target, a FIFO or a device is never read.
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!st?.isFile()) return '';
  // Read into one buffer kept for the next file: check digests every profile of a fleet.
  const fd = fs.openSync(file, 'r');
  try {
    let size = 0;
    for (;;) {
      if (size === scratch.length) scratch = Buffer.concat([scratch, Buffer.allocUnsafe(scratch.length)]);
      const n = fs.readSync(fd, scratch, size, scratch.length - size, null);
      if (n === 0) break;
      size += n;
    }
    return sha256(scratch.subarray(0, size));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * fwgen's own checkout renders its examples with code that changes between commits without a
 * new build: its records name the version only (so that they do not move with every change
 * of code) and are never used to skip a site there.
 */
export function isOwnCheckout(ws: Pick<Workspace, 'root'>): boolean {
  return isWithin(packageRoot, ws.root);
}

function recordedBuild(ws: Workspace): string {
  if (!isOwnCheckout(ws)) return buildIdentity();
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return `${pkg.version} (checkout)`;
}

export function workspaceInputs(ws: Workspace): WorkspaceInputs {
  const files = catalogFiles(ws.catalogLayers, [], ws.root);
  const digests = new Map<string, string>();
  for (const file of [...files.deviceClasses, ...files.lists, ...files.vendors]) digests.set(displayPath(file, ws.root), fileDigest(file));
  return {
    fwgen: recordedBuild(ws),
    workspace: sha256(fs.readFileSync(ws.file)),
    catalogFiles: digests,
    deviceClassFiles: files.deviceClasses.map((f) => displayPath(f, ws.root)),
  };
}

/**
 * The catalog files a site's render reads: every device-classes file, the files of the
 * vendors it names and every address list those vendors' flows (or its own rules) name.
 * Whatever else the catalog holds cannot change the site's output but through a file added
 * or removed, which incremental.ts looks for in the catalog folders.
 */
function selectedCatalogFiles(catalog: Catalog, profile: Profile, policy: Policy, wi: WorkspaceInputs): Record<string, string> {
  const names = new Set<string>(wi.deviceClassFiles);
  const lists = new Set<string>();
  for (const r of policy.rules) for (const l of r.remote.lists) lists.add(l);
  for (const id of profile.vendors.keys()) {
    const vendor = catalog.vendors.get(id);
    if (!vendor) continue;
    names.add(vendor.file);
    for (const s of vendor.services) for (const f of s.flows) for (const l of f.lists) lists.add(l);
  }
  for (const id of lists) {
    const list = catalog.lists.get(id);
    if (list) names.add(list.origin.file);
  }
  const out: Record<string, string> = {};
  // A name the catalog does not hold digests as '', which no file has: such a record never matches.
  for (const name of [...names].sort()) out[name] = wi.catalogFiles.get(name) ?? '';
  return out;
}

const byPath = (a: RenderedFile, b: RenderedFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** The record of one rendered site; `files` are everything written for it (the policy snapshot included). */
export function siteRecord(
  ws: Workspace,
  wi: WorkspaceInputs,
  r: { catalog: Catalog; profile: Profile; profileFile: string; policy: Policy; files: RenderedFile[]; entry: FleetEntry; allowUnresolved: boolean },
): RenderedFile {
  const outputs: Record<string, string> = {};
  for (const f of [...r.files].sort(byPath)) outputs[f.path] = gitBlobId(f.content);
  const lock = lockPathFor(r.profileFile);
  const lockDigest = fileDigest(lock);
  const record: SiteRecord = {
    version: RECORD_VERSION,
    site: r.profile.name,
    fwgen: wi.fwgen,
    workspace: wi.workspace,
    options: { allowUnresolved: r.allowUnresolved },
    profile: { file: relPath(ws, r.profileFile), sha256: fileDigest(r.profileFile) },
    ...(lockDigest ? { lock: { file: relPath(ws, lock), sha256: lockDigest } } : {}),
    catalog: { files: selectedCatalogFiles(r.catalog, r.profile, r.policy, wi) },
    lists: policyListIds(r.policy),
    outputs,
    fleet: r.entry,
  };
  return { path: recordPath(record.site), content: JSON.stringify(record, null, 1) + '\n' };
}

export function relPath(ws: Pick<Workspace, 'root'>, file: string): string {
  // A file under the root by a plain path (no '.', '..' or empty part) is what follows the
  // root: check --base names every profile and lock of a fleet, and path.relative resolves both.
  const { root } = ws;
  if (file.length > root.length + 1 && file.startsWith(root) && file[root.length] === path.sep && path.isAbsolute(root)) {
    const rest = file.slice(root.length + 1);
    if (!NOT_PLAIN.test(rest)) return path.sep === '/' ? rest : rest.split(path.sep).join('/');
  }
  return path.relative(root, file).split(path.sep).join('/');
}

/** A part of a path that path.relative would resolve away: '.', '..', an empty one. */
const NOT_PLAIN = /(^|[\\/])\.{0,2}([\\/]|$)/;

const HEX64 = /^[0-9a-f]{64}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRecorded = (v: unknown): v is RecordedFile => isObject(v) && typeof v.file === 'string' && typeof v.sha256 === 'string' && HEX64.test(v.sha256);

/** A base record as incremental.ts reads it. */
export interface BaseRecord extends Omit<SiteRecord, 'fleet' | 'outputs'> {
  /** SiteRecord.outputs as [path, blob id] pairs, in the record's order. */
  outputs: Array<[string, string]>;
  /** The site's entry in the fleet inventory: parsed when called; undefined when it is not one. */
  fleet(): FleetEntry | undefined;
}

/** How JSON.stringify(record, null, 1) starts the last two members of every record siteRecord writes, and ends it. */
const OUTPUTS_MEMBER = Buffer.from(',\n "outputs": {\n');
const OUTPUTS_END = '\n }';
const FLEET_MEMBER = Buffer.from(',\n "fleet": ');
const RECORD_END = '\n}\n';

/**
 * The base revision's record of `site`, or undefined when the bytes are not a record this
 * fwgen writes (the site is then rendered): a malformed or foreign record never stops a run,
 * it only costs the shortcut. The base was reviewed, so the shape is checked, not the meaning;
 * what matters of it is compared with what the head holds.
 *
 * A fleet's records are read by the thousand, as siteRecord writes them. Their outputs (a map
 * whose keys no other record shares, which JSON.parse makes into an object of a shape of its
 * own each time, most of the cost) are read line by line as pairs; the fleet entry, needed only
 * when the fleet's inventory is made again (incremental.ts), is kept as bytes (copied: `bytes`
 * may be a view of a larger buffer) and parsed when asked. The split is exact: JSON strings
 * hold no raw newline, so the ',\n' found is outside any string, and the text before it parsing
 * as an object closed by the one '}' put back proves it ends a member of the top-level object.
 * A record written otherwise (another layout, an escape or a duplicate among the outputs) is
 * parsed whole, with the same result.
 */
export function parseRecord(bytes: Buffer, site: string): BaseRecord | undefined {
  const split = splitRecord(bytes);
  const r = split?.head ?? parseJson(bytes.toString('utf8'));
  if (!isRecordShape(r, site)) return undefined;
  let outputs = split?.outputs;
  if (!outputs) {
    if (!isObject(r.outputs) || !Object.values(r.outputs).every((id) => typeof id === 'string' && isHexId(id))) return undefined;
    outputs = Object.entries(r.outputs as Record<string, string>);
  }
  const whole = r.fleet;
  // Members of those names before the last two, which JSON.parse would have let the last ones replace.
  delete r.fleet;
  delete r.outputs;
  // Only the entry's bytes are kept for later (the rest of the record is let go once judged).
  const fleet = split?.fleet;
  const entryOf = (): FleetEntry | undefined => {
    const e = fleet ? parseJson(fleet.toString('utf8')) : whole;
    return isFleetEntry(e, site) ? e : undefined;
  };
  if (!fleet && !entryOf()) return undefined;
  return Object.assign(r as unknown as Omit<SiteRecord, 'fleet' | 'outputs'>, { outputs, fleet: entryOf });
}

/** A record as siteRecord lays it out: its members but the last two parsed, its outputs as pairs, its fleet entry's bytes. */
function splitRecord(bytes: Buffer): { head: unknown; outputs: Array<[string, string]>; fleet: Buffer } | undefined {
  if (bytes.toString('latin1', bytes.length - RECORD_END.length) !== RECORD_END) return undefined;
  const fleetAt = bytes.lastIndexOf(FLEET_MEMBER);
  if (fleetAt < 0) return undefined;
  const outputsAt = bytes.lastIndexOf(OUTPUTS_MEMBER, fleetAt);
  const listEnd = fleetAt - OUTPUTS_END.length;
  if (outputsAt < 0 || bytes.toString('latin1', listEnd, fleetAt) !== OUTPUTS_END) return undefined;
  const outputs = outputLines(bytes, outputsAt + OUTPUTS_MEMBER.length, listEnd);
  const head = outputs && parseJson(`${bytes.toString('utf8', 0, outputsAt)}\n}`);
  if (head === undefined || !outputs) return undefined;
  return { head, outputs, fleet: Buffer.from(bytes.subarray(fleetAt + FLEET_MEMBER.length, bytes.length - RECORD_END.length)) };
}

const KEY_END = Buffer.from('": "');
/** What a JSON string holds only escaped: a path with one is left to JSON.parse. */
const JSON_ESCAPED = /[\u0000-\u001f"\\]/;

/**
 * The lines `  "<path>": "<blob id>"` between `from` and `to`, separated by ',\n', as pairs;
 * undefined when any is not such a line, a path holds a character JSON escapes, or the paths
 * are not in increasing order (no duplicate, whose meaning JSON.parse decides).
 */
function outputLines(bytes: Buffer, from: number, to: number): Array<[string, string]> | undefined {
  const pairs: Array<[string, string]> = [];
  let last = '';
  for (let at = from; ; at += 2) {
    if (bytes[at] !== 0x20 || bytes[at + 1] !== 0x20 || bytes[at + 2] !== 0x22) return undefined;
    const keyEnd = bytes.indexOf(KEY_END, at + 3);
    const idAt = keyEnd + KEY_END.length;
    if (keyEnd < 0 || idAt + 41 > to || bytes[idAt + 40] !== 0x22) return undefined;
    const path = bytes.toString('utf8', at + 3, keyEnd);
    const id = bytes.toString('latin1', idAt, idAt + 40);
    if (JSON_ESCAPED.test(path) || !isHexId(id) || (pairs.length > 0 && path <= last)) return undefined;
    pairs.push([path, id]);
    last = path;
    at = idAt + 41;
    if (at === to) return pairs;
    if (bytes[at] !== 0x2c || bytes[at + 1] !== 0x0a) return undefined;
  }
}

function isRecordShape(r: unknown, site: string): r is Record<string, unknown> {
  if (!isObject(r) || r.version !== RECORD_VERSION || r.site !== site || typeof r.fwgen !== 'string' || typeof r.workspace !== 'string') return false;
  if (!isObject(r.options) || typeof r.options.allowUnresolved !== 'boolean' || !isRecorded(r.profile) || (r.lock !== undefined && !isRecorded(r.lock))) return false;
  const c = r.catalog;
  if (!isObject(c) || !isObject(c.files) || !Object.values(c.files).every((d) => typeof d === 'string')) return false;
  return Array.isArray(r.lists) && r.lists.every((l) => typeof l === 'string');
}

function isFleetEntry(e: unknown, site: string): e is FleetEntry {
  return isObject(e) && e.name === site && typeof e.file === 'string' && typeof e.inventory === 'string' && Array.isArray(e.hosts) && Array.isArray(e.empty) && Array.isArray(e.collections);
}

/** The value JSON text holds, or undefined when it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
