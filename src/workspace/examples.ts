import * as path from 'node:path';
import { packageRoot } from '../util/paths';
import { loadWorkspace, WORKSPACE_FILE } from '../site/workspace-file';
import { openWorkspace, siteFilesOf } from './sites';

/** fwgen's own checkout is a workspace: the shipped examples rendered into out/. */
export const examplesWorkspaceFile = path.join(packageRoot, WORKSPACE_FILE);

/** The shipped example profiles, as the checkout's fwgen.yaml names them. */
export function examplesWorkspaceSites(): string[] {
  return siteFilesOf(loadWorkspace(examplesWorkspaceFile));
}

export function openExamplesWorkspace() {
  return openWorkspace(examplesWorkspaceFile);
}

/** Kept for callers that list the shipped examples. */
export const exampleProfiles = examplesWorkspaceSites;
