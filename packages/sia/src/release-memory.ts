/**
 * A full garbage collection between the daemon's passes. V8 collects lazily:
 * left alone, a daemon that idles for minutes between refreshes keeps the
 * previous pass's garbage (3–6 MB of TLS, JSON and PEM strings) for good.
 * `gc` is not exposed to the workload's code: it is taken from a fresh V8
 * context, and the flag is set once, at the first call.
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
