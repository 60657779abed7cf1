/**
 * `ncr serve`: validate configuration, build the app, listen, print first-start credentials once, shut down gracefully.
 * With `--workers N` (N > 1) this process is the primary of N workers that each do the rest (cluster.ts).
 */
import cluster from 'node:cluster';
import { Option, type Command } from 'commander';
import { buildApp, type Bootstrap } from '../app.js';
import { CONFIG_LEAVES, ConfigError, configFromPaths, loadConfig, type Config, type ConfigLeaf } from '../config/index.js';
import { reportListening, runPrimary } from './cluster.js';

/** One flag per configuration field (and its short alias), derived from the schema; secrets are env/file only. */
function configOptions(): { option: Option; leaf: ConfigLeaf }[] {
  const out: { option: Option; leaf: ConfigLeaf }[] = [];
  for (const leaf of CONFIG_LEAVES) {
    if (!leaf.flag) continue;
    const values = leaf.choices ? ` (${leaf.choices.join('|')})` : '';
    out.push({ leaf, option: new Option(`${leaf.flag} <value>`, `${leaf.description}${values} (env ${leaf.env}; default ${leaf.defaultText})`) });
    if (leaf.alias) out.push({ leaf, option: new Option(`${leaf.alias} <value>`, `same as ${leaf.flag}`) });
  }
  return out;
}

export function serveCommand(program: Command) {
  const cmd = program.command('serve').description('start the registry (OCI /v2, token service, /api/v1, /metrics)');
  const options = configOptions();
  for (const { option } of options) cmd.addOption(option);
  cmd
    .option('--config <file>', 'YAML configuration file (env NCR_CONFIG)')
    .action(async (opts: Record<string, string | undefined>) => {
      let config;
      try {
        const values: Record<string, string> = {};
        for (const { option, leaf } of options) {
          const v = opts[option.attributeName()];
          if (v === undefined) continue;
          if (values[leaf.path] !== undefined && values[leaf.path] !== v) throw new ConfigError(`${leaf.flag} and ${leaf.alias} disagree: give one of them`);
          values[leaf.path] = v;
        }
        config = loadConfig({ file: opts.config, overrides: configFromPaths(values), onWarning: (m) => process.stderr.write(`ncr: ${m}\n`) });
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`ncr: ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      const workers = config.server.workers;
      if (workers > 1 && cluster.isPrimary) {
        runPrimary(workers, (url) => printListening(config, url, workers));
        return;
      }
      const app = await buildApp(config);
      let url: string;
      try {
        url = await app.listen();
      } catch (err) {
        // The first admin exists now: show its credentials even though this start failed, or they are lost.
        if (app.bootstrap) printBootstrap(app.bootstrap, config.server.publicUrl ?? `http://${config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host}:${config.server.port}`);
        await app.close();
        process.stderr.write(`ncr: cannot listen on ${config.server.host}:${config.server.port}: ${(err as Error).message}\n`);
        process.exit(1);
      }
      const shown = config.server.publicUrl ?? url.replace('0.0.0.0', '127.0.0.1');
      // a worker leaves the banner to the primary, which prints it once every worker listens
      if (cluster.isWorker) reportListening(url);
      else printListening(config, url, 1);
      if (app.bootstrap) printBootstrap(app.bootstrap, shown);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        app.fastify.log.info({ signal }, 'shutting down: finishing requests in flight');
        const force = setTimeout(() => process.exit(1), 30_000);
        force.unref();
        await app.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
      // a worker whose primary is gone (killed) stops too, rather than serve on unsupervised
      if (cluster.isWorker) process.on('disconnect', () => void stop('primary gone'));
    });
}

function printListening(config: Config, url: string, workers: number) {
  const shown = config.server.publicUrl ?? url.replace('0.0.0.0', '127.0.0.1');
  const procs = workers > 1 ? `, ${workers} worker processes` : '';
  process.stdout.write(`ncr ${config.database.url?.startsWith('postgres') ? 'on PostgreSQL' : 'on SQLite'}, data in ${config.dataDir}${procs}\n`);
  process.stdout.write(`listening on ${url}\n  web console: ${shown}/\n  API docs:    ${shown}/api/v1/docs\n`);
}

/** The first-start credentials, printed once to standard output (never to the log). */
function printBootstrap(b: Bootstrap, shown: string) {
  const host = new URL(shown).host;
  const lines = [
    '',
    '  First start: created the admin user and an access key.',
    ...(b.generated.password || b.generated.key ? ['  These secrets are shown only now. Store them safely.'] : []),
    `    username:    ${b.username}`,
    `    password:    ${b.generated.password ? b.password : '(the one given in NCR_AUTH_ADMIN_PASSWORD)'}`,
    `    access key:  ${b.accessKey}`,
    `    secret key:  ${b.generated.key ? b.secretKey : '(the one given in NCR_AUTH_ADMIN_SECRET_KEY)'}`,
    '',
    `  Console: open ${shown}/ and sign in as ${b.username} with that password.`,
    `  Log in:  podman login --tls-verify=false ${host}   (username = access key, password = secret key)`,
    `  Create a registry: curl -u ACCESS_KEY:SECRET_KEY -H 'content-type: application/json' -d '{"name":"team"}' ${shown}/api/v1/registries`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
