/**
 * A full garbage collection between the daemon's passes. V8 collects lazily:
 * left alone, a daemon that idles for minutes between refreshes keeps the
 * previous pass's garbage (3–6 MB of TLS, JSON and PEM strings) for good.
 * The flag is set at the first call, and `gc` is taken from a fresh V8
 * context: siad's own global object stays as Node made it.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';

let collect: (() => void) | undefined;

export function releaseMemory(): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}
