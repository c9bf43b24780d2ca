import * as fs from 'node:fs';
import * as path from 'node:path';

const identities = new Map<string, string>();

/**
 * An installed package's name and version (`re2js 1.1.0`), from the package.json above the
 * file `require(name)` loads, without loading the package: what a remembered answer of that
 * package (a pattern match, a YAML text) is keyed by, so another version answers afresh.
 */
export function packageIdentity(name: string): string {
  const known = identities.get(name);
  if (known !== undefined) return known;
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) {
        const identity = `${name} ${String(pkg.version)}`;
        identities.set(name, identity);
        return identity;
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`internal: ${name} has no package.json`);
    dir = up;
  }
}
