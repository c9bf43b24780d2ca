#!/usr/bin/env node
'use strict';
// First of all: libuv sizes its thread pool when it is first used (see thread-pool.ts).
require('../dist/output/thread-pool.js').startThreadPool();
require('../dist/startup/code-cache.js').useCodeCache();
require('../dist/cli.js')
  .run(process.argv.slice(2))
  .then((code) => { process.exitCode = code; });
