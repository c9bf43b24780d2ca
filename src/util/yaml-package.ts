import type * as YamlPackage from 'yaml';

/**
 * The `yaml` package, loaded where it is first used: the fast reader reads most files without
 * it, and only Ansible's files, a lock written or a file the fast reader cannot vouch for need
 * it. Loading it took 50-70 ms of every run.
 */
export function yamlPackage(): typeof YamlPackage {
  return require('yaml') as typeof YamlPackage;
}
