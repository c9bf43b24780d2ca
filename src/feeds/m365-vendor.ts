import { createHash } from 'node:crypto';
import { Document, isScalar, isSeq, visit } from 'yaml';
import { nameProblem } from '../catalog/name-rule';
import { parseKnown, toAddressSet } from '../net/addresses';
import { escapeUnsafe } from '../util/unsafe-chars';
import { parsePort } from '../net/ports';
import { FeedError, type M365Endpoint } from './types';
import { append } from '../util/append';

/** The vendor schema's host-name pattern: exact names, or one leading `*.` wildcard label. */
const HOST = /^(\*\.)?([a-z0-9_{}-]+\.)+[a-z0-9{}-]+$/;
const TENANT = /<tenant>/gi;

export interface VendorInput {
  vendorId: string;
  listId: string;
  feedUrl: string;
  version: string;
  fetched: string;
  endpoints: M365Endpoint[];
  /** The schema folder as seen from the vendor file's folder (a workspace's folder points into the installed fwgen). */
  schemaDir?: string;
}

interface Name {
  name?: string;
  note?: string;
}

/**
 * A published URL as a catalog host name. The service writes `<tenant>` where the customer's
 * tenant goes (a profile variable here) and sometimes a `*` inside a label
 * (`*-files.sharepoint.com`, `autodiscover.*.onmicrosoft.com`), which no firewall matches:
 * such a name becomes the wildcard of the labels after the `*`, and the flow says so.
 */
export function hostName(url: string): Name {
  const n = url.trim().toLowerCase().replace(TENANT, '{tenant}');
  if (HOST.test(n)) return { name: n };
  const labels = n.split('.');
  const last = labels.map((l) => l.includes('*')).lastIndexOf(true);
  if (last >= 0) {
    const parent = labels.slice(last + 1);
    const wide = `*.${parent.join('.')}`;
    if (parent.length >= 2 && HOST.test(wide)) {
      return { name: wide, note: `The service lists ${url}, a pattern no firewall matches label by label; it is widened to ${wide}.` };
    }
  }
  return { note: `The service lists ${url}, which is not a host name; it is left out.` };
}

function ports(text: string | undefined, id: number): Array<number | string> {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((p) => {
    const t = p.trim();
    const r = parsePort(/^\d+$/.test(t) ? Number(t) : t);
    if ('error' in r) throw new FeedError(`endpoint set ${id}: port '${t}': ${r.error}`);
    return r.from === r.to ? r.from : `${r.from}-${r.to}`;
  });
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

function flowsOf(e: M365Endpoint): { flows: Record<string, unknown>[]; usesTenant: boolean } {
  const names = e.urls.map(hostName);
  const domains = [...new Set(names.flatMap((n) => (n.name ? [n.name] : [])))].sort();
  const set = toAddressSet(parseKnown(e.ips.map((ip) => ip.trim())));
  const addresses = [...set.ipv4, ...set.ipv6];
  const notes = [`Endpoint set ${e.id}, category ${e.category}${e.expressRoute ? ', also over ExpressRoute' : ''}.`];
  if (e.notes) notes.push(e.notes);
  append(notes, names.flatMap((n) => (n.note ? [n.note] : [])));
  const flows: Record<string, unknown>[] = [];
  if (domains.length + addresses.length === 0) return { flows, usesTenant: false };
  for (const [protocol, list] of [['tcp', ports(e.tcpPorts, e.id)], ['udp', ports(e.udpPorts, e.id)]] as const) {
    if (list.length === 0) continue;
    const flow: Record<string, unknown> = { direction: 'outbound', protocol, ports: list };
    if (domains.length > 0) flow.domains = domains;
    if (addresses.length > 0) flow.addresses = addresses;
    flow.notes = notes;
    flow.cite = `endpoint set ${e.id} (serviceArea ${e.serviceArea})`;
    flows.push(flow);
  }
  return { flows, usesTenant: domains.some((d) => d.includes('{tenant}')) };
}

/**
 * The feed's fields that become names in the vendor file (a service's id and name): checked
 * by the rule catalog files are loaded with, so the refusal names the feed's own field.
 */
function checkNames(e: M365Endpoint): void {
  for (const field of ['serviceArea', 'serviceAreaDisplayName'] as const) {
    const value = e[field];
    const problem = value === undefined ? undefined : nameProblem(value);
    if (problem) throw new FeedError(`endpoint set ${e.id}: ${field} ${escapeUnsafe(JSON.stringify(value))} becomes a service name, and the name ${problem}`);
  }
}

/** The catalog's view of the feed: one service per service area and requirement, one flow per endpoint set and protocol. */
export function vendorDocument(input: VendorInput): { services: Record<string, unknown>[]; variables: Record<string, unknown> } {
  const groups = new Map<string, M365Endpoint[]>();
  for (const e of [...input.endpoints].sort((a, b) => a.id - b.id)) {
    checkNames(e);
    const id = `${slug(e.serviceArea)}${e.required ? '' : '-optional'}`;
    if (!groups.has(id)) groups.set(id, []);
    groups.get(id)!.push(e);
  }
  let usesTenant = false;
  const services: Record<string, unknown>[] = [];
  for (const [id, sets] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const first = sets[0]!;
    const flows = sets.flatMap((e) => {
      const f = flowsOf(e);
      usesTenant ||= f.usesTenant;
      return f.flows;
    });
    if (flows.length === 0) continue;
    const area = first.serviceAreaDisplayName ?? first.serviceArea;
    services.push({
      id,
      name: first.required ? area : `${area} (optional endpoints)`,
      requirement: first.required ? 'required' : 'optional',
      vendorSays: `serviceArea ${first.serviceArea}, required: ${first.required}`,
      deviceClasses: ['back-office-pc'],
      cite: `serviceArea ${first.serviceArea}, endpoint sets ${sets.map((e) => e.id).join(', ')}`,
      notes: [`Endpoint sets ${sets.map((e) => e.id).join(', ')} of the service area ${first.serviceArea}.`],
      flows,
    });
  }
  if (services.length === 0) throw new FeedError('the feed has no endpoint set with ports and a host name or address; no vendor file is made from it');
  const variables: Record<string, unknown> = usesTenant
    ? { tenant: { description: 'Your Microsoft 365 tenant name, as in <tenant>.onmicrosoft.com (the service writes <tenant>).', pattern: '[a-z0-9][a-z0-9-]{0,62}', example: 'contoso' } }
    : {};
  return { services, variables };
}

export function vendorDigest(doc: ReturnType<typeof vendorDocument>): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 16)}`;
}

const GENERATED_LINE = /^# Generated by `fwgen lists update [a-z0-9-]+`/m;

/** Only a file this command wrote is rewritten by it: a hand-written vendor of the same id is left alone. */
export function isGenerated(text: string): boolean {
  return GENERATED_LINE.test(text);
}

const DIGEST_LINE = /^# digest: (sha256:[0-9a-f]+)$/m;

/** The digest a generated vendor file records, to tell whether its content changed. */
export function recordedVendorDigest(text: string): string | undefined {
  return DIGEST_LINE.exec(text)?.[1];
}

export function vendorText(input: VendorInput): { text: string; digest: string } {
  const content = vendorDocument(input);
  const digest = vendorDigest(content);
  const body = {
    vendor: {
      id: input.vendorId,
      name: 'Microsoft 365',
      source: {
        title: 'Microsoft 365 IP Address and URL web service: endpoints',
        url: input.feedUrl,
        date: `version ${input.version}`,
      },
      notes: [
        `Generated by fwgen lists update from the feed that catalog/lists/${input.listId}.yaml names; edit that file, not this one.`,
        'One service per service area: its required endpoint sets, and its optional ones under <area>-optional.',
        'Optimize and Allow endpoints are the ones Microsoft asks to reach directly, without inspection by a proxy; Default endpoints may go through one.',
        'The clients are taken to be back-office PCs.',
      ],
    },
    ...(Object.keys(content.variables).length > 0 ? { variables: content.variables } : {}),
    services: content.services,
  };
  // Repeated values are written out: a file with anchors and aliases is read by the slower reader.
  const doc = new Document(body, { aliasDuplicateObjects: false });
  // Short lists print on one line, as the hand-written vendor files have them.
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && ['ports', 'deviceClasses'].includes(String(pair.key.value)) && isSeq(pair.value)) pair.value.flow = true;
    },
  });
  const header = [
    `# yaml-language-server: $schema=${input.schemaDir ?? '../schema'}/vendor.schema.json`,
    `# Generated by \`fwgen lists update ${input.listId}\`; the next update rewrites this file.`,
    `# feed: ${input.feedUrl}`,
    `# version: ${input.version}`,
    `# fetched: ${input.fetched}`,
    `# digest: ${digest}`,
  ].join('\n');
  return { text: `${header}\n${doc.toString({ lineWidth: 0 })}`, digest };
}
