/**
 * The CA's revocation list as ZTS serves it (GET /crl), and the revoked
 * serials ZTS itself refuses for token requests.
 *
 * The CRL is read from the store, so every replica lists every revocation.
 * It is regenerated when the revocations change (a cheap count/latest query
 * per request) or when it is half an hour old, so `nextUpdate` (one hour
 * after `thisUpdate`) is never in the past. The CRL number is `thisUpdate`
 * in seconds: it grows with each CRL on every replica without coordination.
 */
import type { Kysely } from 'kysely';
import type { Database } from '@tessera/store/schema';
import { listRevocations, revocationsVersion } from '@tessera/store/revoked-certificates';
import type { RevocationReason } from '@tessera/core/x509/crl';
import { serialKey } from '@tessera/core/x509/serial';
import type { CertSigner } from '../signer.ts';

export const CRL_VALIDITY_MS = 60 * 60_000;
const REGENERATE_AFTER_MS = 30 * 60_000;
/** How often the in-memory set of revoked serials is reread from the store (other replicas' revocations; on PostgreSQL a notification rereads it at once). */
const SERIALS_REFRESH_MS = 15_000;

export interface PublishedCrl {
  der: Buffer;
  thisUpdate: Date;
  nextUpdate: Date;
}

export class RevocationList {
  private readonly db: Kysely<Database>;
  private readonly signer: CertSigner;
  private readonly now: () => Date;
  private cached?: { version: string; crl: PublishedCrl };
  private building?: Promise<PublishedCrl>;
  private lastNumber = 0n;
  private serials = new Set<string>();
  /** Reads of the serials started and the newest one applied: an older read that finishes late must not win. */
  private reads = 0;
  private applied = 0;
  private timer?: NodeJS.Timeout;
  private onError: (e: Error) => void = () => {};
  /** A reread is running; `again`: another was asked for meanwhile. */
  private rereading = false;
  private again = false;

  constructor(a: { db: Kysely<Database>; signer: CertSigner; now: () => Date }) {
    this.db = a.db;
    this.signer = a.signer;
    this.now = a.now;
  }

  /**
   * Loads the revoked serials and keeps them fresh until stop(): every
   * `checkMs` a cheap look at whether the list changed (a count and the newest
   * time) rereads it when it did, and a full reread runs every 15 s regardless.
   */
  async start(onError: (e: Error) => void, checkMs = SERIALS_REFRESH_MS): Promise<void> {
    this.onError = onError;
    await this.reloadSerials();
    let seen = await revocationsVersion(this.db);
    let lastFull = Date.now();
    this.timer = setInterval(() => {
      void (async () => {
        const version = await revocationsVersion(this.db);
        if (version === seen && Date.now() - lastFull < SERIALS_REFRESH_MS) return;
        await this.reloadSerials();
        seen = version;
        lastFull = Date.now();
      })().catch(onError);
    }, Math.min(checkMs, SERIALS_REFRESH_MS));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  isRevoked(serialHex: string): boolean {
    return this.serials.has(serialKey(serialHex));
  }

  /**
   * Rereads the serials without waiting (a replica's revocation was notified);
   * requests during a reread share one more after it.
   */
  changed(): void {
    if (this.rereading) {
      this.again = true;
      return;
    }
    this.rereading = true;
    void (async () => {
      do {
        this.again = false;
        await this.reloadSerials().catch(this.onError);
      } while (this.again);
      this.rereading = false;
    })();
  }

  /** Rereads the revoked serials (ZTS calls it after revoking, so its own revocations count at once). */
  async reloadSerials(): Promise<Awaited<ReturnType<typeof listRevocations>>> {
    const read = ++this.reads;
    const rows = await listRevocations(this.db, this.now());
    if (read > this.applied) {
      this.applied = read;
      this.serials = new Set(rows.map((r) => serialKey(r.serial)));
    }
    return rows;
  }

  /** The current CRL, regenerated when the revocations changed or it is getting old. */
  async current(): Promise<PublishedCrl> {
    const version = await revocationsVersion(this.db);
    const c = this.cached;
    if (c && c.version === version && this.now().getTime() - c.crl.thisUpdate.getTime() < REGENERATE_AFTER_MS) return c.crl;
    // Concurrent requests share one generation.
    this.building ??= this.build(version).finally(() => {
      this.building = undefined;
    });
    return this.building;
  }

  private async build(version: string): Promise<PublishedCrl> {
    const now = this.now();
    const rows = await this.reloadSerials();
    const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const nextUpdate = new Date(thisUpdate.getTime() + CRL_VALIDITY_MS);
    // Never repeat a number, even for two CRLs within the same second.
    let crlNumber = BigInt(thisUpdate.getTime() / 1000);
    if (crlNumber <= this.lastNumber) crlNumber = this.lastNumber + 1n;
    this.lastNumber = crlNumber;
    const der = await this.signer.signCrl({
      entries: rows.map((r) => ({ serialHex: r.serial, revoked: new Date(r.revoked_time), reason: r.reason as RevocationReason })),
      thisUpdate,
      nextUpdate,
      crlNumber,
    });
    const crl = { der, thisUpdate, nextUpdate };
    this.cached = { version, crl };
    return crl;
  }
}
