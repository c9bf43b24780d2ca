/** A repository of sites: fwgen.yaml, catalog layers, site discovery, validation. */
export { findWorkspace, loadWorkspace, workspaceFileFor, WORKSPACE_FILE, type Workspace } from './config';
export { exampleProfiles, examplesWorkspaceFile, examplesWorkspaceSites } from './examples';
export { kindOf, type FileKind } from './file-kinds';
export { baseFor, loadSite, openWorkspace, pickSites, siteFilesOf, type OpenWorkspace } from './sites';
export { validatePaths, validateWorkspace, type ValidationReport } from './validate';
