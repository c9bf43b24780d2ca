export type FileKind = 'vendor' | 'profile' | 'list' | 'device-classes' | 'lock' | 'workspace' | 'unknown';

/** What a YAML file is, by its top-level key: the same test yaml-language-server users see. */
export function kindOf(data: unknown): FileKind {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return 'unknown';
  const keys = Object.keys(data);
  if (keys.includes('vendor')) return 'vendor';
  if (keys.includes('profile')) return 'profile';
  if (keys.includes('list')) return 'list';
  if (keys.includes('deviceClasses')) return 'device-classes';
  if (keys.includes('lock')) return 'lock';
  if (keys.includes('sites')) return 'workspace';
  return 'unknown';
}
