/**
 * What siad hands to workloads over its socket, kept in memory and pushed to
 * every subscriber when it changes: the X509-SVID (the service identity in the
 * SPIFFE profile) with its key and the CA bundle, the Athenz service
 * certificate as written to the files, and the role certificates. Subscribers
 * (Workload API and SDS streams) are told after each change; one that went
 * away is simply dropped.
 */
export interface KeyedCert {
  certPem: string;
  keyPem: string;
}

export interface Svid extends KeyedCert {
  spiffeId: string;
}

export interface IdentitySnapshot {
  /** Bumped on every change: an SDS version, a reason to push. */
  version: number;
  svid?: Svid;
  /** The Athenz service certificate and key (the files' content). */
  service?: KeyedCert & { spiffeId: string };
  /** The CA bundle (certs/ca.cert.pem). */
  bundlePem?: string;
  /** Role certificates by role name (`<domain>:role.<role>`). */
  roles: Map<string, KeyedCert>;
}

export type Listener = (s: IdentitySnapshot) => void;

export class WorkloadIdentity {
  private snap: IdentitySnapshot = { version: 0, roles: new Map() };
  private readonly listeners = new Set<Listener>();

  current(): IdentitySnapshot {
    return this.snap;
  }

  /** Calls `l` now (when there is something to tell) and after each change; returns the unsubscribe. */
  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    if (this.snap.version > 0) l(this.snap);
    return () => this.listeners.delete(l);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  update(change: Partial<Omit<IdentitySnapshot, 'version' | 'roles'>> & { role?: [string, KeyedCert] }): void {
    const roles = new Map(this.snap.roles);
    if (change.role) roles.set(change.role[0], change.role[1]);
    const { role: _role, ...rest } = change;
    this.snap = { ...this.snap, ...rest, roles, version: this.snap.version + 1 };
    for (const l of [...this.listeners]) l(this.snap);
  }
}
