/**
 * An in-memory copy of every domain, so that access decisions (ZMS access
 * checks, ZTS launch and role checks) never query the store. It follows the
 * store by polling the cheap (name, modified) list: changed domains are
 * reloaded, deleted ones dropped. Writers in this process call refresh() after
 * committing, so they read their own writes; other replicas catch up within
 * one poll interval.
 */
import type { Kysely } from 'kysely';
import type { DomainData } from '@tessera/core/model';
import type { Database } from './schema.ts';
import { loadDomainData } from './domain-data.ts';

export interface DomainSnapshotsOptions {
  pollIntervalMs?: number;
  /** Told about poll failures; the last good snapshot keeps serving meanwhile. */
  onError?: (e: unknown) => void;
}

export class DomainSnapshots {
  private domains = new Map<string, DomainData>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** When the snapshot last matched the store (for the snapshot-age metric). */
  lastSync: Date | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: DomainSnapshotsOptions = {},
  ) {}

  /** Loads everything and starts polling. */
  async start(): Promise<void> {
    await this.refresh();
    const interval = this.options.pollIntervalMs ?? 1000;
    this.timer = setInterval(() => {
      this.refresh().catch((e) => this.options.onError?.(e));
    }, interval);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  get(name: string): DomainData | undefined {
    return this.domains.get(name);
  }

  names(): string[] {
    return [...this.domains.keys()].sort();
  }

  /** Brings the snapshot up to date with the store. Concurrent calls coalesce. */
  async refresh(): Promise<void> {
    if (this.running) {
      // A change may have committed after the running pass read the list: run once more.
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.syncOnce();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async syncOnce(): Promise<void> {
    const rows = await this.db.selectFrom('domains').select(['name', 'modified']).execute();
    const changed = rows.filter((r) => this.domains.get(r.name)?.modified !== r.modified).map((r) => r.name);
    const fresh = await loadDomainData(this.db, changed);
    const next = new Map<string, DomainData>();
    for (const r of rows) {
      const data = fresh.get(r.name) ?? this.domains.get(r.name);
      if (data) next.set(r.name, data);
    }
    this.domains = next;
    this.lastSync = new Date();
  }
}
