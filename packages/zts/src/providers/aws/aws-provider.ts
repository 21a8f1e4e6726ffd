/**
 * The AWS instance provider (Athenz InstanceAWSProvider, and the ECS variant):
 * the workload proves it runs as `<domain>.<service>` in one of the domain's
 * AWS accounts, by one of the methods this provider accepts:
 * - `eks-token`: the pod's projected service-account token (token-attestation.ts),
 * - `aws-token`: a JWT from STS GetWebIdentityToken (token-attestation.ts),
 * - `sts`: STS credentials of the assumed role `<domain>.<service>`, which ZTS
 *   checks with a GetCallerIdentity call each time (the fallback),
 * plus, on EC2, the signed instance identity document.
 */
import type { InstanceConfirmation, InstanceProvider, ProviderResult } from '../instance-provider.ts';
import { ProviderError } from '../instance-provider.ts';
import { parseAttestation, type AwsAttestation } from './attestation.ts';
import { checkSanDnsNames } from './san-dns.ts';
import { parseDocument, verifyDocumentSignature } from './identity-document.ts';
import type { CallerIdentityCheck } from './sts-identity.ts';
import { tokenMethod, verifyAwsToken, verifyEksToken, type TokenMethod, type TokenSettings } from './token-attestation.ts';
import type { AwsCallCounter } from './aws-calls.ts';

export type AttestationMethod = TokenMethod | 'sts';
export const ATTESTATION_METHODS: AttestationMethod[] = ['eks-token', 'aws-token', 'sts'];
import { claim, fact, refusal, type Explained } from '@tessera/core/explained';

export interface AwsProviderSettings {
  /** `ecs`: instance id is the task id, boot time never checked (Athenz InstanceAWSECSProvider). */
  flavor: 'ec2' | 'ecs';
  dnsSuffixes: string[];
  documentCertsPem: string[];
  bootWindowSeconds: number;
  stsOnlyCertMins: number;
  callerIdentity: CallerIdentityCheck;
  /** What this provider accepts (server setting --attestation-methods). */
  methods: AttestationMethod[];
  tokens: TokenSettings;
  count: AwsCallCounter;
  now: () => Date;
}

export function awsProvider(providerName: string, s: AwsProviderSettings): InstanceProvider {
  const check = async (c: InstanceConfirmation, register: boolean): Promise<ProviderResult> => {
    if (!c.attestationData) throw new ProviderError('attestation data is required: send a signed identity token or fresh STS credentials of the assumed role');
    const att = parseAttestation(c.attestationData);
    const accounts = (c.attributes.awsAccount ?? '').split(',').filter(Boolean);
    if (accounts.length === 0) {
      throw new ProviderError(
        refusal('no_aws_account')`Unable to extract AWS Account id: domain ${fact('domain', c.domain)} has no AWS account registered; run: zms-cli -d ${c.domain} set-aws-account <aws-account-id>`,
      );
    }
    const token = att.identityToken ? tokenMethod(att.identityToken) : undefined;
    const method: AttestationMethod = token?.method ?? 'sts';
    if (!s.methods.includes(method)) {
      throw new ProviderError(`attestation method ${method} is not accepted by provider ${providerName} (accepted: ${s.methods.join(', ')})`);
    }
    const full = `${c.domain}.${c.service}`;
    if (method === 'sts' && att.role !== full && att.role !== c.service) {
      throw new ProviderError(
        att.role
          ? refusal('service_name_mismatch')`Service name mismatch: attestation role ${claim('role', att.role)} vs. ${fact('expectedRole', full)}: the workload must assume the IAM role ${full}`
          : refusal('service_name_mismatch')`Service name mismatch: attestation role (none) vs. ${fact('expectedRole', full)}: the workload must assume the IAM role ${full}`,
      );
    }
    const instanceId = checkSanDnsNames({
      domain: c.domain,
      service: c.service,
      sanDns: (c.attributes.sanDNS ?? '').split(',').filter(Boolean),
      instanceId: c.attributes.instanceId ?? '',
      dnsSuffixes: s.dnsSuffixes,
    });
    if (att.document) checkDocument(att, accounts, instanceId, register, c.domain);
    const request = { domain: c.domain, service: c.service, accounts, instanceId, sanUris: (c.attributes.sanURI ?? '').split(',').filter(Boolean) };
    const identity =
      token?.method === 'eks-token'
        ? await verifyEksToken(att.identityToken!, token.issuer, request, s.tokens)
        : token?.method === 'aws-token'
          ? await verifyAwsToken(att.identityToken!, token.issuer, request, s.tokens)
          : await checkCredentials(att, accounts, c.domain);
    return att.document ? { attestedIdentity: identity } : { attestedIdentity: identity, certExpiryTime: s.stsOnlyCertMins };
  };

  function checkDocument(att: AwsAttestation, accounts: string[], instanceId: string, register: boolean, domain: string): void {
    const bad = (why: string | Explained) => new ProviderError(refusal('aws_document_invalid')`Unable to validate AWS document: ${why}`);
    const doc = parseDocument(att.document!);
    if (!doc) throw bad('Unable to parse identity document');
    if (!att.signature) throw bad('AWS instance document signature is empty');
    if (s.documentCertsPem.length === 0) throw bad('AWS Public key is not available (configure the certificates that sign identity documents)');
    if (!verifyDocumentSignature(att.document!, att.signature, s.documentCertsPem)) throw bad('the document signature does not verify with the configured AWS certificates');
    // From here on the document's fields are AWS's (its signature verified); the request's are claims.
    if (!providerName.endsWith(`.${doc.region}`)) {
      throw bad(refusal('aws_document_invalid')`provider ${fact('provider', providerName)} does not end with expected suffix ${fact('documentRegion', doc.region)}`);
    }
    if (!accounts.includes(doc.accountId)) {
      throw bad(
        refusal('aws_document_invalid')`mismatch between account values - instance document: ${fact('documentAccount', doc.accountId)}, domain accounts: ${fact('domainAccounts', accounts.join(','))}; if the instance's account belongs to this domain, register it: zms-cli -d ${domain} set-aws-account ${[...accounts, doc.accountId].join(',')}`,
      );
    }
    const expectedId = s.flavor === 'ecs' ? att.taskid || instanceId : instanceId;
    if (doc.instanceId.toLowerCase() !== expectedId.toLowerCase()) {
      throw bad(
        refusal('aws_document_invalid')`mismatch between instance-id values: request: ${claim('instanceId', expectedId)} vs. instance document: ${fact('documentInstanceId', doc.instanceId)}`,
      );
    }
    if (register && s.flavor === 'ec2' && s.bootWindowSeconds > 0) {
      const booted = Date.parse(doc.pendingTime ?? '');
      if (!(booted > s.now().getTime() - s.bootWindowSeconds * 1000)) {
        throw bad(
          refusal('aws_document_invalid')`Instance boot time is not recent enough: ${fact('documentPendingTime', doc.pendingTime ?? '')} (register within ${s.bootWindowSeconds / 60} minutes of boot)`,
        );
      }
    }
  }

  async function checkCredentials(att: AwsAttestation, accounts: string[], domain: string): Promise<string> {
    if (!att.access || !att.secret || !att.token) {
      throw new ProviderError('Unable to verify instance identity credentials: access, secret and token of the assumed role are required');
    }
    s.count('sts:GetCallerIdentity', 'sts-attestation');
    const arn = await s.callerIdentity(att);
    if (!accounts.some((acct) => arn.startsWith(`arn:aws:sts::${acct}:assumed-role/${att.role}/`))) {
      // The right role in an account the domain does not list: registering that account is the fix.
      const other = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(arn);
      const fix = other && other[2] === att.role && !accounts.includes(other[1])
        ? `; if the workload's account ${other[1]} belongs to this domain, register it: zms-cli -d ${domain} set-aws-account ${[...accounts, other[1]].join(',')}`
        : '';
      throw new ProviderError(
        refusal('sts_identity_mismatch')`Unable to verify instance identity credentials: STS reports ${fact('stsArn', arn)}, expected arn:aws:sts::<account>:assumed-role/${claim('role', att.role)}/... for a registered account of the domain (${fact('domainAccounts', accounts.join(', '))})${fix}`,
      );
    }
    return arn;
  }

  return {
    confirm: (c) => check(c, true),
    refresh: (c) => check(c, false),
  };
}
