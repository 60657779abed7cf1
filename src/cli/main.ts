/** The `ncr` command: `ncr serve` and client commands over /api/v1. */
import { Command } from 'commander';
import { VERSION } from '../app.js';
import { cacheCommands } from './cache.commands.js';
import { clientCommands } from './client.js';
import { policyCommands } from './policies.commands.js';
import { replicationCommands } from './replication.commands.js';
import { serveCommand } from './serve.js';
import { trustCommands } from './trust.commands.js';
import { scanCommands } from './scan.commands.js';

const program = new Command();
program.name('ncr').description('ncr: a self-hosted OCI container registry').version(VERSION);
serveCommand(program);
clientCommands(program);
cacheCommands(program);
policyCommands(program);
replicationCommands(program);
trustCommands(program);
scanCommands(program);
program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`ncr: ${err.message}\n`);
  process.exit(1);
});
