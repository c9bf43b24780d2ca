import * as fs from 'node:fs';
import * as path from 'node:path';
import { listText, lockText, siteText, vendorText, writeTree } from '../diff/fixture';
import { useFeedServer } from '../feeds/server';
import { catalogRoot, runInProcess, tempDir } from '../helpers';

/**
 * Catalog layers, sites, their lock files and list files are read (and lists rewritten) only
 * inside the workspace: a path in fwgen.yaml that leaves it, or a link that leads out, is
 * refused with one located line, and nothing of the outside file reaches a message.
 */
const feeds = useFeedServer();

/** What an outside file holds: a key name and a value no message may print. */
const SECRET = 'hunter2-private-key-name';
const secretYaml = `${SECRET}: ${SECRET}\nprofile: { name: x }\n`;

/** A workspace at <top>/ws beside <top>/outside, which holds a secret file and a catalog folder with a feed list. */
function scene(fwgenYaml = 'sites: [sites/*.yaml]\ncatalog: [own]\noutput: out\n') {
  const top = tempDir('fwgen-outside-');
  const outside = writeTree({ 'secret.yaml': secretYaml, 'x/lists/cloudflare.yaml': staleCloudflare() }, path.join(top, 'outside'));
  const ws = writeTree(
    {
      'fwgen.yaml': fwgenYaml,
      'own/vendors/acme.yaml': vendorText,
      'own/lists/acme-edge.yaml': listText,
      'sites/store-1.yaml': siteText,
      'sites/store-1.lock.yaml': lockText('203.0.113.10'),
    },
    path.join(top, 'ws'),
  );
  return { top, ws, outside };
}

function staleCloudflare(): string {
  return fs.readFileSync(path.join(catalogRoot, 'lists/cloudflare.yaml'), 'utf8').replace('  - 2c0f:f248::/32\n', '');
}

/** Exit 1 with the located line (and the count of problems an input error adds), nothing of the secret. */
function refused(r: { status: number; stdout: string; stderr: string }, line: RegExp): void {
  expect(r.stderr).not.toContain(SECRET);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(r.stderr.split('\n').filter((l) => l !== '' && !/^fwgen: \d+ problems?; nothing was written$/.test(l))).toEqual([expect.stringMatching(line)]);
  expect(r.status).toBe(1);
}

describe('inputs from outside the workspace', () => {
  test.each([
    ['../outside/x', /^fwgen\.yaml:2:11: catalog\[0\]: catalog folder '\.\.\/outside\/x' is outside the workspace; catalog folders are paths inside it$/],
    ['ABSOLUTE', /^fwgen\.yaml:2:11: catalog\[0\]: catalog folder '\/\S+\/outside\/x' is outside the workspace/],
    ['own/../../outside/x', /^fwgen\.yaml:2:11: catalog\[0\]: catalog folder 'own\/\.\.\/\.\.\/outside\/x' is outside the workspace/],
  ])('a catalog layer at %s is refused in fwgen.yaml, and lists update leaves the outside list as it was', async (layer, line) => {
    const { top, ws, outside } = scene();
    const written = layer === 'ABSOLUTE' ? path.join(top, 'outside/x') : layer;
    fs.writeFileSync(path.join(ws, 'fwgen.yaml'), `sites: [sites/*.yaml]\ncatalog: [${written}]\noutput: out\n`);
    const listBefore = fs.readFileSync(path.join(outside, 'x/lists/cloudflare.yaml'), 'utf8');
    refused(await runInProcess(['validate'], ws), line);
    refused(await runInProcess(['lists', 'update', '--source-base', feeds().base, '--tries', '1'], ws), line);
    expect(feeds().hits).toEqual([]);
    expect(fs.readFileSync(path.join(outside, 'x/lists/cloudflare.yaml'), 'utf8')).toBe(listBefore);
  });

  test('a catalog layer that is a link to an outside folder is refused; lists update fetches and writes nothing', async () => {
    const { ws, outside } = scene('sites: [sites/*.yaml]\ncatalog: [own, shared]\noutput: out\n');
    fs.symlinkSync('../outside/x', path.join(ws, 'shared'));
    const listBefore = fs.readFileSync(path.join(outside, 'x/lists/cloudflare.yaml'), 'utf8');
    const line = /^fwgen\.yaml:2:16: catalog\[1\]: catalog folder 'shared' is a symbolic link to a file or folder outside the workspace; fwgen reads only files inside it$/;
    refused(await runInProcess(['render'], ws), line);
    refused(await runInProcess(['lists', 'update', '--source-base', feeds().base, '--tries', '1'], ws), line);
    expect(feeds().hits).toEqual([]);
    expect(fs.readFileSync(path.join(outside, 'x/lists/cloudflare.yaml'), 'utf8')).toBe(listBefore);
  });

  test.each([
    ['a vendor file', 'own/vendors/evil.yaml', '../../../outside/secret.yaml'],
    ['a list file', 'own/lists/evil.yaml', '../../../outside/secret.yaml'],
    ['the vendors folder', 'own/vendors', '../../outside/x'],
  ])('%s linked outside is named in fwgen.yaml, its content never read', async (_what, link, target) => {
    const { ws } = scene();
    fs.rmSync(path.join(ws, link), { recursive: true, force: true });
    fs.symlinkSync(target, path.join(ws, link));
    const named = link === 'own/vendors' ? 'own/vendors' : link;
    refused(await runInProcess(['validate'], ws), new RegExp(`^fwgen\\.yaml:2:11: catalog\\[0\\]: '${named.replace(/\//g, '\\/')}' is a symbolic link to a file or folder outside the workspace`));
  });

  test('a site file or a lock file linked outside is refused by name, its keys never printed', async () => {
    const { ws } = scene();
    fs.symlinkSync('../../outside/secret.yaml', path.join(ws, 'sites/evil.yaml'));
    for (const args of [['render'], ['validate'], ['check'], ['resolve', '--server', '127.0.0.1:9', '--tries', '1', '--timeout', '200']]) {
      refused(await runInProcess(args, ws), /^sites\/evil\.yaml: a symbolic link to a file or folder outside the workspace; fwgen reads only files inside it$/);
    }
    fs.rmSync(path.join(ws, 'sites/evil.yaml'));
    fs.rmSync(path.join(ws, 'sites/store-1.lock.yaml'));
    fs.symlinkSync('../../outside/secret.yaml', path.join(ws, 'sites/store-1.lock.yaml'));
    refused(await runInProcess(['render'], ws), /^sites\/store-1\.lock\.yaml: a symbolic link to a file or folder outside the workspace/);
  });

  test('fwgen.yaml itself linked outside is refused before it is read', async () => {
    const { ws } = scene();
    fs.rmSync(path.join(ws, 'fwgen.yaml'));
    fs.symlinkSync('../outside/secret.yaml', path.join(ws, 'fwgen.yaml'));
    refused(await runInProcess(['validate'], ws), /^fwgen\.yaml: a symbolic link to a file or folder outside the workspace/);
  });

  test('a site pattern that climbs out of the workspace is refused in fwgen.yaml', async () => {
    const { ws } = scene('sites: [sites/*.yaml, ../outside/*.yaml, "!../x/*.yaml"]\ncatalog: [own]\noutput: out\n');
    const r = await runInProcess(['validate'], ws);
    expect(r.stderr).not.toContain(SECRET);
    expect(r.stderr).toMatch(/^fwgen\.yaml:1:23: sites\[1\]: '\.\.\/outside\/\*\.yaml' reaches outside the workspace; site patterns are relative paths inside it, without '\.\.'\n/);
    expect(r.stderr).toMatch(/\nfwgen\.yaml:1:42: sites\[2\]: '!\.\.\/x\/\*\.yaml' reaches outside/);
    expect(r.status).toBe(1);
  });

  test('links that stay inside the workspace are read as before', async () => {
    const { ws } = scene();
    fs.renameSync(path.join(ws, 'own/vendors/acme.yaml'), path.join(ws, 'acme-vendor.yaml'));
    fs.symlinkSync('../../acme-vendor.yaml', path.join(ws, 'own/vendors/acme.yaml'));
    fs.mkdirSync(path.join(ws, 'profiles'));
    fs.renameSync(path.join(ws, 'sites/store-1.yaml'), path.join(ws, 'profiles/store-1.yaml'));
    fs.symlinkSync('../profiles/store-1.yaml', path.join(ws, 'sites/store-1.yaml'));
    const r = await runInProcess(['render', '-t', 'nftables'], ws);
    expect(r.stderr).toMatch(/1 site, 1 target\n$/);
    expect(r.status).toBe(0);
  });

  test('lists update never writes a list through a link, and names the file', async () => {
    const { ws } = scene();
    fs.writeFileSync(path.join(ws, 'cloudflare-real.yaml'), staleCloudflare());
    fs.symlinkSync('../../cloudflare-real.yaml', path.join(ws, 'own/lists/cloudflare.yaml'));
    const before = fs.readFileSync(path.join(ws, 'cloudflare-real.yaml'), 'utf8');
    const r = await runInProcess(['lists', 'update', '--source-base', feeds().base, '--tries', '1'], ws);
    expect(r.stderr).toMatch(/own\/lists\/cloudflare\.yaml: a symbolic link, where fwgen keeps its own files.*; no list or vendor file was changed\n$/);
    expect(r.status).toBe(1);
    expect(fs.lstatSync(path.join(ws, 'own/lists/cloudflare.yaml')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(ws, 'cloudflare-real.yaml'), 'utf8')).toBe(before);
  });

  test("a list update's temporary file planted as a link is refused; the outside file keeps its content", async () => {
    const { ws, outside } = scene();
    fs.writeFileSync(path.join(ws, 'own/lists/cloudflare.yaml'), staleCloudflare());
    // in this process, the update's pid is known: its temporary file's name too
    fs.symlinkSync('../../../outside/secret.yaml', path.join(ws, `own/lists/cloudflare.yaml.tmp-${process.pid}`));
    const r = await runInProcess(['lists', 'update', '--source-base', feeds().base, '--tries', '1'], ws);
    expect(r.stderr).toMatch(/own\/lists\/cloudflare\.yaml\.tmp-\d+: a symbolic link.*; no list or vendor file was changed\n$/);
    expect(r.status).toBe(1);
    expect(fs.readFileSync(path.join(outside, 'secret.yaml'), 'utf8')).toBe(secretYaml);
    expect(fs.readFileSync(path.join(ws, 'own/lists/cloudflare.yaml'), 'utf8')).toBe(staleCloudflare());
  });
});
