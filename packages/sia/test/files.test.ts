/** Writing siad's files: modes, backups, all-or-nothing sets, owners, done files. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CERT_MODE, KEY_MODE, commitFiles, resolveOwner, touchDone } from '../src/files.ts';

const dir = mkdtempSync(join(tmpdir(), 'siad-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const isRoot = process.getuid?.() === 0;

test('new files get their modes whatever the umask, in directories created 0755', () => {
  const base = join(dir, 'new');
  const old = process.umask(0o077);
  try {
    commitFiles([
      { path: join(base, 'keys', 'a.key.pem'), content: 'KEY', mode: KEY_MODE },
      { path: join(base, 'certs', 'a.cert.pem'), content: 'CERT', mode: CERT_MODE },
    ], { backupDir: join(base, 'backup') });
  } finally {
    process.umask(old);
  }
  assert.equal(statSync(join(base, 'keys', 'a.key.pem')).mode & 0o777, 0o440);
  assert.equal(statSync(join(base, 'certs', 'a.cert.pem')).mode & 0o777, 0o444);
  assert.equal(readFileSync(join(base, 'keys', 'a.key.pem'), 'utf8'), 'KEY');
  assert.deepEqual(readdirSync(join(base, 'keys')), ['a.key.pem'], 'no temporary file left behind');
});

test('replacing keeps the previous version in the backup directory, with its mode', () => {
  const base = join(dir, 'replace');
  const key = join(base, 'keys', 'a.key.pem');
  const opts = { backupDir: join(base, 'backup') };
  commitFiles([{ path: key, content: 'v1', mode: KEY_MODE }], opts);
  commitFiles([{ path: key, content: 'v2', mode: KEY_MODE }], opts);
  commitFiles([{ path: key, content: 'v3', mode: KEY_MODE }], opts);
  assert.equal(readFileSync(key, 'utf8'), 'v3');
  assert.equal(readFileSync(join(base, 'backup', 'a.key.pem'), 'utf8'), 'v2');
  assert.equal(statSync(join(base, 'backup', 'a.key.pem')).mode & 0o777, 0o440, 'a backed-up key is as private as the key');
  assert.deepEqual(readdirSync(join(base, 'backup')), ['a.key.pem']);
});

test('a set is written all or nothing: a failure puts back what was already replaced', () => {
  const base = join(dir, 'atomic');
  const key = join(base, 'keys', 'a.key.pem');
  const cert = join(base, 'certs', 'a.cert.pem');
  const opts = { backupDir: join(base, 'backup') };
  commitFiles([{ path: key, content: 'old key', mode: KEY_MODE }, { path: cert, content: 'old cert', mode: CERT_MODE }], opts);
  // The second rename fails (disk full, a read-only mount...) after the key's succeeded.
  let renames = 0;
  const rename = (from: string, to: string) => {
    if (++renames === 2) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    renameSync(from, to);
  };
  assert.throws(() => commitFiles([{ path: key, content: 'new key', mode: KEY_MODE }, { path: cert, content: 'new cert', mode: CERT_MODE }], { ...opts, rename }), /ENOSPC/);
  assert.equal(renames, 2);
  assert.equal(readFileSync(key, 'utf8'), 'old key', 'the key was put back: it still matches its certificate');
  assert.equal(readFileSync(cert, 'utf8'), 'old cert');
  assert.equal(statSync(key).mode & 0o777, 0o440);
  assert.deepEqual(readdirSync(join(base, 'keys')), ['a.key.pem'], 'no temporary files left');
  assert.deepEqual(readdirSync(join(base, 'certs')), ['a.cert.pem']);
});

test('file_direct_update rewrites in place (same inode) with owner write', () => {
  const base = join(dir, 'direct');
  const cert = join(base, 'certs', 'a.cert.pem');
  const opts = { backupDir: join(base, 'backup'), directUpdate: true };
  commitFiles([{ path: cert, content: 'a longer first version', mode: CERT_MODE }], opts);
  const inode = statSync(cert).ino;
  commitFiles([{ path: cert, content: 'v2', mode: CERT_MODE }], opts);
  assert.equal(readFileSync(cert, 'utf8'), 'v2', 'truncated to the new content');
  assert.equal(statSync(cert).ino, inode);
  assert.equal(statSync(cert).mode & 0o777, 0o644);
  assert.equal(readFileSync(join(base, 'backup', 'a.cert.pem'), 'utf8'), 'a longer first version');
});

test('owners: names and numbers from passwd and group; group athenz by default when it exists', () => {
  const etc = join(dir, 'etc');
  mkdirSync(etc);
  writeFileSync(join(etc, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
  writeFileSync(join(etc, 'group'), 'root:x:0:\napp:x:1000:\n');
  const self = { uid: 0, gid: 0 };
  assert.deepEqual(resolveOwner({ etcDir: etc, self }), { uid: 0, gid: 0, defaultGroup: true });
  assert.deepEqual(resolveOwner({ etcDir: etc, self, user: 'app' }), { uid: 1000, gid: 1000, defaultGroup: true });
  assert.deepEqual(resolveOwner({ etcDir: etc, self, user: '1234', group: '99' }), { uid: 1234, gid: 99, defaultGroup: false });
  assert.throws(() => resolveOwner({ etcDir: etc, self, user: 'ghost' }), /user ghost is not in .*passwd/);
  assert.throws(() => resolveOwner({ etcDir: etc, self, group: 'ghosts' }), /group ghosts is not in .*group/);
  writeFileSync(join(etc, 'group'), 'root:x:0:\nathenz:x:10952:\n');
  assert.deepEqual(resolveOwner({ etcDir: etc, self }), { uid: 0, gid: 10952, defaultGroup: true });
});

test('files are given to their owner before they become visible', { skip: !isRoot && 'needs root to chown' }, () => {
  const key = join(dir, 'owned', 'keys', 'a.key.pem');
  commitFiles([{ path: key, content: 'KEY', mode: KEY_MODE, owner: { uid: 0, gid: 10952 } }], { backupDir: join(dir, 'owned', 'backup') });
  assert.equal(statSync(key).gid, 10952);
  assert.equal(statSync(key).mode & 0o777, 0o440);
});

test('done files: created 0644, then touched', () => {
  const t1 = new Date('2030-01-01T00:00:00Z');
  const t2 = new Date('2030-01-02T00:00:00Z');
  touchDone(join(dir, 'sia'), 'register', t1);
  assert.equal(statSync(join(dir, 'sia', 'register.done')).mode & 0o777, 0o644);
  assert.equal(statSync(join(dir, 'sia', 'register.done')).mtime.getTime(), t1.getTime());
  touchDone(join(dir, 'sia'), 'register', t2);
  assert.equal(statSync(join(dir, 'sia', 'register.done')).mtime.getTime(), t2.getTime());
});
