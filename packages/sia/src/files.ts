/**
 * siad's files, written so that a reader never sees half of one: each file is
 * written under a temporary name in its own directory (mode and owner set
 * before it becomes visible) and renamed into place, after the previous
 * version has been copied to the backup directory. A set of files (key and
 * certificate) is committed together: if one rename fails, the ones already
 * renamed are put back.
 */
import {
  chmodSync, chownSync, closeSync, copyFileSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, statSync,
  unlinkSync, utimesSync, writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Athenz's modes: keys readable by owner and group only, certificates by all. */
export const KEY_MODE = 0o440;
export const CERT_MODE = 0o444;
/** With file_direct_update the owner may write too, as the file is rewritten in place. */
export const withOwnerWrite = (mode: number) => mode | 0o200;

export interface Owner {
  uid: number;
  gid: number;
}

export interface FileWrite {
  path: string;
  content: string;
  mode: number;
  owner?: Owner;
}

export interface CommitOptions {
  /** The previous version of each file is copied here first (Athenz's sia_backup_dir). */
  backupDir: string;
  /** Rewrite in place instead of renaming (for files bind-mounted one by one). */
  directUpdate?: boolean;
  /** Who siad runs as: ownership is changed only for a different owner. */
  self?: Owner;
  /** The rename that puts a file in place (tests make it fail). */
  rename?: (from: string, to: string) => void;
}

function selfOwner(): Owner {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

function writeNew(path: string, content: string, mode: number, owner: Owner | undefined, self: Owner): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // chmod after writing: the umask never narrows the mode, and the content is complete before anyone else may read it.
  if (owner && (owner.uid !== self.uid || owner.gid !== self.gid)) chownSync(path, owner.uid, owner.gid);
  chmodSync(path, mode);
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Copies `path` to the backup dir with its mode, replacing an older backup atomically. */
function backup(path: string, backupDir: string): string {
  mkdirSync(backupDir, { recursive: true, mode: 0o755 });
  const target = join(backupDir, basename(path));
  const tmp = tempName(target);
  copyFileSync(path, tmp);
  const st = statSync(path);
  chmodSync(tmp, st.mode & 0o777);
  renameSync(tmp, target);
  return target;
}

/** Writes all `files` or none of them. */
export function commitFiles(files: FileWrite[], o: CommitOptions): void {
  const self = o.self ?? selfOwner();
  const staged: { f: FileWrite; tmp: string; previous?: string }[] = [];
  try {
    for (const f of files) {
      mkdirSync(dirname(f.path), { recursive: true, mode: 0o755 });
      const tmp = tempName(f.path);
      staged.push({ f, tmp });
      writeNew(tmp, f.content, o.directUpdate ? withOwnerWrite(f.mode) : f.mode, f.owner, self);
    }
    for (const s of staged) if (existsSync(s.f.path)) s.previous = backup(s.f.path, o.backupDir);
  } catch (e) {
    for (const s of staged) rmQuiet(s.tmp);
    throw e;
  }
  const done: typeof staged = [];
  try {
    for (const s of staged) {
      if (o.directUpdate && existsSync(s.f.path)) {
        // In place: the inode stays, so a bind mount of this one file sees the change.
        chmodSync(s.f.path, withOwnerWrite(s.f.mode));
        if (s.f.owner && (s.f.owner.uid !== self.uid || s.f.owner.gid !== self.gid)) chownSync(s.f.path, s.f.owner.uid, s.f.owner.gid);
        const fd = openSync(s.f.path, 'r+');
        try {
          const bytes = Buffer.from(s.f.content);
          writeSync(fd, bytes, 0, bytes.length, 0);
          ftruncateSync(fd, bytes.length);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        rmQuiet(s.tmp);
      } else {
        (o.rename ?? renameSync)(s.tmp, s.f.path);
      }
      done.push(s);
    }
  } catch (e) {
    // Put back what was already replaced, so key and certificate still belong together.
    for (const s of done.reverse()) {
      try {
        if (s.previous) {
          const tmp = tempName(s.f.path);
          copyFileSync(s.previous, tmp);
          chmodSync(tmp, statSync(s.previous).mode & 0o777);
          renameSync(tmp, s.f.path);
        } else rmQuiet(s.f.path);
      } catch {
        // Best effort: the original error is the one to report.
      }
    }
    for (const s of staged) rmQuiet(s.tmp);
    throw e;
  }
}

function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** `<siadir>/<name>.done`, created 0644 or touched, as Athenz marks finished commands. */
export function touchDone(siaDir: string, name: string, now = new Date()): void {
  mkdirSync(siaDir, { recursive: true, mode: 0o755 });
  const path = join(siaDir, `${name}.done`);
  if (!existsSync(path)) {
    closeSync(openSync(path, 'a', 0o644));
    chmodSync(path, 0o644);
  }
  utimesSync(path, now, now);
}

export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * uid and gid for a configured user and group (names or numbers), read from
 * `<etcDir>/passwd` and `<etcDir>/group` (Athenz runs `id`, which distroless
 * images lack). Defaults: siad's own user; group `athenz` when it exists,
 * else the user's primary group.
 */
export function resolveOwner(a: { user?: string; group?: string; etcDir?: string; self?: Owner }): Owner & { defaultGroup: boolean } {
  const etc = a.etcDir ?? '/etc';
  const self = a.self ?? selfOwner();
  const table = (file: string) =>
    (readIfExists(join(etc, file)) ?? '').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  let uid = self.uid;
  let primaryGid = self.gid;
  if (a.user) {
    const row = table('passwd').find((r) => r[0] === a.user || (/^\d+$/.test(a.user!) && r[2] === a.user));
    if (row) {
      uid = Number(row[2]);
      primaryGid = Number(row[3]);
    } else if (/^\d+$/.test(a.user)) {
      uid = Number(a.user);
    } else {
      throw new Error(`user ${a.user} is not in ${join(etc, 'passwd')}: give an existing user name or a uid`);
    }
  }
  if (a.group) {
    const row = table('group').find((r) => r[0] === a.group);
    if (row) return { uid, gid: Number(row[2]), defaultGroup: false };
    if (/^\d+$/.test(a.group)) return { uid, gid: Number(a.group), defaultGroup: false };
    throw new Error(`group ${a.group} is not in ${join(etc, 'group')}: give an existing group name or a gid`);
  }
  const athenz = table('group').find((r) => r[0] === 'athenz');
  return { uid, gid: athenz ? Number(athenz[2]) : primaryGid, defaultGroup: true };
}
