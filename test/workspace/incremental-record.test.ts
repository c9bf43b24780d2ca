import * as path from 'node:path';
import { parseRecord, relPath, type BaseRecord } from '../../src/workspace/site-inputs';

/*
 * A base record is read in parts where it is laid out as siteRecord writes it (its outputs line
 * by line, its fleet entry when asked): whatever the layout, the result is JSON.parse's.
 */

const id = (n: number) => n.toString(16).padStart(40, 'a');
const record = {
  version: 1,
  site: 'store-1',
  fwgen: 'f'.repeat(64),
  workspace: 'e'.repeat(64),
  options: { allowUnresolved: false },
  profile: { file: 'sites/store-1.yaml', sha256: 'c'.repeat(64) },
  catalog: { files: { 'fwgen/catalog/device-classes.yaml': 'd'.repeat(64) } },
  lists: ['acme-edge'],
  outputs: { 'store-1/nftables/a.nft': id(1), 'store-1/policy.json': id(2), 'store-1/ünïcode/b.ps1': id(3) },
  fleet: { name: 'store-1', file: 'sites/store-1.yaml', inventory: '    store_1:\n      hosts: {}\n', hosts: [], empty: [], collections: ['amazon.aws'] },
};
const written = JSON.stringify(record, null, 1) + '\n';

/** What parseRecord must give for `text`: JSON.parse's record, outputs as pairs. */
function asParsed(text: string): unknown {
  const r = JSON.parse(text) as typeof record;
  const { outputs, fleet, ...rest } = r;
  return { ...rest, outputs: Object.entries(outputs), fleet };
}

const seen = (r: BaseRecord | undefined) => {
  if (!r) return undefined;
  const { fleet, ...rest } = r;
  return { ...rest, fleet: fleet() };
};
const parse = (text: string) => seen(parseRecord(Buffer.from(text, 'utf8'), 'store-1'));

describe('parseRecord', () => {
  test.each([
    ['as siteRecord writes it', written],
    ['without indentation', JSON.stringify(record)],
    ['indented by two', JSON.stringify(record, null, 2) + '\n'],
    ['a path with an escape', written.replace('a.nft', 'a\\"q.nft')],
    ['a path with an escaped newline', written.replace('a.nft', 'a\\n \\"fleet\\": .nft')],
    ['a path given twice', written.replace(`"store-1/policy.json": "${id(2)}"`, `"store-1/nftables/a.nft": "${id(2)}"`)],
    ['paths out of order', written.replace('store-1/nftables/a.nft', 'store-1/z.nft')],
    ['an earlier fleet member', written.replace(' "lists"', ' "fleet": {"name": "other"},\n "lists"')],
    ['an earlier outputs member', written.replace(' "lists"', ' "outputs": {"store-1/x": "1"},\n "lists"')],
    ['one output', JSON.stringify({ ...record, outputs: { 'store-1/policy.json': id(2) } }, null, 1) + '\n'],
  ])('%s: what JSON.parse reads', (_, text) => {
    expect(parse(text)).toEqual(asParsed(text));
  });

  test('no outputs: what JSON.parse reads', () => {
    const text = JSON.stringify({ ...record, outputs: {} }, null, 1) + '\n';
    expect(parse(text)).toEqual(asParsed(text));
  });

  test('a record that is not one is none', () => {
    expect(parse(written.replace(id(1), 'not-an-id'))).toBeUndefined();
    expect(parse(written.replace(id(1), id(1).toUpperCase()))).toBeUndefined();
    expect(parse(written.replace('"site": "store-1"', '"site": "store-2"'))).toBeUndefined();
    expect(parse(written.replace('"version": 1', '"version": 2'))).toBeUndefined();
    expect(parse(written.slice(0, -3))).toBeUndefined();
    expect(parse(written.replace('"lists": [', '"lists": [1, '))).toBeUndefined();
    // Read whole, a record whose entry is not one is none.
    expect(parse(JSON.stringify({ ...record, fleet: { name: 'store-1' } }))).toBeUndefined();
  });

  test('an entry read apart that is not JSON, or not an entry, reads as none when asked', () => {
    const broken = parseRecord(Buffer.from(written.replace('"fleet": {', '"fleet": {{')), 'store-1');
    expect(broken?.fleet()).toBeUndefined();
    expect(broken?.outputs).toEqual(Object.entries(record.outputs));
    const foreign = parseRecord(Buffer.from(written.replace('"name": "store-1"', '"name": "store-2"')), 'store-1');
    expect(foreign?.fleet()).toBeUndefined();
  });

  test('the bytes may be a view of a larger buffer, reused after', () => {
    const big = Buffer.concat([Buffer.from('xx'), Buffer.from(written), Buffer.from('yy')]);
    const r = parseRecord(big.subarray(2, big.length - 2), 'store-1');
    big.fill(0);
    expect(r?.fleet()).toEqual(record.fleet);
  });
});

describe('relPath', () => {
  test.each([
    ['/ws', '/ws/sites/store-1.yaml'],
    ['/ws', '/ws/sites/.hidden/store-1.yaml'],
    ['/ws', '/ws/sites/..store.yaml'],
    ['/ws', '/ws/sites/../other/store-1.yaml'],
    ['/ws', '/ws/./sites/store-1.yaml'],
    ['/ws', '/ws//sites/store-1.yaml'],
    ['/ws', '/ws/sites/'],
    ['/ws', '/ws'],
    ['/ws', '/wsx/store-1.yaml'],
    ['/ws', '/elsewhere/store-1.yaml'],
    ['/ws/', '/ws/sites/store-1.yaml'],
    ['/a/../ws', '/ws/sites/store-1.yaml'],
  ])('under %s, %s: as path.relative says', (root, file) => {
    expect(relPath({ root }, file)).toBe(path.relative(root, file).split(path.sep).join('/'));
  });
});
