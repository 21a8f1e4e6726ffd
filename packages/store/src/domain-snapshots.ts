/**
 * An in-memory copy of every domain, so that access decisions (ZMS access
 * checks, ZTS launch and role checks) never query the store.
 *
 * It follows the store's change feed (change-feed.ts, migration 007): each
 * poll reads the names of the domains changed since the last one — what
 * changed, whatever the number of domains — and reloads just those; a name
 * whose domain is gone is a delete. The feed cannot skip a commit, however
 * late it lands. A full pass over every (name, modified) runs at start and
 * then rarely, and whenever the feed may have been pruned past this reader
 * (no successful poll for a full-pass interval).
 *
 * Writers in this process call refresh(domain) after committing, so they read
 * their own writes; other processes and replicas catch up at their next poll,
 * which a PostgreSQL notification starts at once (server.ts), the timer being
 * the backstop. `version` grows on every change, for answers cached per snapshot.
 *
 * Each domain is held as its summary and the JSON text the database built of
 * its roles, policies and services (domain-data.ts); get() builds the object
 * graph of the domains asked for and keeps the recently used ones, so the
 * domains a process decides on stay a Map lookup away and 100k domains cost
 * 100k strings.
 */
import type { Kysely } from 'kysely';
import type { DomainData } from '@tessera/core/model';
import type { Database } from './schema.ts';
import type { Dialect } from './dialect.ts';
import { loadDomainEntries, materialize, type DomainEntry, type DomainSummary } from './domain-data.ts';
import { changeFeed, type ChangeFeed } from './change-feed.ts';

/** Domains loaded per query batch on a full pass (bounds the memory peak while loading). */
const LOAD_BATCH = 2000;
/** Batches read at once on a full pass (PostgreSQL: that many pool connections; SQLite runs them in turn). */
const LOAD_CONNECTIONS = 2;

export interface DomainSnapshotsOptions {
  /** How often to read the change feed (default 1 s). */
  pollIntervalMs?: number;
  /** How often the full pass runs (default 10 minutes; keep it well under the change log's retention). */
  fullPassIntervalMs?: number;
  /** Built domains kept per generation (default 4096): the recently used ones, at most twice this many. */
  keepBuilt?: number;
  /** Told about poll failures; the last good snapshot keeps serving meanwhile. */
  onError?: (e: unknown) => void;
}

const EPOCH = '1970-01-01T00:00:00.000Z';
/** Changes kept for modifiedSince(); older ones are dropped half at a time. */
const CHANGE_LOG_MAX = 8192;

export class DomainSnapshots {
  private domains = new Map<string, DomainEntry>();
  /**
   * Domains built by get(), in two generations: a hit in the older one moves the domain to
   * the newer; when the newer is full it becomes the older and the oldest are dropped.
   */
  private built = new Map<string, DomainData>();
  private builtBefore = new Map<string, DomainData>();
  private readonly dialect: Dialect;
  private sortedNames: string[] | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The last queued pass; every pass starts after the one before has ended. */
  private tail: Promise<void> = Promise.resolve();
  private pendingPoll: Promise<void> | undefined;
  /** The newest `modified` seen in the store (a store time, not this clock). */
  private newestModified = EPOCH;
  private readonly feed: ChangeFeed;
  private readonly db: Kysely<Database>;
  private lastFullPass = 0;
  private changes = 0;
  /**
   * Domains reloaded after the first load, in arrival order: every domain modified after
   * `changeLogFrom` is in it. `newest` is the newest `modified` up to and including each entry:
   * it never decreases along the log, so a binary search finds where changes after a time begin
   * (arrival order is only nearly time order, as commits land a little after their stamps).
   */
  private changeLog: { name: string; modified: string; newest: string }[] = [];
  private changeLogFrom = EPOCH;
  /** When the snapshot last matched the store (for the snapshot-age metric). */
  lastSync: Date | undefined;

  constructor(
    store: { db: Kysely<Database>; dialect: Dialect },
    private readonly options: DomainSnapshotsOptions = {},
  ) {
    this.db = store.db;
    this.dialect = store.dialect;
    this.feed = changeFeed(store.db, store.dialect);
  }

  /** Grows by at least one on every change to any domain (0 before the first load). */
  get version(): number {
    return this.changes;
  }

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
    let data = this.built.get(name);
    if (data) return data;
    data = this.builtBefore.get(name);
    if (!data) {
      const entry = this.domains.get(name);
      if (!entry) return undefined;
      data = materialize(entry);
    }
    if (this.built.size >= (this.options.keepBuilt ?? 4096)) {
      this.builtBefore = this.built;
      this.built = new Map();
    }
    this.built.set(name, data);
    return data;
  }

  /** A domain's name, modified time and meta, without building its roles and policies. */
  summary(name: string): DomainSummary | undefined {
    return this.domains.get(name)?.summary;
  }

  /** Every domain's summary, in no particular order. */
  *summaries(): IterableIterator<DomainSummary> {
    for (const entry of this.domains.values()) yield entry.summary;
  }

  /**
   * The domains whose stored roles, policies or services contain `text`
   * (a member's name, say), built: a scan of the stored text finds the few
   * among 100k without building the rest. It may include a domain that only
   * mentions it elsewhere; the caller checks.
   */
  mentioning(text: string): DomainData[] {
    const found: DomainData[] = [];
    const asStored = JSON.stringify(text).slice(1, -1); // as it appears inside a JSON string
    for (const [name, entry] of this.domains) if (entry.body.includes(asStored)) found.push(this.get(name)!);
    return found;
  }

  /**
   * The domains modified after `since`, from the log of changes (a poll of
   * ZTS finds a few among 100k), or undefined when the log does not reach
   * back that far: then look at every domain.
   */
  modifiedSince(since: string): DomainSummary[] | undefined {
    if (since < this.changeLogFrom) return undefined;
    const log = this.changeLog;
    // The first entry whose `newest` is after `since`: every entry before it is not.
    let lo = 0;
    for (let hi = log.length; lo < hi; ) {
      const mid = (lo + hi) >>> 1;
      if (log[mid].newest > since) hi = mid;
      else lo = mid + 1;
    }
    const names = new Set<string>();
    for (let i = lo; i < log.length; i++) if (log[i].modified > since) names.add(log[i].name);
    const found: DomainSummary[] = [];
    for (const name of names) {
      const d = this.domains.get(name)?.summary;
      if (d && d.modified > since) found.push(d);
    }
    return found;
  }

  /** Every domain name, sorted (computed once per set of names and shared: do not modify it). */
  names(): string[] {
    this.sortedNames ??= [...this.domains.keys()].sort();
    return this.sortedNames;
  }

  /**
   * Brings the snapshot up to date with the store. With a domain name (a
   * writer in this process, just after its commit), reloads only that domain.
   * Passes run one at a time; calls made while a poll waits to start share it.
   */
  refresh(domain?: string): Promise<void> {
    if (domain !== undefined) return this.enqueue(() => this.reload([{ name: domain }]));
    this.pendingPoll ??= this.enqueue(async () => {
      // From here on a new call needs a new pass: this one may have read the store already.
      this.pendingPoll = undefined;
      const fullDue = this.lastFullPass === 0 || Date.now() - this.lastFullPass >= (this.options.fullPassIntervalMs ?? 600_000);
      await (fullDue ? this.fullPass() : this.poll());
      // After the first load, every later change goes through reload() and into the log.
      if (!this.lastSync) this.changeLogFrom = this.newestModified;
      this.lastSync = new Date();
    });
    return this.pendingPoll;
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.tail.then(task);
    this.tail = run.catch(() => {});
    return run;
  }

  private async poll(): Promise<void> {
    const names = await this.feed.read();
    await this.reload(names.map((name) => ({ name })));
  }

  /** Reads every (name, modified): reloads what differs, drops what is gone. */
  private async fullPass(): Promise<void> {
    const startedAt = Date.now();
    // The feed's cursor first: whatever commits after it is read from the feed later.
    await this.feed.mark();
    const rows = await this.db.selectFrom('domains').select(['name', 'modified']).execute();
    // Passes run one at a time, so whatever the snapshot holds was committed before this list was read.
    const present = new Set(rows.map((r) => r.name));
    for (const name of this.domains.keys()) {
      if (!present.has(name) && this.remove(name)) this.changed();
    }
    await this.reload(rows);
    this.lastFullPass = startedAt;
  }

  /**
   * Reloads the domains whose `modified` differs from the snapshot's (or is
   * not given), in batches; drops those that no longer exist.
   */
  private async reload(rows: { name: string; modified?: string }[]): Promise<void> {
    const stale: string[] = [];
    for (const r of rows) {
      if (r.modified === undefined) stale.push(r.name);
      else {
        if (r.modified > this.newestModified) this.newestModified = r.modified;
        if (this.domains.get(r.name)?.summary.modified !== r.modified) stale.push(r.name);
      }
    }
    // Most of the store (the first load): read it in name ranges, in the tables' key order.
    const dense = stale.length > LOAD_BATCH && stale.length * 2 > this.domains.size;
    if (dense) stale.sort();
    const batches: string[][] = [];
    for (let i = 0; i < stale.length; i += LOAD_BATCH) batches.push(stale.slice(i, i + LOAD_BATCH));
    // Batches are read on LOAD_CONNECTIONS connections at once, so that this process's work on one
    // overlaps the database's on the next. Each batch is applied when it arrives (they hold
    // different domains); every read starts after the feed's mark, as one at a time did.
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (!failed && next < batches.length) {
        const names = batches[next++];
        try {
          this.apply(names, await loadDomainEntries(this.db, this.dialect, dense ? { from: names[0], to: names[names.length - 1] } : names));
        } catch (e) {
          failed = true; // the other reader stops after its batch: the pass ends only when both have
          throw e;
        }
      }
    };
    const done = await Promise.allSettled(Array.from({ length: Math.min(LOAD_CONNECTIONS, batches.length) }, worker));
    for (const d of done) if (d.status === 'rejected') throw d.reason;
  }

  /** Puts the domains of one batch read into the snapshot; a name not read is gone. */
  private apply(names: string[], fresh: Map<string, DomainEntry>): void {
    for (const name of names) {
      const entry = fresh.get(name);
      if (entry) {
        // A changed domain keeps its place in the sorted names; only a new one reorders them.
        if (!this.domains.has(name)) this.sortedNames = undefined;
        this.remove(name);
        this.domains.set(name, entry);
        this.changes++;
        if (this.lastSync) this.logChange(name, entry.summary.modified);
      } else if (this.remove(name)) {
        this.changed();
      }
    }
  }

  private logChange(name: string, modified: string): void {
    if (this.changeLog.length >= CHANGE_LOG_MAX) {
      const dropped = this.changeLog.splice(0, CHANGE_LOG_MAX / 2);
      for (const c of dropped) if (c.modified > this.changeLogFrom) this.changeLogFrom = c.modified;
    }
    const before = this.changeLog.at(-1)?.newest ?? modified;
    this.changeLog.push({ name, modified, newest: before > modified ? before : modified });
  }

  /** Drops a domain and what was built of it; true if it was there. */
  private remove(name: string): boolean {
    this.built.delete(name);
    this.builtBefore.delete(name);
    return this.domains.delete(name);
  }

  /** A domain was removed. */
  private changed(): void {
    this.changes++;
    this.sortedNames = undefined;
  }
}
