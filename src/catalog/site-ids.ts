/**
 * The site's own traffic is kept as one more vendor, `site`, so that selection, the IR,
 * list, explain and every target treat it exactly like a vendor's: same grammar, same
 * checks, stable rule ids (site.<flow id>.<class>.<in|out>.<protocol>). No catalog vendor
 * may take this id.
 */
export const SITE_VENDOR = 'site';
/** The service the profile's `resolvers:` turn into; no site flow may take this id. */
export const RESOLVERS_SERVICE = 'resolvers';
