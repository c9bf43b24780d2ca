import { rebase } from '../../src/feeds/fetch';
import { entryCounter } from '../../src/feeds/entry-count';
import { formats, m365VersionUrl } from '../../src/feeds/formats';
import { notPublicUnicast, shrinkage } from '../../src/feeds/guard';
import { hostName } from '../../src/feeds/m365-vendor';
import { FeedError } from '../../src/feeds/types';
import { isCidrError, parseCidr, type Cidr } from '../../src/net/addresses';

const cidr = (t: string): Cidr => {
  const c = parseCidr(t);
  if (isCidrError(c)) throw new Error(c.error);
  return c;
};

describe('--source-base', () => {
  test.each([
    ['https://www.cloudflare.com/ips-v4', 'http://127.0.0.1:8080', 'http://127.0.0.1:8080/ips-v4'],
    ['https://www.cloudflare.com/ips-v4', 'https://mirror.example/feeds/', 'https://mirror.example/feeds/ips-v4'],
    ['https://ip-ranges.amazonaws.com/ip-ranges.json', 'http://[::1]:9000/a/b', 'http://[::1]:9000/a/b/ip-ranges.json'],
    ['https://endpoints.office.com/endpoints/worldwide?clientrequestid=x', 'http://m:1', 'http://m:1/endpoints/worldwide?clientrequestid=x'],
  ])('%s under %s', (url, base, expected) => expect(rebase(url, base)).toBe(expected));
  test('without a base the URL is kept', () => expect(rebase('https://a.example/x', undefined)).toBe('https://a.example/x'));
});

describe('public unicast', () => {
  test.each(['104.16.0.0/13', '2606:4700::/32', '13.107.6.152/31', '2620:1ec:4::152/128', '8.8.8.8'])('%s is public', (t) =>
    expect(notPublicUnicast(cidr(t))).toBeUndefined(),
  );
  test.each([
    ['10.1.0.0/16', 'private'], ['172.16.0.0/12', 'private'], ['192.168.1.0/24', 'private'], ['100.64.0.0/10', 'carrierGradeNat'],
    ['127.0.0.0/8', 'loopback'], ['169.254.0.0/16', 'linkLocal'], ['224.0.0.0/4', 'multicast'], ['240.0.0.0/4', 'reserved'],
    ['255.255.255.255', 'broadcast'], ['198.51.100.0/24', 'reserved'], ['0.0.0.0/0', 'unspecified'], ['::1', 'loopback'],
    ['fe80::/10', 'linkLocal'], ['ff02::1', 'multicast'], ['fd00::/8', 'uniqueLocal'], ['2001:db8::/32', 'reserved'], ['::ffff:1.2.3.4', 'ipv4Mapped'],
  ])('%s is %s', (t, why) => expect(notPublicUnicast(cidr(t))).toMatch(new RegExp(`^${why}`)));
  test('a public start does not hide a special range inside', () => {
    expect(notPublicUnicast(cidr('96.0.0.0/3'))).toMatch(/overlaps/);
    expect(notPublicUnicast(cidr('2000::/3'))).toMatch(/overlaps/);
  });
});

describe('shrinkage is measured by the addresses lost, not by lines', () => {
  test('re-aggregated ranges lose nothing', () => {
    expect(shrinkage(['104.16.0.0/14', '104.20.0.0/14'], ['104.16.0.0/13'])).toEqual([{ family: 'ipv4', lost: 0 }]);
  });
  test('half of one family gone', () => {
    expect(shrinkage(['104.16.0.0/13', '2400:cb00::/32'], ['104.16.0.0/14', '2400:cb00::/32'])).toEqual([
      { family: 'ipv4', lost: 0.5 },
      { family: 'ipv6', lost: 0 },
    ]);
  });
  test('a family the old list did not have is not a shrink', () => {
    expect(shrinkage(['104.16.0.0/13'], ['104.16.0.0/13', '2400:cb00::/32'])).toEqual([{ family: 'ipv4', lost: 0 }]);
  });
});

describe('Microsoft 365 names', () => {
  test.each([
    ['outlook.office365.com', 'outlook.office365.com', false],
    ['*.outlook.com', '*.outlook.com', false],
    ['<tenant>.sharepoint.com', '{tenant}.sharepoint.com', false],
    ['autodiscover.<tenant>.onmicrosoft.com', 'autodiscover.{tenant}.onmicrosoft.com', false],
    ['Outlook.Office.COM', 'outlook.office.com', false],
    ['*-files.sharepoint.com', '*.sharepoint.com', true],
    ['autodiscover.*.onmicrosoft.com', '*.onmicrosoft.com', true],
  ])('%s → %s', (url, name, widened) => {
    const n = hostName(url);
    expect(n.name).toBe(name);
    if (widened) expect(n.note).toContain(`widened to ${name}`);
    else expect(n.note).toBeUndefined();
  });
  test.each(['*.com', 'not a name', 'http://x'])('%s is left out with a note', (url) => {
    const n = hostName(url);
    expect(n.name).toBeUndefined();
    expect(n.note).toContain('left out');
  });
  test('the version URL sits beside the endpoints URL', () => {
    expect(m365VersionUrl('https://endpoints.office.com/endpoints/worldwide')).toBe('https://endpoints.office.com/version/worldwide');
    expect(() => m365VersionUrl('https://endpoints.office.com/changes/worldwide/0')).toThrow(FeedError);
  });
});

describe('feed parsers', () => {
  test('two AWS documents that disagree on the syncToken are refused', () => {
    const doc = (t: string) => ({ url: `u${t}`, text: JSON.stringify({ syncToken: t, createDate: 'd', prefixes: [{ ip_prefix: '13.32.0.0/15', service: 'CLOUDFRONT' }] }) });
    expect(() => formats.aws.parse([doc('1'), doc('2')], {})).toThrow('the documents disagree on syncToken: 1, 2');
  });
  test('Google filters by scope and service together', () => {
    const body = { url: 'u', text: JSON.stringify({ syncToken: '1', creationTime: 't', prefixes: [
      { ipv4Prefix: '34.76.0.0/14', service: 'Google Cloud', scope: 'europe-west1' },
      { ipv4Prefix: '34.1.208.0/20', service: 'Google Cloud', scope: 'africa-south1' },
      { ipv6Prefix: '2600:1900:4010::/44', service: 'Google Cloud', scope: 'europe-west1' },
    ] }) };
    expect(formats.google.parse([body], { scope: ['europe-west1'], service: ['Google Cloud'] }).prefixes).toEqual(['34.76.0.0/14', '2600:1900:4010::/44']);
    expect(formats.google.parse([body], { scope: ['europe-west1', 'africa-south1'] }).prefixes).toHaveLength(3);
  });
  test('Microsoft 365 filters by category and required', () => {
    const endpoints = { url: 'e', text: JSON.stringify([
      { id: 1, serviceArea: 'Exchange', category: 'Optimize', required: true, ips: ['13.107.6.152/31'], tcpPorts: '443' },
      { id: 2, serviceArea: 'Exchange', category: 'Allow', required: false, ips: ['40.92.0.0/15'], tcpPorts: '587' },
    ]) };
    const version = { url: 'v', text: '{"instance":"Worldwide","latest":"2025103000"}' };
    const parsed = formats['microsoft-365'].parse([endpoints, version], { required: [true] });
    expect(parsed).toMatchObject({ prefixes: ['13.107.6.152/31'], version: '2025103000' });
    expect(parsed.endpoints).toHaveLength(2);
  });
});

describe('entries are counted while a document arrives', () => {
  const count = (shape: 'lines' | 'json', ...pieces: string[]) => {
    const c = entryCounter(shape);
    for (const p of pieces) c.add(Buffer.from(p));
    return c.count;
  };
  test('lines: a last line without a line feed counts', () => {
    expect(count('lines', '1.1.1.0/24\n2.2.2.0/24')).toBe(2);
    expect(count('lines', '1.1.1.0/24\n', '2.2.2.0/24\n')).toBe(2);
    expect(count('lines', '')).toBe(0);
  });
  test('JSON: every value, keys not, strings read with their escapes, across chunk edges', () => {
    expect(count('json', '{"a": [1, "x", true, null], "b": {}}')).toBe(7);
    expect(count('json', '["a\\"],[{", "b"]')).toBe(3);
    expect(count('json', '{"ke', 'y": "va', 'l", "k2": -12.5e3}')).toBe(3);
    expect(count('json', '[{},{},{}]')).toBe(4);
  });
});
