import type { Ruleset, RulesetFormat } from '../model';
import { looksLikeIpset, readIpsets, type Ipset } from './ipset';
import { looksLikeIptables, readIptables } from './iptables';
import { looksLikeNftJson, readNftJson } from './nftables-json';
import { readNftables } from './nftables';
import { readError } from './values';
import { isPermissionList } from './aws';

/**
 * The formats `query` and `audit` read, told apart by content (never by file name: a deployed
 * file is called whatever its admin called it). Readers are tried in the order listed; the
 * first whose `detect` says yes reads the file. A companion (ipset save output) holds no rules:
 * it supplies what the rule files given with it refer to.
 */

export interface ReaderInput {
  file: string;
  text: string;
}

/** What companion files supply to the readers of the rule files given with them. */
export interface ReadContext {
  ipsets: Map<string, Ipset>;
}

export interface RulesetReader {
  format: RulesetFormat;
  /** One line for --help and messages. */
  describe: string;
  detect(text: string): boolean;
  read(input: ReaderInput, context: ReadContext): Ruleset;
}

export interface CompanionReader {
  kind: 'ipset';
  describe: string;
  detect(text: string): boolean;
  read(input: ReaderInput, context: ReadContext): void;
}

export const companions: CompanionReader[] = [
  {
    kind: 'ipset',
    describe: 'ipset save output (the sets iptables rules match with -m set)',
    detect: looksLikeIpset,
    read: (input, context) => void readIpsets(input.file, input.text, context.ipsets),
  },
];

export const readers: RulesetReader[] = [
  { format: 'nftables-json', describe: 'nft -j list ruleset', detect: looksLikeNftJson, read: (i) => readNftJson(i.file, i.text) },
  { format: 'iptables-save', describe: 'iptables-save / ip6tables-save (and restore files)', detect: looksLikeIptables, read: (i, c) => readIptables(i.file, i.text, c.ipsets) },
  { format: 'nftables', describe: 'nft list ruleset, or an nft -f script', detect: looksLikeNftText, read: (i) => readNftables(i.file, i.text) },
];

function looksLikeNftText(text: string): boolean {
  return /^\s*(table|add|flush|create|insert|define|delete|destroy|include)\s+/m.test(text);
}

/**
 * Reads every file given: companions first (a rule file may refer to a set in a file named
 * after it), then each rule file with the first reader that recognises it.
 */
export function readRulesets(inputs: ReaderInput[]): Ruleset[] {
  const context: ReadContext = { ipsets: new Map() };
  const rules: ReaderInput[] = [];
  for (const input of inputs) {
    const companion = companions.find((c) => c.detect(input.text));
    if (companion) companion.read(input, context);
    else rules.push(input);
  }
  if (rules.length === 0) throw readError({ file: inputs[0]?.file ?? '-', line: 1, col: 1 }, '--file', 'no rule set among the files given (only sets); add the rules file');
  return rules.map((input) => {
    const reader = readers.find((r) => r.detect(input.text));
    if (!reader) {
      throw readError({ file: input.file, line: 1, col: 1 }, '(document)', `not a format fwgen reads (${FORMATS_READ})`);
    }
    return reader.read(input, context);
  });
}

/**
 * The formats read by their own readers (one file gives several rule sets: a security group per
 * group, a Windows profile per profile), told apart by content like the others.
 */
export type GroupedFormat = 'pfsense' | 'aws' | 'aws-permissions' | 'windows';

export function groupedFormatOf(text: string): GroupedFormat | undefined {
  const t = text.trimStart();
  if (t.startsWith('<')) return /<pfsense[\s>]/.test(t.slice(0, 1 << 16)) ? 'pfsense' : undefined;
  if (!t.startsWith('{') && !t.startsWith('[')) return undefined;
  const head = t.slice(0, 1 << 16);
  if (/"nftables"\s*:/.test(head)) return undefined;
  if (isPermissionList(t)) return 'aws-permissions';
  if (/"(SecurityGroups|GroupId)"\s*:/.test(head)) return 'aws';
  if (/"(Rules|Direction|DisplayName)"\s*:/.test(head)) return 'windows';
  return undefined;
}

/** Every format a rule file may be in, for messages. */
export const FORMATS_READ = [
  ...readers.map((r) => r.describe),
  'pfSense config.xml',
  'AWS describe-security-groups JSON, or a group\'s IpPermissions list (fwgen\'s CLASS.ingress.json / CLASS.egress.json)',
  'Windows Get-NetFirewallRule | ConvertTo-Json (with its filters)',
  ...companions.map((c) => c.describe),
].join('; ');
