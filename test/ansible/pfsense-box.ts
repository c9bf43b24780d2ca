/**
 * A pfSense for the real pfsensible.core modules, without pfSense: each play runs chrooted in a
 * copy-on-write view of this machine inside a mount namespace (fixtures/pfsense/in-namespace.sh),
 * where /cf/conf/config.xml is a fixture and php, pfSsh.php and pkg-static are stand-ins. The
 * collection is run from the shared third-party copy, never copied into the project.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { aliasNamePrefix, ownerMark } from '../../src/targets/pfsense-identity';
import { repoRoot, tempDir } from '../helpers';
import { ansibleTools, readRecap, type PlayResult } from './harness';

export const fixtures = path.join(repoRoot, 'test/ansible/fixtures/pfsense');

/**
 * pfsensible.core from ../shared/third-party beside the checkout (CI), or beside the main
 * checkout when this one is a git worktree.
 */
function findCollection(): string | undefined {
  const roots = [repoRoot];
  const common = spawnSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: repoRoot, encoding: 'utf8' });
  if (common.status === 0) roots.push(path.dirname(common.stdout.trim()));
  return roots.map((r) => path.resolve(r, '../shared/third-party/pfsensible-core')).find((c) => fs.existsSync(path.join(c, 'plugins/modules/pfsense_aggregate.py')));
}

export const collection = findCollection();

const works = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;

/** What a run needs and this machine lacks. */
export function missingForBox(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (mount namespaces and an overlay)');
  if (!fs.readFileSync('/proc/filesystems', 'utf8').includes('overlay')) missing.push('overlayfs');
  if (!works('unshare', ['--version'])) missing.push('unshare');
  if (!ansibleTools['ansible-playbook'] || !works('/usr/bin/python3', ['-c', 'import ansible'])) missing.push('ansible-playbook with ansible in /usr/bin/python3');
  if (!collection) missing.push('pfsensible.core at ../shared/third-party/pfsensible-core');
  return missing;
}

export interface ConfigItems {
  aliases: Array<Record<string, unknown>>;
  rules: Array<Record<string, unknown>>;
}

const parser = new XMLParser({
  isArray: (_name, jpath) => jpath === 'pfsense.aliases.alias' || jpath === 'pfsense.filter.rule',
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
});

/** Aliases and rules of a config.xml, in config order; CDATA and plain text read alike. */
export function configItems(xml: string): ConfigItems {
  const doc = parser.parse(xml) as { pfsense: { aliases?: { alias?: ConfigItems['aliases'] }; filter?: { rule?: ConfigItems['rules'] } } };
  return { aliases: doc.pfsense.aliases?.alias ?? [], rules: doc.pfsense.filter?.rule ?? [] };
}

/** Another fwgen site on the same firewall: its mark starts like the site under test's, only ": " tells them apart. */
export const OTHER_SITE = 'eu-restaurant-aloha-annex';

/** The fixture config.xml with the site under test's alias prefix and mark, and another site's, filled in. */
export function fixtureConfig(sitePrefix: string, siteMark: string): string {
  return fs
    .readFileSync(path.join(fixtures, 'config.xml'), 'utf8')
    .replace(/@SITE_PREFIX@/g, sitePrefix)
    .replace(/@SITE_MARK@/g, siteMark)
    .replace(/@OTHER_PREFIX@/g, aliasNamePrefix('fwgen', OTHER_SITE))
    .replace(/@OTHER_MARK@/g, ownerMark(OTHER_SITE));
}

/** One firewall: config.xml in WORK/conf lives across runs; each run is a new namespace. */
export class PfsenseBox {
  readonly work = tempDir('fwgen-pfsense-box-');
  readonly configFile = path.join(this.work, 'conf/config.xml');

  constructor() {
    fs.mkdirSync(path.join(this.work, 'conf'));
  }

  /** ansible-playbook with these arguments, in the namespace; paths must lie under `work`. */
  play(args: string[]): PlayResult {
    // The layout ANSIBLE_COLLECTIONS_PATH wants: <dir>/ansible_collections/<namespace>/<name>.
    const layout = path.join(this.work, 'collections/ansible_collections/pfsensible');
    if (!fs.existsSync(layout)) {
      fs.mkdirSync(layout, { recursive: true });
      fs.symlinkSync(collection!, path.join(layout, 'core'));
    }
    const tmpRoot = tempDir('fwgen-pfsense-root-');
    try {
      const r = spawnSync(
        'unshare',
        ['--mount', '--propagation', 'private', '--', 'bash', path.join(fixtures, 'in-namespace.sh'), fixtures, collection!, this.work, tmpRoot, this.work, 'ansible-playbook', ...args],
        { encoding: 'utf8', timeout: 180_000 },
      );
      return readRecap(r.status ?? -1, `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`);
    } finally {
      fs.rmdirSync(tmpRoot);
    }
  }

  config(): string {
    return fs.readFileSync(this.configFile, 'utf8');
  }

  remove(): void {
    fs.rmSync(this.work, { recursive: true, force: true });
  }
}
