/** What every page needs from the app shell: the API client, who is logged in, the provider list and server settings. */
import { createContext, useContext } from 'react';
import type { Api } from './api.ts';
import type { ProviderConfig, UiConfig } from './providers.ts';
import type { Session } from './zms-client.ts';

export interface AppContextValue {
  api: Api;
  session: Session;
  providers: ProviderConfig[];
  /** The rest of /ui-config.json (ZTS port, DNS suffix). */
  config: UiConfig;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside of a logged-in page');
  return value;
}
