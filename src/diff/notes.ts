/**
 * The sentence every format prints for sites whose base held no policy snapshot; `sites`
 * come already escaped for the format.
 */
export function notComparedNote(sites: string[]): string {
  const them = sites.length === 1 ? 'it' : 'them';
  return (
    `catalog changes are not compared for ${sites.join(', ')}: the base has no policy snapshot for ${them} ` +
    `(rendered by an fwgen that wrote no policy.json per site), so ${sites.length === 1 ? 'its base was' : 'their bases were'} rendered again with this fwgen and its catalog`
  );
}
