/**
 * Flusher: every fd flushed before flush() returns, and a failure names the file, whether the
 * fsyncs run one after another here or together in the worker (started ahead or on demand).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Flusher, warmFlusher } from '../../src/output/flush';
import { tempDir } from '../helpers';

function openFiles(n: number): { fds: number[]; paths: string[] } {
  const dir = tempDir('fwgen-flush-');
  const paths = Array.from({ length: n }, (_, i) => path.join(dir, `f${i}`));
  const fds = paths.map((p, i) => {
    const fd = fs.openSync(p, 'w');
    fs.writeFileSync(fd, `file ${i}\n`);
    return fd;
  });
  return { fds, paths };
}

/** An fd never opened: fsync fails with EBADF, which stands for any fsync error (EIO, ENOSPC). */
const NOT_OPEN = 1_000_000;

function withClosed(n: number, bad: number) {
  const files = openFiles(n);
  fs.closeSync(files.fds[bad]!);
  files.fds[bad] = NOT_OPEN;
  return files;
}

function flushAndClose(flusher: Flusher, files: { fds: number[]; paths: string[] }, closed?: number): void {
  try {
    flusher.flush(files.fds, files.paths);
  } finally {
    files.fds.forEach((fd, i) => i !== closed && fs.closeSync(fd));
  }
}

describe.each([
  ['a few files, one after another', 3],
  ['many files, in the worker', 40],
])('%s', (_name, n) => {
  test('every file is flushed and kept', () => {
    const flusher = new Flusher();
    const files = openFiles(n);
    flushAndClose(flusher, files);
    flusher.close();
    files.paths.forEach((p, i) => expect(fs.readFileSync(p, 'utf8')).toBe(`file ${i}\n`));
  });

  test('a failed fsync throws, naming the file', () => {
    const flusher = new Flusher();
    const bad = n - 2;
    const files = withClosed(n, bad);
    expect(() => flushAndClose(flusher, files, bad)).toThrow(expect.objectContaining({ code: 'EBADF', path: files.paths[bad] }));
    flusher.close();
  });
});

describe('with the worker started ahead (warmFlusher)', () => {
  beforeAll(() => warmFlusher());

  test.each([1, 3, 40])('%i files are flushed, and a failure names its file', (n) => {
    const flusher = new Flusher();
    const files = openFiles(n);
    flushAndClose(flusher, files);
    const bad = n - 1;
    const failing = withClosed(n, bad);
    expect(() => flushAndClose(flusher, failing, bad)).toThrow(expect.objectContaining({ code: 'EBADF', path: failing.paths[bad] }));
    flusher.close();
    // close() leaves the shared worker to the next writer.
    const again = openFiles(n);
    flushAndClose(new Flusher(), again);
    again.paths.forEach((p, i) => expect(fs.readFileSync(p, 'utf8')).toBe(`file ${i}\n`));
  });
});

describe('flushes under way together (start, then wait)', () => {
  test('each waits for its own files; a failure in one names its file and leaves the other whole', () => {
    warmFlusher();
    const flusher = new Flusher();
    const first = openFiles(40);
    const bad = 7;
    const failing = withClosed(40, bad);
    const a = flusher.start(first.fds, first.paths);
    const b = flusher.start(failing.fds, failing.paths);
    expect(() => b.wait()).toThrow(expect.objectContaining({ code: 'EBADF', path: failing.paths[bad] }));
    a.wait();
    first.fds.forEach((fd) => fs.closeSync(fd));
    failing.fds.forEach((fd, i) => i !== bad && fs.closeSync(fd));
    flusher.close();
    first.paths.forEach((p, i) => expect(fs.readFileSync(p, 'utf8')).toBe(`file ${i}\n`));
  });
});
