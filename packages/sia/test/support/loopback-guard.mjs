/**
 * Preloaded into a child process (`node --import`): any TCP connection to an
 * address off loopback is refused before it leaves, reported on stderr as
 * `LOOPBACK-GUARD refused <host>:<port>` and ended with exit code 97, so a
 * test fails when code under test would talk to 169.254.169.254 (or anywhere).
 */
import net from 'node:net';
import { writeSync } from 'node:fs';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/i;

const original = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = typeof first === 'object' && first !== null ? first : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
  if (!options.path) {
    const host = options.host ?? 'localhost';
    if (!LOOPBACK.test(host)) {
      writeSync(2, `LOOPBACK-GUARD refused ${host}:${options.port}\n`);
      process.exit(97);
    }
  }
  return original.apply(this, args);
};
