import { createHash } from 'node:crypto';

/**
 * How fwgen recognises its own items on a pfSense box, shared by the config.xml the pfsense
 * target writes and the vars the Ansible play applies, so that either path finds what the other
 * put there. Both marks hold the site: the play removes the stale items of its own site only,
 * never another site's on the same firewall, and never the admin's.
 *
 * - Every rule and alias description starts with `fwgen <site>: `. Site names are
 *   [a-z0-9-], so the ": " ends the site and no site's mark is the start of another's.
 * - Every alias name starts with `<aliasPrefix>_<site tag>_`.
 */
export function ownerMark(site: string): string {
  return `fwgen ${site}: `;
}

const TAG_MAX = 8; // pfSense alias names stop at 31 characters; the site may take 8 of them

/**
 * The site's part of alias names: the site itself when it is short and survives the change of
 * "-" to "_" unchanged, otherwise its first characters and a hash of the whole name, so that
 * two long site names with the same start still differ.
 */
export function siteTag(site: string): string {
  const slug = site.replace(/-+/g, '_').replace(/^_+|_+$/g, '');
  if (slug.length <= TAG_MAX && slug.replace(/_/g, '-') === site) return slug;
  const hash = BigInt(`0x${createHash('sha256').update(site).digest('hex').slice(0, 12)}`).toString(36).slice(-4).padStart(4, '0');
  return `${slug.slice(0, TAG_MAX - 4).replace(/_+$/, '')}${hash}`;
}

/** The start of every alias name of the site, "_" included: `fwgen_shop_`. */
export function aliasNamePrefix(aliasPrefix: string, site: string): string {
  return `${aliasPrefix}_${siteTag(site)}_`.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+/g, '_');
}
