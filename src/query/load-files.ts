import type { Path } from '../ruleset/evaluate';
import { QueryInputError } from '../ruleset/policy-answer';
import { readAwsGroups, readAwsPermissions } from '../ruleset/readers/aws';
import { groupedFormatOf, readRulesets, type GroupedFormat, type ReaderInput } from '../ruleset/readers';
import { readPfsense } from '../ruleset/readers/pfsense';
import { readWindowsProfiles } from '../ruleset/readers/windows';
import { permissionsFile, type Group, type LoadedFiles } from './file-sides';

/**
 * The rule files of one query, read by the reader their content calls for. They must be of one
 * firewall's kind: nftables/iptables (with ipset save output), pfSense, AWS, or Windows; a
 * question about two kinds at once is two questions.
 */

type Kind = 'linux' | 'pfsense' | 'aws' | 'windows';

const KIND_OF: Record<GroupedFormat, Kind> = { pfsense: 'pfsense', aws: 'aws', 'aws-permissions': 'aws', windows: 'windows' };

export function loadFiles(inputs: ReaderInput[], hook: Path | undefined): LoadedFiles {
  const formats = inputs.map((i) => groupedFormatOf(i.text));
  const kinds = [...new Set(formats.map((f) => (f ? KIND_OF[f] : 'linux')))];
  if (kinds.length > 1) {
    throw new QueryInputError(`the files are of different firewalls (${inputs.map((i, k) => `${i.file}: ${formats[k] ?? 'nftables/iptables'}`).join(', ')}): ask about one at a time`);
  }
  switch (kinds[0]) {
    case 'pfsense':
      return { kind: 'pfsense', rulesets: inputs.map((i) => readPfsense(i.file, i.text)) };
    case 'windows':
      return { kind: 'windows', hosts: inputs.map((i) => ({ file: i.file, profiles: readWindowsProfiles(i.file, i.text) })) };
    case 'aws':
      return { kind: 'aws', groups: awsGroups(inputs, formats, hook) };
    default:
      return { kind: 'linux', rulesets: readRulesets(inputs) };
  }
}

/** Groups from describe-security-groups output, and from permission lists joined by their group (file) name. */
function awsGroups(inputs: ReaderInput[], formats: Array<GroupedFormat | undefined>, hook: Path | undefined): Group[] {
  const out: Group[] = [];
  for (const [k, i] of inputs.entries()) {
    if (formats[k] === 'aws') {
      for (const g of readAwsGroups(i.file, i.text)) {
        const [ingress, egress] = g.ruleset.chains;
        out.push({ id: g.id, name: g.name, tags: g.tags, file: i.file, ingress, egress });
      }
      continue;
    }
    const { group, dir } = permissionsFile(i.file, hook);
    const chain = readAwsPermissions(i.file, i.text, group, dir);
    let g = out.find((x) => x.id === group);
    if (!g) out.push((g = { id: group, name: group, tags: {}, file: i.file }));
    else if (g.file !== i.file) g.file = `${g.file} + ${i.file}`;
    if (g[dir]) throw new QueryInputError(`${i.file}: a second ${dir} list for ${group}`);
    g[dir] = chain;
  }
  const ids = out.map((g) => g.id);
  const twice = ids.find((id, n) => ids.indexOf(id) !== n);
  if (twice) throw new QueryInputError(`security group ${twice} is in the files twice`);
  return out;
}
