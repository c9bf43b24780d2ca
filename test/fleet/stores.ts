/**
 * A workspace of stores for the CLI tests: fwgen.yaml renders nftables and ansible from a
 * catalog layer of its own (the acme vendor and its list), and each store has its profile and
 * its lock, each lock pinning its own address (203.0.113.10, .11, ...).
 */
import { listText, lockText, siteText, vendorText, writeTree } from '../diff/fixture';

/** The fixture's site without its management-access check: a site that renders without warnings. */
export const quietSiteText = siteText.replace(/^ {2}- \{ check: management-access, deviceClass: boh-server, .*\n/m, '');

/** The fixture's site (store-1) as `name`. */
export function storeText(name: string, text = quietSiteText): string {
  return text.replace('name: store-1', `name: ${name}`);
}

/** Writes the workspace with `stores` (name → profile text) under sites/; returns its root. */
export function storesWorkspace(stores: Record<string, string>): string {
  const files: Record<string, string> = {
    'fwgen.yaml': 'sites: [sites/*.yaml]\ncatalog: [own]\noutput: out\ntargets: [nftables, ansible]\n',
    'own/vendors/acme.yaml': vendorText,
    'own/lists/acme-edge.yaml': listText,
  };
  Object.entries(stores).forEach(([name, text], i) => {
    files[`sites/${name}.yaml`] = text;
    files[`sites/${name}.lock.yaml`] = lockText(`203.0.113.${10 + i}`);
  });
  return writeTree(files);
}
