import * as fs from 'node:fs';
import * as path from 'node:path';
import { readYaml, yamlFilesIn } from '../catalog/read-file';
import { validateAgainst } from '../catalog/schema';
import type { SiteTargets } from '../catalog/site-targets';
import { FileError, InputError, type LocatedIssue } from '../errors';
import { isInside, isWithin, resolvesInside, UnsafePathError } from '../fs';
import { bundledCatalog } from '../util/paths';

export const WORKSPACE_FILE = 'fwgen.yaml';

/** A repository of sites, as fwgen.yaml describes it; every path absolute. */
export interface Workspace {
  root: string;
  file: string;
  /** The site globs as written, relative to root. */
  sites: string[];
  /** The shipped catalog first, then the workspace's own folders (later wins). */
  catalogLayers: string[];
  output: string;
  /** The targets of every site whose profile lists none; absent: every target. */
  targets?: SiteTargets;
}

/** The nearest fwgen.yaml in `from` or a folder above it. */
export function findWorkspace(from: string): string | undefined {
  let dir = path.resolve(from);
  for (;;) {
    const candidate = path.join(dir, WORKSPACE_FILE);
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** `--workspace` may name the file or the folder holding it. */
export function workspaceFileFor(given: string): string {
  const abs = path.resolve(given);
  if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) {
    const file = path.join(abs, WORKSPACE_FILE);
    if (!fs.existsSync(file)) throw new FileError(given, `no ${WORKSPACE_FILE} in this folder (fwgen init makes one)`);
    return file;
  }
  return abs;
}

type Raw = { sites: string[]; catalog?: string[]; output?: string; targets?: string[] };

/** The words for an input that a link takes out of the workspace; its content is never read. */
export const LEAVES_WORKSPACE = 'a symbolic link to a file or folder outside the workspace; fwgen reads only files inside it';

/** A path written in fwgen.yaml that leaves the workspace by its words alone: absolute, or with a `..` part. */
function leavesByName(p: string): boolean {
  return path.isAbsolute(p) || p.split(/[\\/]/).includes('..');
}

/**
 * What keeps a catalog folder from being a layer: outside the workspace (as written, or
 * once links are followed), missing, empty, or holding a catalog file whose link leads out.
 */
function layerProblem(root: string, dir: string, abs: string): string | undefined {
  if (leavesByName(dir) || !isWithin(root, abs)) return `catalog folder '${dir}' is outside the workspace; catalog folders are paths inside it`;
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) return `catalog folder '${dir}' does not exist`;
  if (!resolvesInside(root, abs)) return `catalog folder '${dir}' is ${LEAVES_WORKSPACE}`;
  const parts = ['vendors', 'lists', 'device-classes.yaml'];
  if (!parts.some((e) => fs.existsSync(path.join(abs, e)))) return `'${dir}' holds no vendors/, lists/ or device-classes.yaml`;
  const files = [...parts.map((p) => path.join(abs, p)), ...yamlFilesIn(path.join(abs, 'vendors')), ...yamlFilesIn(path.join(abs, 'lists'))];
  const out = files.find((f) => !resolvesInside(root, f));
  if (out !== undefined) return `'${path.relative(root, out).split(path.sep).join('/')}' is ${LEAVES_WORKSPACE}`;
  return undefined;
}

/**
 * What keeps the output folder from being written: every folder from the workspace root
 * down to it must be a real folder (or not there yet), so that what fwgen writes and
 * deletes stays in the workspace.
 */
function outputProblem(root: string, output: string, written: string): string | undefined {
  let at = root;
  for (const part of path.relative(root, output).split(path.sep)) {
    at = path.join(at, part);
    const st = fs.lstatSync(at, { throwIfNoEntry: false });
    if (st === undefined) return undefined;
    const shown = path.relative(root, at).split(path.sep).join('/');
    if (st.isSymbolicLink()) return `'${shown}' is a symbolic link; the output folder '${written}' must be a real folder inside the workspace, never reached through a link`;
    if (!st.isDirectory()) return `'${shown}' is a file; the output folder '${written}' must be a folder`;
  }
  return undefined;
}

/** `shippedCatalog` replaces fwgen's own catalog as the first layer (a base revision of fwgen's checkout). */
export function loadWorkspace(file: string, shippedCatalog: string = bundledCatalog): Workspace {
  const root = path.dirname(path.resolve(file));
  if (!resolvesInside(root, file)) throw new UnsafePathError(file, LEAVES_WORKSPACE);
  const src = readYaml(file, root);
  const issues: LocatedIssue[] = validateAgainst('workspace', src);
  if (issues.length > 0) throw new InputError(issues);
  const raw = src.data as Raw;
  raw.sites.forEach((glob, i) => {
    if (leavesByName(glob.replace(/^!/, ''))) issues.push(src.issue(['sites', i], `'${glob}' reaches outside the workspace; site patterns are relative paths inside it, without '..'`));
  });
  const layers = (raw.catalog ?? []).map((dir, i) => {
    const abs = path.resolve(root, dir);
    const problem = layerProblem(root, dir, abs);
    if (problem) issues.push(src.issue(['catalog', i], problem));
    return abs;
  });
  const written = raw.output ?? 'out';
  const output = path.resolve(root, written);
  if (output === root || !isInside(root, output)) {
    issues.push(src.issue(['output'], `the output folder must be a folder inside the workspace, not '${raw.output}'`));
  } else {
    const problem = outputProblem(root, output, written);
    if (problem) issues.push(src.issue(['output'], raw.output === undefined ? `${problem} (the default when output is not set)` : problem));
  }
  if (issues.length > 0) throw new InputError(issues);
  const targets = raw.targets ? { targets: { ids: raw.targets, origin: src.locate(['targets']) } } : {};
  return { root, file: path.resolve(file), sites: raw.sites, catalogLayers: [shippedCatalog, ...layers], output, ...targets };
}

