/** Certificate lifetime in minutes (Athenz getServiceCertRequestExpiryTime), clamped to the signer maximum. */
export function serviceCertMinutes(a: {
  providerMins?: number;
  requestMins?: number;
  domainCapMins?: number;
  maxMins: number;
}): number {
  const p = a.providerMins && a.providerMins > 0 ? a.providerMins : 0;
  const r = a.requestMins && a.requestMins > 0 ? a.requestMins : 0;
  let t = r === 0 ? p : p === 0 ? r : Math.min(r, p);
  if (a.domainCapMins && a.domainCapMins > 0 && (t === 0 || t > a.domainCapMins)) t = a.domainCapMins;
  if (t === 0) t = a.maxMins;
  return Math.min(t, a.maxMins);
}
