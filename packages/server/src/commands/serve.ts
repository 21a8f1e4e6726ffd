/** `tessera serve`: run the server until SIGINT/SIGTERM. */
import { Command } from 'commander';
import { serverConfig, type ServeFlags } from '../server-config.ts';
import { startServer } from '../server.ts';

export function serveCommand(): Command {
  return new Command('serve')
    .description('run ZMS (and ZTS) on the embedded SQLite store or PostgreSQL')
    .option('--data-dir <dir>', 'where keys, certificates and the SQLite file live (env TESSERA_DATA_DIR)', undefined)
    .option('--db <url>', 'SQLite file path or postgresql://user:pass@host/db (env TESSERA_DB)')
    .option('--host <address>', 'address to listen on (env TESSERA_HOST; default 127.0.0.1)')
    .option('--zms-port <port>', 'ZMS HTTPS port (env TESSERA_ZMS_PORT; default 4443)')
    .option('--zts-port <port>', 'ZTS HTTPS port (env TESSERA_ZTS_PORT; default 8443)')
    .option('--only <service>', 'run only zms or only zts in this process (env TESSERA_ONLY)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace (env TESSERA_LOG_LEVEL; default info)')
    .option('--log-format <format>', 'json or pretty (env TESSERA_LOG_FORMAT; default pretty on a terminal, json otherwise)')
    .option('--log-file <file>', 'append the log to this file instead of stdout (env TESSERA_LOG_FILE)')
    .option('--aws-regions <list>', 'comma-separated AWS regions with a provider athenz.aws.<region> (env TESSERA_AWS_REGIONS)')
    .option('--aws-dns-suffix <suffix>', 'DNS suffix for AWS instance certificates (env TESSERA_AWS_DNS_SUFFIX; default aws.athenz.cloud)')
    .option('--ca-key-alg <alg>', 'ec (P-256) or rsa (2048) for a CA created on first start (env TESSERA_CA_KEY_ALG; default ec)')
    .option('--ca-cert <file>', 'use this CA certificate (PEM) instead of creating one (env TESSERA_CA_CERT)')
    .option('--ca-key <file>', 'the key of --ca-cert (env TESSERA_CA_KEY)')
    .option('--server-names <list>', 'more DNS names for the server certificate, e.g. a Kubernetes Service name (env TESSERA_SERVER_NAMES)')
    .option('--aws-region <region>', 'region of the STS client ZTS uses to check AWS credentials (env TESSERA_AWS_REGION; default us-west-2)')
    .option('--aws-sts-endpoint <url>', 'STS endpoint, e.g. aws-sim\'s URL (env TESSERA_AWS_STS_ENDPOINT or AWS_ENDPOINT_URL_STS)')
    .option('--aws-document-cert <file>', 'PEM certificate(s) that sign EC2 instance identity documents (env TESSERA_AWS_DOCUMENT_CERT)')
    .option('--ec2-boot-window <seconds>', 'EC2 instances register within this long of boot (env TESSERA_EC2_BOOT_WINDOW; default 1800)')
    .option('--ui-providers <file>', 'JSON list of the identity providers the UI offers: [{"template","label","principal"}] (env TESSERA_UI_PROVIDERS)')
    .option('--refresh-retry-grace <seconds>', 'how long a replaced certificate may still refresh, for clients that lost a response (env TESSERA_REFRESH_RETRY_GRACE; default 0)')
    .action(async (flags: ServeFlags) => {
      const server = await startServer(serverConfig(flags, process.env));
      const stop = async () => {
        await server.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      if (server.bootstrap.generatedAdminPassword) {
        // Printed once, on first start; only its scrypt hash is stored.
        process.stdout.write(
          `\nSystem administrator created: user.admin\nPassword (shown only now): ${server.bootstrap.generatedAdminPassword}\n` +
            `Set TESSERA_ADMIN_PASSWORD before the first start to choose it yourself.\n\n`,
        );
      }
      process.stdout.write(`ZMS: ${server.zmsUrl || '(not run here)'}\n${server.zmsUrl ? `Web UI: ${new URL('/', server.zmsUrl).href}\n` : ''}ZTS: ${server.ztsUrl || '(not run here)'}\nCA certificate: ${server.caCertPath}\nStore: ${server.store.location}\n`);
    });
}
