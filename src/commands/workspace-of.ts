import * as path from 'node:path';
import { UsageError } from '../errors';
import { bundledCatalog } from '../util/paths';
import type { OpenWorkspace } from '../workspace/sites';
import type { Args, Io } from './command';
import { sitesLib, workspaceFileLib } from './libraries';
import { catalogGiven } from './options';

/**
 * The workspace a command works on: the one named, else the nearest fwgen.yaml above the
 * working folder, unless the command names a profile or a catalog (one profile, as before).
 */
export function workspaceOf(a: Args, io: Io): OpenWorkspace | undefined {
  let file: string | undefined;
  if (a.workspace !== undefined) file = workspaceFileLib.workspaceFileFor(a.workspace as string);
  else if (a.profile === undefined && !catalogGiven(a)) file = workspaceFileLib.findWorkspace(process.cwd());
  if (file === undefined) return undefined;
  const ws = sitesLib.openWorkspace(file);
  for (const o of ws.overrides) io.err(`fwgen: catalog override: ${o.file} replaces ${o.replaces}\n`);
  return ws;
}

/**
 * The catalog one profile is read with: --catalog, else the layers of the workspace holding
 * the profile (or named with --workspace), else the shipped catalog.
 */
export function catalogFor(a: Args, profileFile: string): string {
  if (catalogGiven(a)) return a.catalog as string;
  if (a.workspace !== undefined) return workspaceFileLib.workspaceFileFor(a.workspace as string);
  return workspaceFileLib.findWorkspace(path.dirname(path.resolve(profileFile))) ?? bundledCatalog;
}

/** The site a query or an audit names: -p PROFILE, or a site of the workspace; none when only files are given. */
export function siteOf(a: Args, io: Io): { profileFile: string; catalog: string } | undefined {
  const ws = workspaceOf(a, io);
  if (a.profile !== undefined) return { profileFile: a.profile as string, catalog: ws ? ws.file : catalogFor(a, a.profile as string) };
  if (a.site === undefined) return undefined;
  if (!ws) throw new UsageError('site names need a workspace (fwgen.yaml); outside one, use -p PROFILE');
  const picked = sitesLib.pickSites(ws, [a.site as string]);
  if (picked.length !== 1) throw new UsageError(`'${a.site as string}' names ${picked.length} sites; name one`);
  return { profileFile: picked[0]!, catalog: ws.file };
}
