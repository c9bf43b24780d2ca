import { YamlSource } from '../../src/catalog/yaml-source';

type Path = Array<string | number>;

/** Every path in the data: each mapping key and sequence index, depth first. */
export function allPaths(data: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(data)) data.forEach((item, i) => allPaths(item, [...at, i], out));
  else if (data !== null && typeof data === 'object') for (const [k, v] of Object.entries(data)) allPaths(v, [...at, k], out);
  return out;
}

/**
 * Differences between the fast reader and the `yaml` package on one text: the data, and
 * locate(path) / locate(path, true) for every path in it (plus a path past each leaf).
 * Returns the reader used, and a list of disagreements (empty when they agree).
 */
export function compareReaders(text: string): { reader: 'fast' | 'yaml'; diffs: string[] } {
  const diffs: string[] = [];
  const ref = attempt(() => YamlSource.parseWithYaml('f.yaml', text));
  const fast = attempt(() => YamlSource.parseFastFirst('f.yaml', text));
  if (typeof ref === 'string' || typeof fast === 'string') {
    if (ref !== fast) diffs.push(`outcome: ${String(fast)} vs ${String(ref)}`);
    return { reader: typeof fast === 'string' ? 'yaml' : fast.reader, diffs };
  }
  try {
    expect(fast.data).toEqual(ref.data);
  } catch {
    diffs.push(`data: ${JSON.stringify(fast.data)} vs ${JSON.stringify(ref.data)}`);
    return { reader: fast.reader, diffs };
  }
  for (const path of allPaths(ref.data)) {
    for (const probe of [path, [...path, 'missing'], [...path, 0]]) {
      for (const key of [false, true]) {
        const a = fast.locate(probe, key);
        const b = ref.locate(probe, key);
        if (a.line !== b.line || a.col !== b.col) diffs.push(`${JSON.stringify(probe)} key=${key}: ${a.line}:${a.col} vs ${b.line}:${b.col}`);
      }
    }
  }
  return { reader: fast.reader, diffs };
}

function attempt(read: () => YamlSource): YamlSource | string {
  try {
    return read();
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}
