import * as fs from 'node:fs';
import { Worker } from 'node:worker_threads';

/**
 * fsync for many files at once. Each fsync waits for its own disk flush; issued one after
 * another they cost a flush each (about 3 ms here, per file), while issued together the
 * filesystem commits them in a few shared flushes. Node's synchronous fsync cannot overlap,
 * so a worker issues them concurrently on the libuv pool and this thread waits for it: the
 * caller still sees a plain synchronous call that returns only once every file is on disk,
 * or throws the first error.
 */
const WORKER_SOURCE = `
const fs = require('node:fs');
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ fds, state, error }) => {
  const flag = new Int32Array(state);
  // allSettled: every fsync has finished before the caller may close the fds.
  Promise.allSettled(fds.map((fd, i) => new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(Object.assign(err, { index: i })) : resolve())))))
    .then((results) => {
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    })
    .then(
      () => Atomics.store(flag, 0, 1),
      (err) => {
        const bytes = new TextEncoder().encode(JSON.stringify({ index: err.index, code: err.code, errno: err.errno, message: err.message }));
        new Uint8Array(error).set(bytes.subarray(0, error.byteLength));
        Atomics.store(flag, 1, bytes.length);
        Atomics.store(flag, 0, 2);
      },
    )
    .finally(() => Atomics.notify(flag, 0));
});
`;

/** Below this many files a worker costs more than it saves, unless one was started ahead. */
const SERIAL_BELOW = 16;

/**
 * The fsyncs run on libuv's thread pool, as many at once as it has threads: the CLI's entry
 * sizes it for that (thread-pool.ts).
 */
function startWorker(): Worker {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  worker.unref();
  return worker;
}

/** The worker started ahead by warmFlusher, kept for the life of the process. */
let warm: Worker | undefined;

/**
 * Starts the worker now, so that its start-up (a new V8 isolate: tens of milliseconds, more
 * on a busy machine) runs beside the render instead of delaying the write. For a command
 * that will write files; a process that never flushes only pays for the idle thread.
 */
export function warmFlusher(): void {
  warm ??= startWorker();
}

/** A flush under way: wait() returns once every file of it is on disk, or throws the first error. */
export interface PendingFlush {
  wait(): void;
}

const DONE: PendingFlush = { wait: () => undefined };

export class Flusher {
  private own: Worker | undefined;

  /** Flushes every fd to disk; throws an error naming `paths[i]` for the first that fails. */
  flush(fds: number[], paths: string[]): void {
    this.start(fds, paths).wait();
  }

  /**
   * Starts flushing every fd to disk and returns at once, so that the caller renders on while
   * the disk works; the fds must stay open until wait() has returned (or thrown).
   */
  start(fds: number[], paths: string[]): PendingFlush {
    if (fds.length === 0) return DONE;
    if (!warm && fds.length < SERIAL_BELOW) {
      fds.forEach((fd, i) => {
        try {
          fs.fsyncSync(fd);
        } catch (err) {
          (err as NodeJS.ErrnoException).path = paths[i];
          throw err;
        }
      });
      return DONE;
    }
    const worker = warm ?? (this.own ??= startWorker());
    const state = new SharedArrayBuffer(8);
    const error = new SharedArrayBuffer(4096);
    const flag = new Int32Array(state);
    worker.postMessage({ fds, state, error });
    return {
      wait() {
        while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0);
        if (Atomics.load(flag, 0) === 2) {
          const text = new TextDecoder().decode(new Uint8Array(error).slice(0, Atomics.load(flag, 1)));
          const e = JSON.parse(text) as { index: number; code: string; errno: number; message: string };
          throw Object.assign(new Error(e.message), { code: e.code, errno: e.errno, syscall: 'fsync', path: paths[e.index] });
        }
      },
    };
  }

  close(): void {
    void this.own?.terminate();
    this.own = undefined;
  }
}
