import { spawnSync } from 'node:child_process';

/** npm and npx as a user runs them, without audit, fund or update notices. */
export function sh(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * npm with its dependencies from the local npm cache (filled when this checkout was
 * installed); --prefer-offline asks the registry only for what the cache lacks.
 */
export function npmOffline(args: string[], cwd: string) {
  const offline = sh('npm', [...args, '--offline'], cwd);
  return offline.status === 0 ? offline : sh('npm', [...args, '--prefer-offline'], cwd);
}
