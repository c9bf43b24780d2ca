import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { linkRefused } from './errors';

/** Who made a lock or a temporary file: a process on a machine. */
export interface Holder {
  pid: number;
  host: string;
  since: string;
}

/** A holder on this machine whose process is gone. Other hosts cannot be checked: alive. */
export function isDead(h: Pick<Holder, 'pid' | 'host'>): boolean {
  if (h.host !== os.hostname()) return false;
  if (h.pid === process.pid) return true;
  try {
    process.kill(h.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Removes the files in `dir` that runs on this machine left when they were killed: names
 * matching `pattern`, whose first group is the pid of a process that is gone. A link with
 * such a name is refused: fwgen made none, so someone else put it there.
 */
export function removeDeadTemps(dir: string, pattern: RegExp): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const m = pattern.exec(entry.name);
    if (!m) continue;
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) throw linkRefused(full);
    if (entry.isFile() && isDead({ pid: Number(m[1]), host: os.hostname() })) fs.rmSync(full, { force: true });
  }
}
