import * as crypto from 'node:crypto';

/*
 * Git's object ids computed in this process, for comparing what a record names with what a
 * revision holds without asking git for every file.
 */

/** SHA-1 of the bytes (the one-shot hash where Node has it: thousands of small objects are hashed). */
const sha1: (bytes: Buffer) => Buffer =
  typeof crypto.hash === 'function' ? (bytes) => crypto.hash('sha1', bytes, 'buffer') : (bytes) => crypto.createHash('sha1').update(bytes).digest();

/**
 * The id Git gives a folder holding exactly `files` (path relative to the folder, '/'
 * between folders → blob id), every one a plain file (mode 100644); '' when an id is not one
 * (no tree has that id). Git orders a tree's entries by name, a folder's name as if it ended
 * in '/', which is the order of the whole paths; the paths are compared as JavaScript strings,
 * which is Git's byte order for the ASCII names fwgen writes: any other name could only make
 * the id differ from the one Git computed.
 */
export function treeIdOf(files: ReadonlyArray<readonly [path: string, blobId: string]>): string {
  let sorted = files;
  for (let i = 1; i < files.length; i++) {
    if (files[i - 1]![0] < files[i]![0]) continue;
    sorted = [...files].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    break;
  }
  return subtree(sorted, 0, sorted.length, 0)?.toString('hex') ?? '';
}

/**
 * The tree of entries lo..hi of `sorted`, which all start with the same `skip` characters
 * (their folder); undefined when an id is not 40 lowercase hex digits.
 */
function subtree(sorted: ReadonlyArray<readonly [string, string]>, lo: number, hi: number, skip: number): Buffer | undefined {
  const heads: Buffer[] = [];
  const ids: Array<Buffer | string> = [];
  let size = 0;
  for (let i = lo; i < hi; ) {
    const p = sorted[i]![0];
    const slash = p.indexOf('/', skip);
    let head: Buffer;
    if (slash < 0) {
      head = entryHead(FILE_MODE, p.slice(skip));
      const id = sorted[i]![1];
      if (!isHexId(id)) return undefined;
      ids.push(id);
      i++;
    } else {
      const folder = p.slice(0, slash + 1);
      let j = i + 1;
      while (j < hi && sorted[j]![0].startsWith(folder)) j++;
      head = entryHead(FOLDER_MODE, p.slice(skip, slash));
      const id = subtree(sorted, i, j, slash + 1);
      if (!id) return undefined;
      ids.push(id);
      i = j;
    }
    heads.push(head);
    size += head.length + 20;
  }
  const top = `tree ${size}\0`;
  const body = Buffer.allocUnsafe(top.length + size);
  let at = body.write(top, 0, 'latin1');
  for (let k = 0; k < heads.length; k++) {
    at += heads[k]!.copy(body, at);
    const id = ids[k]!;
    at += typeof id === 'string' ? body.write(id, at, 'hex') : id.copy(body, at);
  }
  return sha1(body);
}

const FILE_MODE = '100644';
const FOLDER_MODE = '40000';

/**
 * A tree entry's head ("<mode> <name>\0"), kept for the next tree: the sites of a fleet name
 * the same files and folders, so a few hundred heads serve thousands of trees.
 */
const heads = new Map<string, Buffer>();
const MAX_HEADS = 4096;

function entryHead(mode: string, name: string): Buffer {
  const key = mode === FOLDER_MODE ? `${name}/` : name;
  let head = heads.get(key);
  if (!head) {
    head = Buffer.from(`${mode} ${name}\0`, 'utf8');
    if (heads.size < MAX_HEADS) heads.set(key, head);
  }
  return head;
}

/** 40 lowercase hex digits, checked without a regular expression: a fleet's records name hundreds of thousands. */
export function isHexId(id: string): boolean {
  if (id.length !== 40) return false;
  for (let i = 0; i < 40; i++) {
    const c = id.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
