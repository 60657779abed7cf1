#!/usr/bin/env node
// Entry for `npx ncr`: runs the compiled CLI (built by `npm run build`, part of the README's install step).
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    console.error('ncr is not built yet: run `npm run build` first (the README quick start does this).');
    process.exit(1);
  }
  throw err;
});
