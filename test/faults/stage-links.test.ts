/**
 * A journal whose stage holds a link: the commit reads the stage's folders once for links
 * (rather than an lstat of each file it names), and a link anywhere in the stage is refused
 * before anything moves, so no folder moved in whole can bring one into out/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, runBinary, tempDir } from '../helpers';
import { writeTree } from '../diff/fixture';
import { storesWorkspace, storeText } from '../fleet/stores';

jest.setTimeout(120_000);

beforeAll(() => {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build`');
});

const STAGE = '.fwgen-stage-planted';

function plant(out: string, write: string[]): void {
  fs.writeFileSync(path.join(out, '.fwgen.journal'), JSON.stringify({ version: 1, pid: 4242, stage: STAGE, write, remove: [], prune: [] }) + '\n');
}

describe('a link in the stage of a journal', () => {
  test.each([
    ['a folder the output lacks, which would move in whole', 'store-9/keys', ['store-9/keys/authorized_keys']],
    ['a folder of a site the output has', 'store-1/keys', ['store-1/keys/authorized_keys']],
    ['a file the journal does not name', 'store-9/other', ['store-9/nftables/pos-terminal.nft']],
  ])('in %s: refused before anything moves, the victim untouched', (_what, link, write) => {
    const ws = storesWorkspace({ 'store-1': storeText('store-1') });
    const first = runBinary(['render'], ws);
    expect(first.status).toBe(0);
    const out = path.join(ws, 'out');
    const victim = writeTree({ authorized_keys: 'ssh-ed25519 AAAA admin\n' }, tempDir('fwgen-victim-'));
    writeTree({ 'store-9/nftables/pos-terminal.nft': 'table inet fwgen { }\n' }, path.join(out, STAGE));
    fs.mkdirSync(path.dirname(path.join(out, STAGE, link)), { recursive: true });
    fs.symlinkSync(victim, path.join(out, STAGE, link));
    plant(out, write);
    const before = fs.readdirSync(out).sort();

    const r = runBinary(['render'], ws);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.stderr).toContain(`out/${STAGE}/${link}: a symbolic link`);
    expect(r.status).toBe(1);
    expect(fs.readdirSync(out).sort()).toEqual(before);
    expect(fs.existsSync(path.join(out, 'store-9'))).toBe(false);
    expect(fs.readdirSync(path.join(out, 'store-1')).sort()).not.toContain('keys');
    expect(fs.readFileSync(path.join(victim, 'authorized_keys'), 'utf8')).toBe('ssh-ed25519 AAAA admin\n');
  });
});
