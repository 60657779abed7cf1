#!/usr/bin/env node
// Entry for `npx ncr`: runs the compiled CLI (built by `npm run build`, part of the README's install step).
// File writes and fsyncs of concurrent pushes run on libuv's pool; its default of 4 threads queues uploads behind
// each other's fsync (measured: push-chunked 1.2x -> 1.7x the peer with 16). Set before anything uses the pool.
process.env.UV_THREADPOOL_SIZE ??= '16';
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    console.error('ncr is not built yet: run `npm run build` first (the README quick start does this).');
    process.exit(1);
  }
  throw err;
});
