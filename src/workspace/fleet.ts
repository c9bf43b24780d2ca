import * as fs from 'node:fs';
import * as path from 'node:path';
import { readYaml } from '../catalog/read-file';
import type { YamlSource } from '../catalog/yaml-source';
import { loadProfile, type Profile } from '../catalog/profile';
import { FileError, InputError, type LocatedIssue } from '../errors';
import { isBookkeeping, SetStager, staleOf, type SetChanges } from '../output';
import type { Policy } from '../policy/types';
import { ownedBy, renderProfile } from '../render/site';
import { lockPathFor } from '../resolve/lock';
import { ansible } from '../targets/ansible';
import { targets } from '../targets/registry';
import { fleetEntry, type FleetEntry } from './inventory';
import { recordPath, siteRecord, workspaceInputs, type WorkspaceInputs } from './site-inputs';
import type { RenderedFile } from '../targets/render';
import type { AnyTarget, Diagnostic } from '../targets/types';
import type { OpenWorkspace } from './sites';
import { yamlPackage } from '../util/yaml-package';

export interface SiteDiagnostic extends Diagnostic {
  site: string;
}

/**
 * What a fleet's render does with each site as soon as it is made, in the thread that made
 * it: stage its changed files (write), say which of its files are stale (check), or keep its
 * files and policy (collect, for a caller that needs them all in memory).
 */
export type SiteSink = { kind: 'write'; root: string; stage: string } | { kind: 'check'; root: string } | { kind: 'collect' };

/** What is kept of one site once it is rendered: small, whatever the site renders. */
export interface SiteOutcome {
  /** The site's place in the list rendered: outcomes are reported in that order. */
  index: number;
  name: string;
  diagnostics: SiteDiagnostic[];
  /** A profile that could not be read or is invalid: nothing else is known of the site. */
  issues?: LocatedIssue[];
  owned: string[];
  /** What the fleet inventory needs of the site, when the ansible target is rendered. */
  entry?: FleetEntry;
  changes?: SetChanges;
  stale?: string[];
  files?: RenderedFile[];
  policy?: Policy;
}

export interface SiteJob {
  index: number;
  file: string;
}

/** How each site's policy is built. */
export interface SiteChoices {
  allowUnresolved: boolean;
  /** False for the base side of a diff: a lock-out its profile had not answered is compared, not refused. */
  refuseLockOuts: boolean;
}

export interface FleetOptions extends Partial<SiteChoices> {
  /** The output folder, when every site is rendered: folders of sites that are gone are owned too. */
  sweep?: string;
}

/**
 * Notes a site's name in `names` (name → profile file); a name already there is an issue at
 * this profile's name naming the other file: the two would share an output folder.
 */
export function nameClash(names: Map<string, string>, profile: Profile): LocatedIssue | undefined {
  const earlier = names.get(profile.name);
  if (earlier === undefined) {
    names.set(profile.name, profile.file);
    return undefined;
  }
  return profile.source.issue(['profile', 'name'], `site name '${profile.name}' is also used by ${earlier}; each site needs its own output folder`);
}

/**
 * A render of every target writes each site's render record (site-inputs.ts); a render of
 * some targets neither writes nor removes it, since it describes all of them.
 */
export function recordsSites(chosen: AnyTarget[]): boolean {
  return targets.every((t) => chosen.includes(t));
}

/** The folders and files of the output a site's render speaks for: files there it did not produce are stale. */
export function siteOwned(site: string, chosen: AnyTarget[]): string[] {
  const owned = ownedBy(site, chosen);
  if (recordsSites(chosen)) owned.push(recordPath(site));
  return owned;
}

/**
 * Renders sites one at a time and hands each to the sink: whatever a site renders is released
 * before the next one starts. One per thread (the main thread, or each render worker).
 */
export class SiteRenderer {
  private stager: SetStager | undefined;
  private inputs: WorkspaceInputs | undefined;

  constructor(
    private readonly ws: OpenWorkspace,
    private readonly chosen: AnyTarget[],
    private readonly choices: SiteChoices,
    private readonly sink: SiteSink,
  ) {
    if (sink.kind === 'write') this.stager = new SetStager(sink.root, sink.stage);
  }

  render(job: SiteJob): SiteOutcome {
    let profile;
    try {
      profile = loadProfile(job.file, this.ws.catalog, this.ws.root, { targets: this.ws.targets });
    } catch (err) {
      if (err instanceof InputError) return { index: job.index, name: '', diagnostics: [], issues: err.issues, owned: [] };
      throw err;
    }
    const r = renderProfile(this.ws.catalog, profile, job.file, this.chosen, this.choices.allowUnresolved, this.choices.refuseLockOuts);
    const name = profile.name;
    const out: SiteOutcome = {
      index: job.index,
      name,
      diagnostics: r.diagnostics.map((d) => ({ ...d, site: name })),
      owned: siteOwned(name, this.chosen),
    };
    const files = r.files.concat([r.snapshot]);
    if (this.sink.kind === 'collect') {
      // A comparison reads the policy and snapshot of a site with errors too.
      out.files = files;
      out.policy = r.policy;
      return out;
    }
    if (r.diagnostics.some((d) => d.severity === 'error')) return out; // nothing of it is written or compared
    if (this.chosen.some((t) => t.id === ansible.id)) out.entry = fleetEntry(r.policy);
    if (out.entry && recordsSites(this.chosen)) {
      this.inputs ??= workspaceInputs(this.ws);
      const { allowUnresolved } = this.choices;
      files.push(siteRecord(this.ws, this.inputs, { catalog: this.ws.catalog, profile, profileFile: job.file, policy: r.policy, files, entry: out.entry, allowUnresolved }));
    }
    if (this.sink.kind === 'write') out.changes = this.stager!.add(files, out.owned);
    else out.stale = staleOf(this.sink.root, files, out.owned);
    return out;
  }

  /** Every file staged by this renderer is on disk when this returns. */
  finish(): void {
    this.stager?.finish();
  }

  close(): void {
    this.stager?.close();
  }
}

/** A site's name as its profile says it, read without the catalog; undefined when the profile does not say (its render then does). */
export interface NamedSite {
  file: string;
  name: string | undefined;
}

const SITE_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/**
 * Each site's name, read from its profile alone (no catalog, no schema: that is the render's
 * work). Two sites with one name would share an output folder: the second is an error, said
 * at its name, before anything is rendered.
 */
export function siteNames(ws: OpenWorkspace, siteFiles: string[]): NamedSite[] {
  const names = new SiteNameCheck(ws);
  const named = siteFiles.map((file) => ({ file, name: names.add(readYaml(file, ws.root)) }));
  names.throwClashes();
  return named;
}

/**
 * Site names read as sites are handed to the renderers, so that reading every profile's name
 * does not keep the workers waiting (1,000 profiles took a fifth of a second). A site whose
 * name an earlier site has is not rendered (its files would land on the earlier one's): the
 * clashes are thrown once every site is handed out, before anything is written. A profile
 * that cannot be read is left to its render, which refuses it with the same message.
 */
export class SiteNameCheck {
  private readonly first = new Map<string, string>();
  private readonly clashes: LocatedIssue[] = [];

  constructor(private readonly ws: OpenWorkspace) {}

  /** Whether a site, handed out after every site before it, is to be rendered: not when its name clashes. */
  keeps(file: string): boolean {
    let src: YamlSource;
    try {
      src = readYaml(file, this.ws.root);
    } catch (err) {
      if (err instanceof InputError || err instanceof FileError) return true;
      throw err;
    }
    const clashes = this.clashes.length;
    this.add(src);
    return this.clashes.length === clashes;
  }

  /** A profile's name as it says it, a clash with an earlier site's noted. */
  add(src: YamlSource): string | undefined {
    const raw = (src.data as { profile?: { name?: unknown } } | null)?.profile?.name;
    const name = typeof raw === 'string' && SITE_NAME.test(raw) ? raw : undefined;
    if (name !== undefined) {
      const earlier = this.first.get(name);
      if (earlier !== undefined) {
        this.clashes.push(src.issue(['profile', 'name'], `site name '${name}' is also used by ${earlier}; each site needs its own output folder`));
      } else this.first.set(name, src.file);
    }
    return name;
  }

  throwClashes(): void {
    if (this.clashes.length > 0) throw new InputError(this.clashes);
  }
}

/**
 * Folders of the output that belong to no site rendered (a site removed or renamed), when
 * `mine` says the folder's name is this run's to answer for: their files are stale. fwgen's
 * own folders there (the stage of this very render) are no site's: a journal naming one would
 * be refused by the run that has to complete it after a crash.
 */
export function orphanFolders(output: string, names: Set<string>, mine: (name: string) => boolean): string[] {
  if (!fs.existsSync(output)) return [];
  return fs
    .readdirSync(output, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !isBookkeeping(e.name) && !names.has(e.name) && mine(e.name))
    .map((e) => e.name)
    .sort();
}

/**
 * Writes `count` copies of a site profile (and its lock) into `dir` as sites
 * <name>-0001 … : a fleet for measuring how many sites one run renders.
 */
export function generateFleet(templateProfile: string, dir: string, count: number): string[] {
  const text = fs.readFileSync(templateProfile, 'utf8');
  const lock = lockPathFor(templateProfile);
  const lockText = fs.existsSync(lock) ? fs.readFileSync(lock, 'utf8') : undefined;
  const { parseDocument } = yamlPackage();
  const baseName = String(parseDocument(text).getIn(['profile', 'name']));
  const width = String(count).length;
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (let i = 1; i <= count; i++) {
    const name = `${baseName}-${String(i).padStart(width, '0')}`;
    const doc = parseDocument(text);
    doc.setIn(['profile', 'name'], name);
    const file = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(file, doc.toString());
    if (lockText !== undefined) fs.writeFileSync(lockPathFor(file), lockText);
    files.push(file);
  }
  return files;
}
