import { spawn, spawnSync } from 'node:child_process';
import { FileError } from '../errors';

/**
 * Git run on the repository a workspace sits in, and the revisions a base is named by: what
 * diff (the base side) and the incremental check (the base's render records) both ask.
 */
export class GitError extends FileError {}

export function git(cwd: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) throw new GitError(cwd, `cannot run git: ${r.error.message}`);
  return { ok: r.status === 0, out: r.stdout.trim(), err: r.stderr.trim() };
}

/** The merge base of HEAD with the default branch (origin's HEAD, else main or master). */
export function defaultBase(repo: string): string {
  const candidates: string[] = [];
  const originHead = git(repo, ['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD']);
  if (originHead.ok && originHead.out) candidates.push(originHead.out);
  candidates.push('origin/main', 'origin/master', 'main', 'master');
  for (const c of candidates) {
    if (!git(repo, ['rev-parse', '--verify', '--quiet', `${c}^{commit}`]).ok) continue;
    const mb = git(repo, ['merge-base', 'HEAD', c]);
    if (mb.ok) return mb.out;
  }
  throw new GitError(repo, 'no default branch to compare with (origin/HEAD, main or master); name one with --base REF');
}

/** The repository holding the workspace and the commit `ref` names (default: the merge base with the default branch). */
export function resolveRevision(workspaceRoot: string, ref: string | undefined): { repoRoot: string; rev: string } {
  const top = git(workspaceRoot, ['rev-parse', '--show-toplevel']);
  if (!top.ok) throw new GitError(workspaceRoot, `not inside a Git repository (${top.err}); compare folders with --base-dir`);
  const repoRoot = top.out;
  const wanted = ref ?? defaultBase(repoRoot);
  const rev = git(repoRoot, ['rev-parse', '--verify', '--quiet', `${wanted}^{commit}`]);
  if (!rev.ok) throw new GitError(repoRoot, `unknown revision '${wanted}'`);
  return { repoRoot, rev: rev.out };
}

/**
 * A git command run beside this process, its output handed to `data` chunk by chunk as it
 * comes; a failure is a GitError.
 */
function gitStream(repoRoot: string, args: string[], input: string, data: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    const err: Buffer[] = [];
    let failed: unknown;
    child.stdout.on('data', (b: Buffer) => {
      if (failed !== undefined) return;
      try {
        data(b);
      } catch (e) {
        failed = e; // reported once git is done, so that no process is left behind
      }
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.once('error', (e) => reject(new GitError(repoRoot, `cannot run git: ${e.message}`)));
    child.once('close', (code) => {
      if (failed !== undefined) reject(failed);
      else if (code === 0) resolve();
      else reject(new GitError(repoRoot, `git ${args[0]}: ${Buffer.concat(err).toString('utf8').trim()}`));
    });
    child.stdin.on('error', () => undefined); // a git that exits early reports through its status
    child.stdin.end(input);
  });
}

/** A git command's whole output, run beside this process; a failure is a GitError. */
export async function gitOut(repoRoot: string, args: string[], input = ''): Promise<Buffer> {
  const out: Buffer[] = [];
  await gitStream(repoRoot, args, input, (b) => out.push(b));
  return Buffer.concat(out);
}

/** What one blob of a `git cat-file --batch` answer is handed with: valid only during the call. */
export type BlobSink<K> = (key: K, bytes: Buffer, id: string) => void;

/**
 * Splits `git cat-file --batch` output, fed in chunks as they come, into its objects: each blob
 * goes to `sink` with the key of the name it was asked by. A name git reports missing, and an
 * object that is not a blob (its content skipped), go nowhere. A blob held in one chunk is
 * handed as a view of it; only one that straddles chunks is copied, so reading thousands of
 * blobs never holds more than one chunk and one blob.
 */
class BatchSplitter<K> {
  private next = 0;
  private parts: Buffer[] = [];
  private held = 0;
  /** The object whose content is being read: its size, and whether it is a blob to hand on. */
  private body: { key: K; id: string; size: number; blob: boolean } | undefined;

  constructor(
    private readonly keys: ReadonlyArray<K>,
    private readonly sink: BlobSink<K>,
  ) {}

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.body === undefined) {
        const eol = chunk.indexOf(0x0a, at);
        if (eol < 0) {
          this.hold(chunk.subarray(at));
          return;
        }
        this.header(this.take(chunk.subarray(at, eol)).toString('latin1'));
        at = eol + 1;
        continue;
      }
      // The content and the newline git ends it with.
      const want = this.body.size + 1 - this.held;
      if (chunk.length - at < want) {
        this.hold(chunk.subarray(at));
        return;
      }
      const end = at + want;
      const { key, id, blob, size } = this.body;
      this.body = undefined;
      const bytes = this.take(chunk.subarray(at, end));
      at = end;
      if (blob) this.sink(key, bytes.subarray(0, size), id);
    }
  }

  private header(line: string): void {
    if (this.next >= this.keys.length) throw new Error(`internal: git cat-file answered more than it was asked: ${line.slice(0, 80)}`);
    const key = this.keys[this.next++]!;
    // "<id> <type> <size>", or "<name> missing" (or ambiguous), which has no content.
    const [id, type, size, ...rest] = line.split(' ');
    if (size === undefined || rest.length > 0) return;
    const n = Number(size);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`internal: git cat-file header '${line.slice(0, 80)}'`);
    this.body = { key, id: id!, size: n, blob: type === 'blob' };
  }

  private hold(part: Buffer): void {
    this.parts.push(part);
    this.held += part.length;
  }

  /** What was held, ending with `last`, as one buffer. */
  private take(last: Buffer): Buffer {
    if (this.parts.length === 0) return last;
    const whole = Buffer.concat([...this.parts, last]);
    this.parts = [];
    this.held = 0;
    return whole;
  }
}

const batchInput = (wanted: ReadonlyArray<readonly [unknown, string]>) => wanted.map(([, name]) => name).join('\n') + '\n';

/**
 * Blobs of the repository, each named as `git cat-file` takes it (an id, or TREE:PATH), read
 * by one `git cat-file --batch` run beside this process and handed to `sink` as they come,
 * with their ids, in the order asked; a missing one is left out.
 */
export async function streamBlobs<K>(repoRoot: string, wanted: ReadonlyArray<readonly [K, string]>, sink: BlobSink<K>): Promise<void> {
  if (wanted.length === 0) return;
  const splitter = new BatchSplitter(wanted.map(([key]) => key), sink);
  await gitStream(repoRoot, ['cat-file', '--batch'], batchInput(wanted), (chunk) => splitter.push(chunk));
}

/** streamBlobs, waited for: every blob with its id (the buffers are views of git's one answer). */
export function readBlobs<K>(repoRoot: string, wanted: ReadonlyArray<readonly [K, string]>): Array<[K, Buffer, string]> {
  if (wanted.length === 0) return [];
  const r = spawnSync('git', ['cat-file', '--batch'], { cwd: repoRoot, input: batchInput(wanted), maxBuffer: 2 ** 31 - 1 });
  if (r.error || r.status !== 0) throw new GitError(repoRoot, `git cat-file: ${r.error?.message ?? r.stderr.toString().trim()}`);
  const out: Array<[K, Buffer, string]> = [];
  new BatchSplitter(
    wanted.map(([key]) => key),
    (key: K, bytes, id) => out.push([key, bytes, id]),
  ).push(r.stdout);
  return out;
}
