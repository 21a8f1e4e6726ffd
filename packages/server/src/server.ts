/**
 * `tessera serve`: ZMS, ZTS and the UI in one process on one store, with
 * logs, metrics and health endpoints on both ports. Everything is passed in;
 * nothing is global.
 */
import { constants } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { openStore, type Store } from '@tessera/store/open-store';
import { DomainSnapshots } from '@tessera/store/domain-snapshots';
import type { ZmsContext } from '@tessera/zms/context';
import { bootstrapSystem, type BootstrapResult } from '@tessera/zms/bootstrap';
import { userTokenSigner } from '@tessera/zms/auth/user-tokens';
import { authenticator } from '@tessera/zms/auth/authenticate';
import { serviceKeys } from '@tessera/core/principal-token';
import { httpFrameworkOptions, installErrorHandling } from '@tessera/core/http/api-errors';
import { patternDescription } from '@tessera/zms/http/schemas';
import { isDatabaseUnavailable } from '@tessera/store/unavailable';
import { zmsRoutes } from '@tessera/zms/http/zms-routes';
import { msdWorkloadRoutes } from '@tessera/zms/http/msd-workloads';
import { publishZmsPublicKey } from '@tessera/zms/signed-domains';
import { ztsRoutes } from '@tessera/zts/http/zts-routes';
import { pruneHistory } from '@tessera/store/retention';
import { loadTokenKeys } from '@tessera/zts/tokens/token-keys';
import { uiRoutes } from '@tessera/ui/server/ui-routes';
import { ztsContext } from './zts-context.ts';
import type { ServerConfig } from './server-config.ts';
import { loadOrCreateSigningKey } from './signing-key.ts';
import { loadOrCreateTls, type TlsMaterial } from './tls-material.ts';
import { createLogger, fastifyLogging, logsPrincipal, requestLog } from './logging.ts';
import { metricsRoute, queryObserver, requestMetrics, serverMetrics, stateMetrics, timedStsCheck } from './metrics.ts';
import { certificateAudit, signInAudit } from './audit.ts';
import { healthRoutes, readiness } from './health.ts';

export interface RunningServer {
  /** '' when this process runs ZTS only. */
  zmsUrl: string;
  /** '' when this process runs ZMS only. */
  ztsUrl: string;
  caCertPath: string;
  tls: TlsMaterial;
  store: Store;
  bootstrap: BootstrapResult;
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig, now: () => Date = () => new Date()): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const tls = await loadOrCreateTls(config.dataDir, now(), config.ca);
  const signing = loadOrCreateSigningKey(config.dataDir);
  const apps: FastifyInstance[] = [];
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, file: config.logFile });
  const metrics = serverMetrics(new Registry());
  const store = await openStore(config.db, {
    onConnectionError: (e) => logger.warn({ event: 'db.connection_lost' }, `database connection lost: ${e.message}`),
    onQuery: queryObserver(metrics),
  });
  let revocations: { stop(): void } | undefined;
  let changes: { close(): Promise<void> } | undefined;
  const snapshotFailed = (e: unknown) => logger.warn({ err: e }, 'domain snapshot refresh failed');
  const snapshots = new DomainSnapshots(store, { pollIntervalMs: config.snapshotPollMs, onError: snapshotFailed });
  try {
    await snapshots.start();
    const ready = readiness(store.db, { keyPem: tls.caKeyPem, certPem: tls.caCertPem });
    stateMetrics(metrics.registry, { snapshots, pool: store.poolStats, dbUp: () => ready.dbUp() });
    const ctx: ZmsContext = { db: store.db, dialect: store.dialect, snapshots, config: config.zms, now };
    const bootstrap = await bootstrapSystem(ctx, config.adminPassword);

    const tokens = userTokenSigner(signing.privateKey, signing.publicKey);
    const httpsApp = (service: 'zms' | 'zts') => {
      const app = Fastify({
        ...fastifyLogging(logger, service),
        // Clients may present a certificate; it is checked against our CA, and optional.
        https: {
          key: tls.serverKeyPem, cert: tls.serverCertPem, ca: tls.caCertPem, requestCert: true, rejectUnauthorized: false,
          // installErrorHandling answers a missing Host itself, in Athenz's {code, message} body.
          requireHostHeader: false,
          // Stateful TLS session tickets on ZTS: siad connects anew for each certificate and never resumes,
          // and an encrypted TLS 1.3 ticket (it carries the client certificate) costs ~0.3 ms of CPU per
          // handshake. OpenSSL still sends two per connection, each only a session id.
          ...(service === 'zts' ? { secureOptions: constants.SSL_OP_NO_TICKET } : {}),
        },
        bodyLimit: 1024 * 1024,
        ...httpFrameworkOptions,
      });
      installErrorHandling(app, { describePattern: patternDescription, isOutage: isDatabaseUnavailable });
      // Both ports speak only HTTPS: browsers should never try plain HTTP for this host.
      app.addHook('onRequest', (_req, reply, done) => {
        reply.header('strict-transport-security', 'max-age=31536000');
        done();
      });
      requestLog(app, { tlsPrincipals: service === 'zts' });
      requestMetrics(app, metrics, service);
      // /metrics, /healthz and /readyz on both ports, outside the API prefixes.
      metricsRoute(app, metrics.registry);
      healthRoutes(app, ready);
      apps.push(app);
      return app;
    };

    const signingKey = { keyId: '0', privateKey: signing.privateKey, alg: 'ES256' } as const;
    await publishZmsPublicKey(ctx, signingKey.keyId, signing.publicKey);
    const zms = httpsApp('zms');
    signInAudit(zms, metrics);
    const zmsDeps = { ctx, auth: logsPrincipal(authenticator(tokens, store.db, now, { allowed: config.zms.authorizedServices, keyOf: serviceKeys((d) => snapshots.get(d)) })), tokens, signingKey };
    await zms.register(async (app) => zmsRoutes(app, zmsDeps), { prefix: '/zms/v1' });
    // The MSD reads Athenz's own UI makes for its Instances tab, answered from ZTS's instance records.
    await zms.register(async (app) => msdWorkloadRoutes(app, zmsDeps), { prefix: '/msd/v1' });
    // The web UI at / on the ZMS port: same origin as the API, so the session cookie and CSRF token just work.
    // ZTS's port is known once it listens (0 = any free port): the UI asks for it on each /ui-config.json.
    const listening: { zts?: number } = {};
    await zms.register(uiRoutes, { providers: config.uiProviders, dnsSuffix: config.zms.awsDnsSuffix, ztsPort: () => listening.zts || config.ztsPort });
    const zts = httpsApp('zts');
    certificateAudit(zts, metrics, snapshots);
    const tokenKeys = loadTokenKeys(config.tokenKeysDir);
    const zctx = ztsContext({
      db: store.db, snapshots, ca: { keyPem: tls.caKeyPem, certPem: tls.caCertPem }, config: config.zts, tokenKeys, now,
      wrapSts: (check) => timedStsCheck(check, metrics),
      countAwsCall: (call, reason) => metrics.awsCalls.inc({ call, reason }),
      countSignature: (what) => metrics.caSignatures.inc({ what }),
    });
    revocations = zctx.revocations;
    await zctx.revocations.start((e) => zts.log.warn(`reading revoked certificates failed: ${e.message}`), config.snapshotPollMs);
    // Another replica's commit starts a poll (or a reread of the revoked serials) at once; notifications
    // during a poll share the next one. On (re)connecting both run, for what committed before.
    if (config.dbListen !== 'off') {
      changes = store.listenForChanges?.(
        (what) => (what === 'domains' ? void snapshots.refresh().catch(snapshotFailed) : zctx.revocations.changed()),
        (e) => logger.warn({ event: 'db.listen_lost' }, `listening for changes failed, polling meanwhile: ${e.message}`),
        config.dbListen,
      );
    }
    await zts.register(async (app) => ztsRoutes(app, zctx), { prefix: '/zts/v1' });

    const host = config.host === '0.0.0.0' || config.host === '127.0.0.1' ? 'localhost' : config.host;
    const listen = async (app: FastifyInstance, port: number) => {
      await app.listen({ host: config.host, port });
      const address = app.server.address();
      return typeof address === 'object' && address ? address.port : port;
    };
    // `--only` runs one of them; the other's routes stay unbound (no listener).
    const zmsPort = config.only === 'zts' ? 0 : await listen(zms, config.zmsPort);
    const ztsPort = config.only === 'zms' ? 0 : await listen(zts, config.ztsPort);
    // Tokens name the URL ZTS listens on as their issuer unless the operator gives its public URL.
    config.zts.tokenIssuer ??= `https://${host}:${ztsPort}/zts/v1`;
    listening.zts = ztsPort;

    // Stored history stays bounded: what is past its retention goes at start and then hourly.
    const retention = { certRecordsMs: config.zts.certRecordMaxAgeMins * 60_000, auditMs: config.auditRetentionDays * 86_400_000 };
    const prune = () =>
      pruneHistory(store.db, now(), retention).then(
        (pruned) => {
          if (Object.values(pruned).some((n) => n > 0)) logger.info({ event: 'store.pruned', ...pruned }, 'pruned stored history past its retention');
        },
        (e: Error) => logger.warn({ event: 'store.prune_failed' }, `pruning stored history failed: ${e.message}`),
      );
    let pruning = prune();
    const cleaner = setInterval(() => (pruning = prune()), 3_600_000);
    cleaner.unref();

    return {
      zmsUrl: zmsPort ? `https://${host}:${zmsPort}/zms/v1` : '',
      ztsUrl: ztsPort ? `https://${host}:${ztsPort}/zts/v1` : '',
      caCertPath: tls.caCertPath,
      tls,
      store,
      bootstrap,
      async close() {
        clearInterval(cleaner);
        await pruning;
        revocations?.stop();
        snapshots.stop();
        await changes?.close();
        for (const app of apps) await app.close();
        await store.close();
      },
    };
  } catch (e) {
    revocations?.stop();
    snapshots.stop();
    await changes?.close();
    for (const app of apps) await app.close();
    await store.close();
    throw e;
  }
}
