/** What every ZMS route plugin is given. */
import type { ZmsContext } from '../context.ts';
import type { Authenticator } from '../auth/authenticate.ts';
import type { UserTokenSigner } from '../auth/user-tokens.ts';
import type { DomainSigningKey } from '../signed-domains.ts';

export interface ZmsRouteDeps {
  ctx: ZmsContext;
  auth: Authenticator;
  tokens: UserTokenSigner;
  signingKey: DomainSigningKey;
}
