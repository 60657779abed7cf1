/** Runs ncr's client commands in this process (as src/cli/main.ts wires them), capturing stdout and stderr. */
import { Command } from 'commander';
import { cacheCommands } from '../../src/cli/cache.commands.js';
import { clientCommands } from '../../src/cli/client.js';
import { policyCommands } from '../../src/cli/policies.commands.js';
import { replicationCommands } from '../../src/cli/replication.commands.js';
import { trustCommands } from '../../src/cli/trust.commands.js';
import { scanCommands } from '../../src/cli/scan.commands.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The exit code a command sets is returned; an error is exit code 1 with `ncr: MESSAGE` on stderr, as main.ts prints it. */
export async function runCli(args: string[], env: Record<string, string>, cwd?: string): Promise<CliResult> {
  const program = new Command().exitOverride();
  clientCommands(program);
  cacheCommands(program);
  policyCommands(program);
  replicationCommands(program);
  trustCommands(program);
  scanCommands(program);
  let stdout = '';
  let stderr = '';
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  const savedEnv = { ...process.env };
  const savedCwd = process.cwd();
  Object.assign(process.env, env);
  if (cwd) process.chdir(cwd);
  process.exitCode = undefined;
  process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'ncr', ...args]);
    // a command that reports a failure without throwing sets the exit code, as `ncr` would exit with it
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } catch (err) {
    return { code: 1, stdout, stderr: `${stderr}ncr: ${(err as Error).message}\n` };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    process.env = savedEnv;
    if (cwd) process.chdir(savedCwd);
    process.exitCode = undefined;
  }
}
