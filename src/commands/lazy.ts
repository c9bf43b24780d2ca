/**
 * A module loaded when first used: a command's options (and its --help) need none of the
 * libraries its handler runs, and some of them (the catalog's YAML and schema code, the
 * targets, the diff) take longer to load than the help takes to print.
 */
export function lazy<T extends object>(load: () => T): T {
  let mod: T | undefined;
  return new Proxy({} as T, { get: (_target, key) => (mod ??= load())[key as keyof T] });
}
