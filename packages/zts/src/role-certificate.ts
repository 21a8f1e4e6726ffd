/**
 * Role certificates (`POST /rolecert`, and the older
 * `POST /domain/{d}/role/{r}/token`): a service proves with its certificate
 * that it is a member of a role and gets a client certificate for it.
 */
import { isRoleMember } from '@tessera/core/authz/evaluate-access';
import { badRequest, forbidden, notFound } from '@tessera/core/errors';
import { parseCsr } from '@tessera/core/x509/csr';
import { backdated } from '@tessera/core/x509/clock-skew';
import { refusal, type Explained } from '@tessera/core/explained';
import { serviceCertCaller, type Caller, type ZtsContext } from './context.ts';
import { certSubject, INSTANCE_ID_URI, roleCertUris } from './cert-names.ts';
import { optMinutes } from './instance-request.ts';

export interface RoleCertResult {
  certPem: string;
  notAfter: Date;
}

const invalid = (detail: string | Explained) => badRequest(refusal('csr_invalid')`Unable to validate cert request: ${detail}`);

export async function issueRoleCertificate(
  ctx: ZtsContext,
  caller: Caller,
  body: Record<string, unknown>,
  expected?: { domain: string; role: string },
): Promise<RoleCertResult> {
  const { principal, cert: callerCert } = serviceCertCaller(ctx, caller, 'role certificates need a service certificate');
  if (typeof body.csr !== 'string' || body.csr === '') throw badRequest('csr is required: a PEM CSR with CN <domain>:role.<role>');
  const requestMins = optMinutes(body.expiryTime, 'expiryTime');

  const csr = await parseCsr(body.csr);
  if (!csr.signatureValid) throw badRequest('Unable to parse PKCS10 CSR: its signature does not verify with its own key');
  const m = /^([^:]+):role\.(.+)$/.exec(csr.commonName.toLowerCase());
  if (!m) throw badRequest(`Unable to parse PKCS10 CSR: Role Certificate CN is not a valid role: ${csr.commonName}`);
  const [, domain, role] = m;
  if (expected && (expected.domain !== domain || expected.role !== role)) {
    throw badRequest(`Role Certificate Request mismatch: ${csr.commonName}/${expected.domain}:role.${expected.role}`);
  }

  const data = ctx.snapshots.get(domain);
  if (!data) throw notFound(`No such domain: ${domain}`);
  const found = data.roles.find((r) => r.name === `${domain}:role.${role}`);
  if (!found || !isRoleMember(found, principal, ctx.now(), (d) => ctx.snapshots.get(d))) {
    throw forbidden(
      `principal ${principal} is not included in the requested role(s) in domain ${domain}; ` +
        `a domain admin can run: zms-cli -d ${domain} add-member ${role} ${principal}`,
    );
  }

  const commonName = `${domain}:role.${role}`;
  const subject = certSubject(csr, { commonName, ou: callerCert.organizationalUnit, allowedO: ctx.config.certAllowedO, fail: invalid });
  const uris = roleCertUris(csr.uris, {
    domain,
    role,
    principal: principal,
    callerInstanceUri: callerCert.uris.find((u) => u.toLowerCase().startsWith(INSTANCE_ID_URI)),
    fail: invalid,
  });
  const dnsNames = [...new Set(csr.dnsNames.map((n) => n.toLowerCase()))];
  for (const name of dnsNames) {
    if (!callerCert.dnsNames.includes(name)) throw invalid(`DNS name ${name} is not in the service certificate`);
  }
  if (csr.ipAddresses.length > 0) throw invalid('IP addresses are not accepted in role certificates');
  if (csr.emails.length > 0) throw invalid(`e-mail SANs are not accepted in role certificates: the caller is named by athenz://principal/${principal}`);

  // Shortest positive of: the request, the domain's role cert cap, the signer maximum; never past the service certificate.
  const limits = [requestMins, data.roleCertExpiryMins, ctx.config.maxCertMins].filter((v): v is number => !!v && v > 0);
  const now = ctx.now();
  const notAfter = new Date(Math.min(now.getTime() + Math.min(...limits) * 60_000, callerCert.notAfter.getTime()));
  const { certPem } = await ctx.signer.sign({
    publicKeyPem: csr.publicKeyPem,
    // Built from what ZTS decided (cert-names.ts); the CSR gives only its public key.
    subject,
    dnsNames,
    uris,
    notBefore: backdated(now),
    notAfter,
    usage: 'client',
  });
  return { certPem, notAfter };
}
