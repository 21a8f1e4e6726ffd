/** What the workload launchers (ECS, EKS, EC2) share: state, stores, clock, addresses. */
import type { Clock } from './clock.ts';
import type { CredentialStore } from './credentials.ts';
import type { RoleStore } from './iam-roles.ts';
import type { SimState } from './state.ts';
import type { WorkloadCredentials } from './workload-credentials.ts';

export interface SimContext {
  state: SimState;
  clock: Clock;
  persist(): void;
  roles: RoleStore;
  credentials: CredentialStore;
  workloads: WorkloadCredentials;
  /** Base URL of the main listener, e.g. `http://127.0.0.1:4566`. */
  url(): string;
  host: string;
  defaultRegion: string;
  /** Directory for token files handed to pods. */
  filesDir: string;
  log(message: string): void;
}
