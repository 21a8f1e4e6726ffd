/**
 * The revoked serials ZTS refuses for tokens: a record keeps whole bytes
 * (`0a1f…`) while a TLS peer's serial comes without leading zeros (`A1F…`);
 * both must name the same certificate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '@tessera/store/open-store';
import { recordRevocations } from '@tessera/store/revoked-certificates';
import { RevocationList } from '../src/crl/revocation-list.ts';
import type { CertSigner } from '../src/signer.ts';

test('a serial with a leading zero nibble is revoked however it is written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-revocations-'));
  const store = await openStore(join(dir, 'tessera.db'));
  try {
    const now = new Date();
    await recordRevocations(store.db, [
      { serial: '0a1f2e3d4c5b6a7988776655443322ff', service: 'sports.api', revoked_time: now.toISOString(), reason: 'privilegeWithdrawn', expiry_time: new Date(now.getTime() + 86_400_000).toISOString() },
    ]);
    // Reading the serials needs no signer; the CRL would.
    const list = new RevocationList({ db: store.db, signer: {} as CertSigner, now: () => now });
    await list.reloadSerials();
    assert.equal(list.isRevoked('A1F2E3D4C5B6A7988776655443322FF'), true, 'as Node reports a peer certificate');
    assert.equal(list.isRevoked('0a1f2e3d4c5b6a7988776655443322ff'), true, 'as the record keeps it');
    assert.equal(list.isRevoked('a1f2e3d4c5b6a7988776655443322fe'), false);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
