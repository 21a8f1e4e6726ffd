/** What every ZMS operation is given: its dependencies, passed in, never global. */
import type { Kysely } from 'kysely';
import type { Database } from '@tessera/store/schema';
import type { Dialect } from '@tessera/store/dialect';
import type { DomainSnapshots } from '@tessera/store/domain-snapshots';
import type { ZmsConfig } from './config.ts';

export interface ZmsContext {
  db: Kysely<Database>;
  dialect: Dialect;
  snapshots: DomainSnapshots;
  config: ZmsConfig;
  now: () => Date;
}

/** Who is acting, and why (the Y-Audit-Ref header). */
export interface Actor {
  principal: string;
  auditRef?: string;
}
