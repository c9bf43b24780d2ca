import * as fs from 'node:fs';
import * as path from 'node:path';
import { readYaml } from '../catalog/read-file';
import { validateAgainst } from '../catalog/schema';
import { FileError, InputError, type LocatedIssue } from '../errors';
import { bundledCatalog } from '../paths';

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

type Raw = { sites: string[]; catalog?: string[]; output?: string };

/** `shippedCatalog` replaces fwgen's own catalog as the first layer (a base revision of fwgen's checkout). */
export function loadWorkspace(file: string, shippedCatalog: string = bundledCatalog): Workspace {
  const root = path.dirname(path.resolve(file));
  const src = readYaml(file, root);
  const issues: LocatedIssue[] = validateAgainst('workspace', src);
  if (issues.length > 0) throw new InputError(issues);
  const raw = src.data as Raw;
  const layers = (raw.catalog ?? []).map((dir, i) => {
    const abs = path.resolve(root, dir);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
      issues.push(src.issue(['catalog', i], `catalog folder '${dir}' does not exist`));
    } else if (!['vendors', 'lists', 'device-classes.yaml'].some((e) => fs.existsSync(path.join(abs, e)))) {
      issues.push(src.issue(['catalog', i], `'${dir}' holds no vendors/, lists/ or device-classes.yaml`));
    }
    return abs;
  });
  const output = path.resolve(root, raw.output ?? 'out');
  if (output === root || !isInside(root, output)) {
    issues.push(src.issue(['output'], `the output folder must be a folder inside the workspace, not '${raw.output}'`));
  }
  if (issues.length > 0) throw new InputError(issues);
  return { root, file: path.resolve(file), sites: raw.sites, catalogLayers: [shippedCatalog, ...layers], output };
}

export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
