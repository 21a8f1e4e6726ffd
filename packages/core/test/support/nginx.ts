/**
 * The nginx binary for the tests that use a real nginx as a relying party.
 * A missing nginx fails those tests with the install hint, never skips them.
 */
import { spawnSync } from 'node:child_process';

export function nginxBinary(): string {
  const found = ['/usr/sbin/nginx', 'nginx'].find((p) => !spawnSync(p, ['-v']).error);
  if (!found) throw new Error('nginx is not installed: run `npm run setup` (it installs Debian\'s nginx), or apt-get install -y nginx');
  return found;
}
