/** `tessera serve`: run the server until SIGINT/SIGTERM. */
import cluster from 'node:cluster';
import { Command } from 'commander';
import { serverConfig, type ServeDefaults, type ServeFlags, type ServerConfig } from '../server-config.ts';
import { startServer } from '../server.ts';
import { startCluster, startWorker, type ClusterStarted } from '../cluster.ts';

/** One server process or a cluster of them: what the banner and shutdown need. */
type Started = Pick<ClusterStarted, 'zmsUrl' | 'ztsUrl' | 'caCertPath' | 'store' | 'bootstrap' | 'stop'>;

export function serveCommand(defaults: ServeDefaults = {}): Command {
  return new Command('serve')
    .description('run ZMS (and ZTS) on the embedded SQLite store or PostgreSQL')
    .option('--data-dir <dir>', 'where keys, certificates and the SQLite file live (env TESSERA_DATA_DIR)', undefined)
    .option('--db <url>', 'SQLite file path or postgresql://user:pass@host/db (env TESSERA_DB)')
    .option('--host <address>', 'address to listen on (env TESSERA_HOST; default 127.0.0.1)')
    .option('--zms-port <port>', 'ZMS HTTPS port (env TESSERA_ZMS_PORT; default 4443)')
    .option('--zts-port <port>', 'ZTS HTTPS port (env TESSERA_ZTS_PORT; default 8443)')
    .option('--only <service>', 'run only zms or only zts in this process (env TESSERA_ONLY)')
    .option('--workers <n>', 'server processes sharing the ports (env TESSERA_WORKERS; default: the number of cores when started from the build, 1 from sources)')
    .option('--snapshot-poll-ms <ms>', 'how often to read the store\'s change feed; on PostgreSQL a notification reads it at once (env TESSERA_SNAPSHOT_POLL_MS, default 1000)')
    .option('--db-listen <url>', 'PostgreSQL: off, or where to LISTEN for change notifications when --db goes through a pooler in transaction mode (env TESSERA_DB_LISTEN; default --db)')
    .option('--audit-retention-days <days>', 'audit rows older than this are deleted (env TESSERA_AUDIT_RETENTION_DAYS; default 400)')
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
    .option('--aws-iam-endpoint <url>', 'IAM endpoint, e.g. aws-sim\'s URL (env TESSERA_AWS_IAM_ENDPOINT or AWS_ENDPOINT_URL_IAM)')
    .option('--aws-oidc-endpoint <url>', 'development: fetch OIDC issuer documents at <url>/<issuer host and path>, e.g. aws-sim\'s URL + /oidc (env TESSERA_AWS_OIDC_ENDPOINT)')
    .option('--attestation-methods <spec>', 'methods each AWS provider accepts, e.g. "aws=eks-token,aws-token,sts;aws-ecs=aws-token" (env TESSERA_ATTESTATION_METHODS; default all)')
    .option('--attestation-audience <aud>', 'the audience ZTS requires of identity tokens (env TESSERA_ATTESTATION_AUDIENCE; default the ZTS URL)')
    .option('--aws-oidc-reader-role <name>', 'role ZTS assumes in a domain account to list its IAM OIDC providers (env TESSERA_AWS_OIDC_READER_ROLE; default oidc-issuers-reader)')
    .option('--aws-org-allow-list <ids>', 'comma-separated AWS Organizations whose web identity tokens are accepted (env TESSERA_AWS_ORG_ALLOW_LIST; default any)')
    .option('--aws-document-cert <file>', 'PEM certificate(s) that sign EC2 instance identity documents (env TESSERA_AWS_DOCUMENT_CERT)')
    .option('--ec2-boot-window <seconds>', 'EC2 instances register within this long of boot (env TESSERA_EC2_BOOT_WINDOW; default 1800)')
    .option('--ui-providers <file>', 'JSON list of the identity providers the UI offers: [{"template","label","principal"}] (env TESSERA_UI_PROVIDERS)')
    .option('--refresh-retry-grace <seconds>', 'how long a replaced certificate may still refresh, for clients that lost a response (env TESSERA_REFRESH_RETRY_GRACE; default 0)')
    .option('--crl-url <url>', 'public URL of ZTS\'s CRL (https://<zts-host>:8443/zts/v1/crl), written into certificates as their CRL distribution point (env TESSERA_CRL_URL)')
    .option('--token-issuer <url>', 'iss of access and ID tokens, ZTS\'s public URL (env TESSERA_TOKEN_ISSUER; default the URL ZTS listens on)')
    .option('--token-keys-dir <dir>', 'token signing keys: current.key.pem signs, other *.key.pem stay published (env TESSERA_TOKEN_KEYS_DIR; default <data-dir>/token-keys)')
    .option('--cert-allowed-o <values>', 'subject O values certificates may carry, separated by | (env TESSERA_CERT_ALLOWED_O; default none)')
    .option('--authorized-services <list>', 'comma-separated services that may carry users\' tokens, e.g. athenz.ui-server for the Athenz UI (env TESSERA_AUTHORIZED_SERVICES; default none)')
    .option('--zts-principal-tokens <true|false>', 'whether ZTS accepts ZMS user tokens (Athenz-Principal-Auth) besides client certificates, as Athenz\'s ZTS (env TESSERA_ZTS_PRINCIPAL_TOKENS; default true)')
    .option('--cors-origins <list>', 'comma-separated web origins that may get a user token from a browser, e.g. https://localhost:3000 (env TESSERA_CORS_ORIGINS; default none)')
    .action(async (flags: ServeFlags) => {
      const config = serverConfig(flags, process.env, defaults);
      if (config.workers > 1 && cluster.isWorker) {
        const server = await startWorker(config);
        const stop = async () => {
          await server.close();
          process.exit(0);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        return;
      }
      const server: Started = await (config.workers > 1
        ? startCluster(config, (line) => process.stderr.write(`tessera: ${line}\n`))
        : startServer(config).then((s) => ({ ...s, store: s.store.location, stop: () => s.close() }))
      ).catch((e: NodeJS.ErrnoException & { port?: number }) => {
        throw e.code === 'EADDRINUSE' ? new Error(busyPortMessage(config, e.port)) : e;
      });
      const stop = async () => {
        await server.stop();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      process.stdout.write(startupSummary(config, server));
    });
}

/** Names the flag and the variable that move the port that is taken. */
export function busyPortMessage(config: ServerConfig, port: number | undefined, command: 'serve' | 'demo' = 'serve'): string {
  const which = port === config.ztsPort && port !== config.zmsPort ? 'zts' : 'zms';
  const busy = `port ${port ?? config[`${which}Port`]} on ${config.host} is in use (another tessera serve or demo?)`;
  // The demo's port flags always reach the server, so its environment variables would not help.
  return command === 'demo'
    ? `${busy}: choose another with --${which}-port (npm run demo -- --${which}-port <port>; the other is --${which === 'zms' ? 'zts' : 'zms'}-port)`
    : `${busy}: choose another with --${which}-port or TESSERA_${which.toUpperCase()}_PORT`;
}

/** What a person needs after `serve` starts: where everything is and how to log in. */
export function startupSummary(config: ServerConfig, server: Started): string {
  const password = server.bootstrap.generatedAdminPassword
    ? `${server.bootstrap.generatedAdminPassword}  (generated now and shown only once; only its hash is stored)`
    : config.adminPassword
      ? 'the one in TESSERA_ADMIN_PASSWORD when this data dir was first started (the variable is read on first start only)'
      : 'the one set or printed when this data dir was first started (TESSERA_ADMIN_PASSWORD on first start chooses it)';
  const ui = server.zmsUrl ? new URL('/', server.zmsUrl).href : '';
  const lines = [
    '',
    'Tessera is running. Ctrl-C stops it; use another terminal, from the same directory, for the commands that follow.',
    `  ZMS API   ${server.zmsUrl || '(not run here)'}`,
    `  ZTS API   ${server.ztsUrl || '(not run here)'}`,
    ...(ui ? [`  Web UI    ${ui}  (the browser warns about the certificate: it is signed by the CA below, not a public one)`] : []),
    `  Data dir  ${config.dataDir}`,
    `  Store     ${server.store}`,
    ...(config.workers > 1 ? [`  Workers   ${config.workers}`] : []),
    `  CA file   ${server.caCertPath}  (zms-cli -c / ZMS_CA, siad -ztscacert)`,
    `  Log in    user admin, password: ${password}`,
    '  Ports     --zms-port / TESSERA_ZMS_PORT and --zts-port / TESSERA_ZTS_PORT',
    '',
  ];
  return lines.join('\n') + '\n';
}
