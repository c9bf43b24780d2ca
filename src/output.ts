import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RenderedFile } from './targets/render';

export interface WriteSummary {
  written: string[];
  unchanged: string[];
  removed: string[];
}

/**
 * Writes rendered files under `root`. Each file goes to a temporary name first and is
 * renamed into place only once every file is ready, so a failure leaves the old files.
 * Unchanged files are not touched; files fwgen wrote before that the render no longer
 * produces (inside the folders it owns) are removed.
 */
export function writeOutput(root: string, files: RenderedFile[], ownedDirs: string[]): WriteSummary {
  const summary: WriteSummary = { written: [], unchanged: [], removed: [] };
  const staged: Array<{ tmp: string; final: string }> = [];
  try {
    for (const f of files) {
      const final = path.join(root, f.path);
      if (fs.existsSync(final) && fs.readFileSync(final, 'utf8') === f.content) {
        summary.unchanged.push(f.path);
        continue;
      }
      fs.mkdirSync(path.dirname(final), { recursive: true });
      const tmp = `${final}.fwgen-tmp-${process.pid}`;
      fs.writeFileSync(tmp, f.content);
      staged.push({ tmp, final });
      summary.written.push(f.path);
    }
  } catch (err) {
    for (const s of staged) fs.rmSync(s.tmp, { force: true });
    throw err;
  }
  for (const s of staged) fs.renameSync(s.tmp, s.final);
  const produced = new Set(files.map((f) => path.join(root, f.path)));
  for (const dir of ownedDirs) {
    for (const file of listFiles(path.join(root, dir))) {
      if (!produced.has(file)) {
        fs.rmSync(file);
        summary.removed.push(path.relative(root, file));
      }
    }
  }
  return summary;
}

export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else out.push(full);
  }
  return out.sort();
}

/** Which files under `root` differ from a render: missing, changed, or no longer produced. */
export function staleFiles(root: string, files: RenderedFile[], ownedDirs: string[]): string[] {
  const stale: string[] = [];
  const produced = new Set<string>();
  for (const f of files) {
    const full = path.join(root, f.path);
    produced.add(full);
    if (!fs.existsSync(full)) stale.push(`${f.path} (missing)`);
    else if (fs.readFileSync(full, 'utf8') !== f.content) stale.push(`${f.path} (differs)`);
  }
  for (const dir of ownedDirs) {
    for (const file of listFiles(path.join(root, dir))) {
      if (!produced.has(file)) stale.push(`${path.relative(root, file)} (no longer produced)`);
    }
  }
  return stale.sort();
}
