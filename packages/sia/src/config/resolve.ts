/**
 * Who this workload is and how siad behaves, from the first of: the
 * `sia_config` file, the ATHENZ_SIA_* environment, on EKS the service account
 * `<domain>.<service>` of the pod's projected token for ZTS, the workload's
 * IAM role name `<domain>.<service>-service`. Pure: the file text, the
 * environment, the token and the role lookup are passed in.
 */
import { assemble } from './assemble.ts';
import { settingsFromEnv } from './env.ts';
import { fromFile } from './file.ts';
import { identityFromRoleName, parseIamRoleArn, splitDomainService } from './iam-names.ts';
import { serviceAccountOf, unverifiedClaims } from '../pod-token.ts';
import type { KeyAlgorithm } from '@tessera/core/x509/keys';
import { keyType } from './values.ts';
import { ConfigError, type ConfigInputs, type SiaConfig } from './types.ts';

/** The sources in order; the first that names an identity wins. */
export async function resolveConfig(i: ConfigInputs): Promise<SiaConfig> {
  if (i.fileText !== undefined) return fromFile(i.fileText, i);

  const s = settingsFromEnv(i.env);
  const roleArn = i.env.ATHENZ_SIA_IAM_ROLE_ARN;
  if (roleArn) {
    const parsed = parseIamRoleArn(roleArn);
    const id = parsed && splitDomainService(parsed.name);
    if (!parsed || !id) {
      throw new ConfigError(`ATHENZ_SIA_IAM_ROLE_ARN ${roleArn} is not an IAM role ARN like arn:aws:iam::<account>:role/[<path>/]<domain>.<service>`);
    }
    if (parsed.path && !s.rolePath) s.rolePath = parsed.path;
    return assemble(s, { ...id, account: parsed.account }, i.siaDir, 'ATHENZ_SIA_IAM_ROLE_ARN');
  }

  // The pod's token names the service (ZTS accepts it only for `<domain>.<service>`); the account is the pod's.
  const serviceAccount = i.serviceAccountToken && serviceAccountOf(unverifiedClaims(i.serviceAccountToken)?.sub);
  const fromToken = serviceAccount && splitDomainService(serviceAccount);
  if (fromToken) return assemble(s, { ...fromToken, account: await i.workloadAccount() }, i.siaDir, `service account ${serviceAccount}`);

  const role = await i.workloadRole();
  const id = identityFromRoleName(role.name);
  if (!id) {
    throw new ConfigError(
      `no identity configured; searched: the config file ${i.configPath} (not found), the variable ATHENZ_SIA_IAM_ROLE_ARN (not set), ` +
        `${i.serviceAccountToken ? `the pod's service account ${serviceAccount ?? '(unreadable token)'}, which is not <domain>.<service>, ` : ''}` +
        `and the workload's IAM role name ${role.name} (${role.arn}), which does not follow <domain>.<service>-service. ` +
        `Create ${i.configPath}, set ATHENZ_SIA_IAM_ROLE_ARN=arn:aws:iam::<account>:role/<domain>.<service>, ` +
        `${i.serviceAccountToken ? 'run the pod as service account <domain>.<service>, ' : ''}or name the role <domain>.<service>-service.`,
    );
  }
  return assemble(s, { ...id, account: role.account }, i.siaDir, `IAM role ${role.name}`);
}

/**
 * The key type the configuration asks for (the file's key_type, else
 * ATHENZ_SIA_KEY_TYPE), read before the identity is resolved so that a
 * register can start generating its key at once. A guess when the sources
 * are broken: resolveConfig reports what is wrong, and a key of the wrong
 * type is never used (keys.ts).
 */
export function configuredKeyType(fileText: string | undefined, env: Record<string, string | undefined>): KeyAlgorithm {
  try {
    if (fileText === undefined) return keyType(env.ATHENZ_SIA_KEY_TYPE, 'ATHENZ_SIA_KEY_TYPE');
    const c = JSON.parse(fileText) as { key_type?: unknown };
    return keyType(typeof c?.key_type === 'string' ? c.key_type : undefined, 'key_type');
  } catch {
    return 'rsa';
  }
}
