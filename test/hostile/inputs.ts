import fc from 'fast-check';
import { nameProblem } from '../../src/catalog/name-rule';
import { hostNameProblem } from '../../src/net/host-names';
import { lockText, type TestLockEntry } from '../helpers';

/**
 * Fragments that mean something in one of the formats fwgen writes or the shells that
 * run them: quotes of every kind, escapes, command substitution, statement separators,
 * XML and comment terminators, and look-alikes of each.
 */
export const FRAGMENTS = [
  "'", '"', '\\', '\\\\', '`', '$(touch /tmp/fwgen-pwned)', '${IFS}', '$x', ';', '&&', '|', '||', '<', '>', '&', '&amp;',
  ']]>', '<![CDATA[', '<!--', '-->', '--', '*/', '/*', '#', '#>', '<#', '{', '}', '[', ']', '@(', ')', '%', '!', '=', ',',
  '/', '//', ' ', '  ', 'comment "x"', 'accept;', '-j ACCEPT', '-A INPUT', '\u2018', '\u2019', '\u201a', '\u201b', '\u201c',
  '\u201d', '\uff07', '\u02bc', '\uff1b', '\u037e', '\u2044', '\u2215', '\uff1c', '\u0430', '\u0435', 'é', 'ß', '漢字', '😀',
  'e\u0301', 'x'.repeat(300),
];

/** Characters fwgen refuses in any input string (see src/util/unsafe-chars.ts). */
export const UNSAFE = ['\u0000', '\u0007', '\u001b', '\t', '\r', '\u007f', '\u0085', '\u061c', '\u200b', '\u200d', '\u200e', '\u2028', '\u202a', '\u202e', '\u2066', '\u2069', '\u2060', '\ufeff'];

const fragment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FRAGMENTS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }).filter((s) => !/[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u.test(s)) },
);

/** A hostile string for a field that reaches one line of output (a name, a title). */
export const hostileLine = fc
  .array(fragment, { minLength: 1, maxLength: 8 })
  .map((parts) => parts.join(''))
  .filter((s) => s.trim().length > 0 && s.length <= 2000);

/**
 * A hostile string for a name (a vendor's, a service's, a device class's): everything the name
 * rule lets through. What it refuses (braces, control and invisible characters) is refused
 * with a located error: test/unit/name-rule.test.ts.
 */
export const hostileName = hostileLine.filter((s) => nameProblem(s) === undefined);

/** A hostile string for free text, which may span lines (notes, descriptions). */
export const hostileText = fc
  .array(fc.oneof({ weight: 5, arbitrary: fragment }, { weight: 1, arbitrary: fc.constant('\n') }), { minLength: 1, maxLength: 10 })
  .map((parts) => parts.join(''))
  .filter((s) => s.trim().length > 0 && s.length <= 2000);

/** Values a loose vendor pattern (".*") lets through into a host name: mostly not names at all. */
export const looseName = fc.oneof(
  fc.constantFrom(
    'evil/#/x', 'a ::/0 b', '#', '/', 'x.example/', 'a..b', '.a', 'a.', '-a.example', 'a-.example', '*.', '*', 'a*b.example',
    '*.*.example', 'a_b.example', 'a b', 'a,b.example', 'a;b', 'a$(x).example', "a'b", 'a"b', '10.0.0.1', '0.0.0.0', 'x'.repeat(64),
    `${'a'.repeat(60)}.`.repeat(5) + 'com', 'a\\b', 'é.example', 'xn--bcher-kva.example', 'svc.acme.example', 'UP.example', '*.svc.example',
  ),
  fc.array(fc.constantFrom('a', 'z', '0', '9', '-', '.', '*', '_', '/', '#', ' ', ':', 'é', '\\', '$'), { minLength: 1, maxLength: 12 }).map((c) => c.join('')),
);

/** A string from the characters a profile's schema allows for a target option (a group name). */
const fromCharset = (chars: string, max: number) =>
  fc.array(fc.constantFrom(...chars.split('')), { minLength: 1, maxLength: max }).map((c) => c.join('')).filter((x) => x.trim().length > 0);

/** The free-text and name fields of the generated catalog and profile. */
export interface Texts {
  windowsGroup: string;
  awsGroupName: string;
  vendorName: string;
  title: string;
  vendorNotes: string;
  variableDescription: string;
  serviceName: string;
  purpose: string;
  serviceNotes: string;
  flowNotes: string;
  optName: string;
  condition: string;
  vendorSays: string;
  appName: string;
  program: string;
  incomplete: string;
  className: string;
  classDescription: string;
  profileDescription: string;
  bindingDescription: string;
}

const NAME_FIELDS = ['vendorName', 'serviceName', 'optName', 'appName', 'className'] as const;
const LINE_FIELDS = ['title', 'program'] as const;
const TEXT_FIELDS = [
  'vendorNotes', 'variableDescription', 'purpose', 'serviceNotes', 'flowNotes', 'condition', 'vendorSays', 'incomplete',
  'classDescription', 'profileDescription', 'bindingDescription',
] as const;
export const FIELDS = [...NAME_FIELDS, ...LINE_FIELDS, ...TEXT_FIELDS];

export const plainTexts: Texts = {
  ...(Object.fromEntries(FIELDS.map((f) => [f, f === 'program' ? 'Acme\\pos.exe' : `plain ${f}`])) as unknown as Texts),
  windowsGroup: 'fwgen hostile',
  awsGroupName: 'fwgen-hostile',
};

export const hostileTexts: fc.Arbitrary<Texts> = fc.record({
  ...(Object.fromEntries([...NAME_FIELDS.map((f) => [f, hostileName]), ...LINE_FIELDS.map((f) => [f, hostileLine]), ...TEXT_FIELDS.map((f) => [f, hostileText])]) as Record<(typeof FIELDS)[number], fc.Arbitrary<string>>),
  // Everything the profile schema lets through for these options.
  windowsGroup: fromCharset('Aa0 _.-', 64),
  // Every character the schema lets a group name hold; braces are refused (they would reach Ansible's templating).
  awsGroupName: fromCharset('Aa0 ._:/()#,@[]+=&;!$*-', 200),
});

const q = (s: string): string => JSON.stringify(s); // YAML reads JSON strings as they are

/** One vendor that exercises every kind of rule: addresses, names, wildcards, peers, ICMP, programs. */
export function vendorYaml(t: Texts): string {
  return `vendor:
  id: acme
  name: ${q(t.vendorName)}
  source:
    title: ${q(t.title)}
    seed: test.txt
  notes: [${q(t.vendorNotes)}]
variables:
  host:
    description: ${q(t.variableDescription)}
    pattern: ".*"
services:
  - id: api
    name: ${q(t.serviceName)}
    purpose: [${q(t.purpose)}]
    requirement: required
    deviceClasses: [pos-terminal, boh-server]
    notes: [${q(t.serviceNotes)}]
    flows:
      - direction: both
        protocol: tcp
        ports: [443, "5000-5010"]
        addresses: [192.0.2.0/24, "2001:db8::/32"]
        notes: [${q(t.flowNotes)}]
      - direction: outbound
        protocol: udp
        ports: [123]
        domains: [ntp.acme.example, "*.cdn.acme.example"]
      - direction: outbound
        protocol: icmp
        addresses: [198.51.100.0/24, "2001:db8:1::/48"]
      - direction: outbound
        protocol: tcp
        ports: [9000]
        deviceClasses: [pos-terminal]
        peers: [boh-server]
  - id: opt
    name: ${q(t.optName)}
    requirement: conditional
    condition: ${q(t.condition)}
    vendorSays: ${q(t.vendorSays)}
    deviceClasses: [pos-terminal]
    flows:
      - direction: outbound
        protocol: tcp
        ports: [8443]
        domains: ["{host}"]
  - id: app
    name: ${q(t.appName)}
    requirement: required
    deviceClasses: [pos-terminal]
    flows:
      - direction: outbound
        programs: [${q(`C:\\${t.program}`)}]
      - direction: inbound
        addresses: [203.0.113.0/24]
        incomplete: ${q(t.incomplete)}
`;
}

export function deviceClassesYaml(t: Texts): string {
  return `deviceClasses:
  - id: pos-terminal
    name: ${q(`Till ${t.className}`)}
    description: ${q(t.classDescription)}
    os: any
  - id: boh-server
    name: ${q(`Server ${t.className}`)}
    description: ${q(t.classDescription)}
    os: any
`;
}

export function profileYaml(t: Texts, host: string): string {
  return `profile:
  name: hostile
  description: ${q(t.profileDescription)}
region: eu
environment: production
vendors:
  acme:
    include: [opt]
    variables:
      host: ${q(host)}
deviceClasses:
  pos-terminal:
    addresses: [10.0.0.0/24, "2001:db8:10::/64"]
    description: ${q(t.bindingDescription)}
  boh-server:
    addresses: [10.0.1.10]
    description: ${q(t.bindingDescription)}
targets:
  windows:
    group: ${q(t.windowsGroup)}
  aws:
    groupName: ${q(t.awsGroupName)}
acknowledge:
${['pos-terminal', 'boh-server'].flatMap((c) => ['management-access', 'dns-lookup'].map((check) => `  - { check: ${check}, deviceClass: ${c}, reason: A test site that is never applied }\n`)).join('')}`;
}

/** A lock pinning every name the profile selects, so every rule renders. */
export function lockYaml(host: string): string {
  const entries: Record<string, TestLockEntry> = { 'ntp.acme.example': { ipv4: ['192.0.2.1'], ipv6: ['2001:db8:53::1'] } };
  // Only what fwgen resolve would look up reaches the lock: no wildcard, and nothing that is no host name (the profile must refuse that).
  if (host !== 'ntp.acme.example' && !host.startsWith('*.') && !hostNameProblem(host.toLowerCase())) entries[host.toLowerCase()] = { ipv4: ['192.0.2.2'], ipv6: ['2001:db8:53::2'] };
  return lockText('hostile', entries);
}
