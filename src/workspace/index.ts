/** A repository of sites: fwgen.yaml, catalog layers, site discovery, validation. */
export { findWorkspace, loadWorkspace, workspaceFileFor, WORKSPACE_FILE, type Workspace } from '../site/workspace-file';
export { baseFor, loadSite } from '../site/load';
export { exampleProfiles, examplesWorkspaceFile, examplesWorkspaceSites } from './examples';
export { kindOf, type FileKind } from './file-kinds';
export { openWorkspace, pickSites, siteFilesOf, type OpenWorkspace } from './sites';
export { validatePaths, validateWorkspace, type ValidationReport } from './validate';
