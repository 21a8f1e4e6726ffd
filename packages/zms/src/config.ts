import { defaultSignInThrottle, type SignInThrottleConfig } from './auth/sign-in-throttle.ts';

/** ZMS settings, with the defaults Athenz ships. */
export interface ZmsConfig {
  /** AWS regions that get an `athenz.aws.<region>` provider service at bootstrap. */
  awsRegions: string[];
  /** DNS suffix the AWS providers may put in certificates (`sys.auth:dns.<suffix>`). */
  awsDnsSuffix: string;
  /** Refuse an AWS account already registered to another domain. */
  enforceUniqueAwsAccounts: boolean;
  serviceNameMinLength: number;
  userDomain: string;
  /** Lifetime of the user tokens issued for a password. */
  userTokenTtlSeconds: number;
  /** Back-off after failed sign-ins. */
  signInThrottle: SignInThrottleConfig;
  /**
   * Services that may carry users' tokens (Athenz's authorized_services): a
   * user token asks for them with `?services=`, and they use it with their
   * own signature appended. E.g. the Athenz UI's `athenz.ui-server`.
   */
  authorizedServices: string[];
  /** Web origins that may run the user token exchange from a browser (CORS on /user/{name}/token only). */
  corsOrigins: string[];
}

export const defaultZmsConfig: ZmsConfig = {
  awsRegions: ['us-west-2', 'us-east-1'],
  awsDnsSuffix: 'aws.athenz.cloud',
  enforceUniqueAwsAccounts: true,
  serviceNameMinLength: 3,
  userDomain: 'user',
  userTokenTtlSeconds: 3600,
  signInThrottle: defaultSignInThrottle,
  authorizedServices: [],
  corsOrigins: [],
};

export const SYSTEM_DOMAIN = 'sys.auth';
