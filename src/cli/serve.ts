/** `ncr serve`: validate configuration, build the app, listen, print first-start credentials once, shut down gracefully. */
import type { Command } from 'commander';
import { buildApp, type Bootstrap } from '../app.js';
import { ConfigError, loadConfig } from '../config/index.js';

export function serveCommand(program: Command) {
  program
    .command('serve')
    .description('start the registry (OCI /v2, token service, /api/v1, /metrics)')
    .option('--host <host>', 'address to listen on (env NCR_HOST; default 0.0.0.0)')
    .option('--port <port>', 'port to listen on (env NCR_PORT; default 5000)')
    .option('--data-dir <dir>', 'data directory (env NCR_DATA_DIR; default ./data)')
    .option('--database-url <url>', 'postgres://… for PostgreSQL; default SQLite in the data dir (env NCR_DATABASE_URL)')
    .option('--public-url <url>', 'URL clients reach ncr at (env NCR_PUBLIC_URL)')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS (env NCR_TLS_CERT)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert (env NCR_TLS_KEY)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env NCR_LOG_LEVEL)')
    .option('--config <file>', 'YAML configuration file (env NCR_CONFIG)')
    .action(async (opts: Record<string, string | undefined>) => {
      let config;
      try {
        config = loadConfig({
          file: opts.config,
          overrides: {
            host: opts.host,
            port: opts.port,
            dataDir: opts.dataDir,
            databaseUrl: opts.databaseUrl,
            publicUrl: opts.publicUrl,
            tlsCert: opts.tlsCert,
            tlsKey: opts.tlsKey,
            logLevel: opts.logLevel,
          },
        });
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`ncr: ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      const app = await buildApp(config);
      let url: string;
      try {
        url = await app.listen();
      } catch (err) {
        // The first admin exists now: show its credentials even though this start failed, or they are lost.
        if (app.bootstrap) printBootstrap(app.bootstrap, config.publicUrl ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`);
        await app.close();
        process.stderr.write(`ncr: cannot listen on ${config.host}:${config.port}: ${(err as Error).message}\n`);
        process.exit(1);
      }
      const shown = config.publicUrl ?? url.replace('0.0.0.0', '127.0.0.1');
      process.stdout.write(`ncr ${config.databaseUrl?.startsWith('postgres') ? 'on PostgreSQL' : 'on SQLite'}, data in ${config.dataDir}\n`);
      process.stdout.write(`listening on ${url}\n  web console: ${shown}/\n  API docs:    ${shown}/api/v1/docs\n`);
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
    });
}

/** The first-start credentials, printed once to standard output (never to the log). */
function printBootstrap(b: Bootstrap, shown: string) {
  const host = new URL(shown).host;
  const lines = [
    '',
    '  First start: created the admin user and an access key.',
    ...(b.generated.password || b.generated.key ? ['  These secrets are shown only now. Store them safely.'] : []),
    `    username:    ${b.username}`,
    `    password:    ${b.generated.password ? b.password : '(the one given in NCR_ADMIN_PASSWORD)'}`,
    `    access key:  ${b.accessKey}`,
    `    secret key:  ${b.generated.key ? b.secretKey : '(the one given in NCR_ADMIN_SECRET_KEY)'}`,
    '',
    `  Console: open ${shown}/ and sign in as ${b.username} with that password.`,
    `  Log in:  podman login --tls-verify=false ${host}   (username = access key, password = secret key)`,
    `  Create a registry: curl -u ACCESS_KEY:SECRET_KEY -H 'content-type: application/json' -d '{"name":"team"}' ${shown}/api/v1/registries`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
