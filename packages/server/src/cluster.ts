/**
 * `tessera serve --workers N`: N server processes (node:cluster) sharing the
 * ZMS and ZTS ports, so that certificate signing uses every core.
 *
 * The primary does what must happen once before any worker starts — the data
 * directory, CA and TLS material, the signing key, the schema migration and
 * the bootstrap of the system domains — then forks the workers and serves no
 * request itself. Each worker is a whole server on the same store: its own
 * connections, its own domain snapshots following the store by polling. A
 * worker that dies is replaced.
 */
import cluster, { type Worker } from 'node:cluster';
import { mkdirSync } from 'node:fs';
import { openStore } from '@tessera/store/open-store';
import { DomainSnapshots } from '@tessera/store/domain-snapshots';
import { bootstrapSystem, type BootstrapResult } from '@tessera/zms/bootstrap';
import type { ServerConfig } from './server-config.ts';
import { loadOrCreateSigningKey } from './signing-key.ts';
import { loadOrCreateTls } from './tls-material.ts';
import { startServer, type RunningServer } from './server.ts';

/** What a worker tells the primary once it listens. */
export interface WorkerReady {
  type: 'tessera-ready';
  zmsUrl: string;
  ztsUrl: string;
  caCertPath: string;
  store: string;
}

export interface ClusterStarted extends Omit<WorkerReady, 'type'> {
  bootstrap: BootstrapResult;
  stop(): Promise<void>;
}

/** Creates, once, everything the workers would otherwise race to create. */
async function prepare(config: ServerConfig, now: () => Date): Promise<BootstrapResult> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  await loadOrCreateTls(config.dataDir, now(), config.ca);
  loadOrCreateSigningKey(config.dataDir);
  const store = await openStore(config.db);
  try {
    const snapshots = new DomainSnapshots(store);
    await snapshots.refresh();
    return await bootstrapSystem({ db: store.db, dialect: store.dialect, snapshots, config: config.zms, now }, config.adminPassword);
  } finally {
    await store.close();
  }
}

/** In the primary: prepare, fork `config.workers` workers, resolve when all listen. */
export async function startCluster(config: ServerConfig, log: (line: string) => void, now: () => Date = () => new Date()): Promise<ClusterStarted> {
  const bootstrap = await prepare(config, now);
  // Workers accept connections themselves from the shared socket. Node's default
  // on Linux (round-robin) has the primary accept each one and pass it over IPC,
  // which costs both processes CPU on every new connection — and siad connects anew each time.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      log(`worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`);
      setTimeout(() => stopping || fork(), 1000).unref();
    });
    return worker;
  };
  const ready = await new Promise<WorkerReady>((resolve, reject) => {
    let waiting = config.workers;
    for (let i = 0; i < config.workers; i++) {
      const worker = fork();
      const failed = (code: number | null) => reject(new Error(`worker ${worker.process.pid} exited with code ${code} while starting`));
      worker.once('exit', failed);
      worker.on('message', (m: WorkerReady) => {
        if (m?.type !== 'tessera-ready') return;
        worker.off('exit', failed);
        if (--waiting === 0) resolve(m);
      });
    }
  }).catch(async (e) => {
    stopping = true;
    await stopWorkers();
    throw e;
  });
  const { type: _type, ...urls } = ready;
  return {
    ...urls,
    bootstrap,
    async stop() {
      stopping = true;
      await stopWorkers();
    },
  };
}

async function stopWorkers(): Promise<void> {
  const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
    w.once('exit', () => resolve());
    w.process.kill('SIGTERM');
  })));
}

/** In a worker: a whole server; tells the primary when it listens. */
export async function startWorker(config: ServerConfig): Promise<RunningServer> {
  const server = await startServer(config);
  const ready: WorkerReady = {
    type: 'tessera-ready', zmsUrl: server.zmsUrl, ztsUrl: server.ztsUrl, caCertPath: server.caCertPath, store: server.store.location,
  };
  process.send?.(ready);
  return server;
}
