import * as fs from 'node:fs';

/**
 * The size of libuv's thread pool, where a render's fsyncs run (flush.ts). The pool is one
 * per process, shared by the worker threads, and 4 threads by default; the filesystem commits
 * concurrent fsyncs together, so more of them at once is most of a large fleet's write time
 * (2,000 staged files: 0.5 s with 4 threads, 0.2-0.3 s with 32, on ext4).
 */
export const FSYNC_THREADS = 32;

const VARIABLE = 'UV_THREADPOOL_SIZE';

let started = false;

/**
 * Starts the thread pool now, with FSYNC_THREADS threads unless the user set UV_THREADPOOL_SIZE.
 * libuv reads the variable once, when the first work is queued to the pool: this queues some,
 * so it must run before anything else in the process uses the pool (an asynchronous fs call,
 * a DNS lookup), which is why the CLI's entry calls it first. The variable is set only for
 * that moment: the processes fwgen starts (git) inherit the environment as the user gave it.
 * Returns whether this call started the pool (false when it had been called already).
 */
export function startThreadPool(): boolean {
  if (started) return false;
  started = true;
  const own = process.env[VARIABLE];
  if (own === undefined) process.env[VARIABLE] = String(FSYNC_THREADS);
  try {
    // Queuing the call starts the pool, synchronously, before this returns; its answer does not matter.
    fs.access(__filename, () => undefined);
  } finally {
    if (own === undefined) delete process.env[VARIABLE];
  }
  return true;
}
