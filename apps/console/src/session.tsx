import { createContext, useContext } from 'react';
import type { Role, Session } from './api/console-types';

export interface SessionState {
  session: Session;
  signOut: () => void;
}

export const SessionContext = createContext<SessionState | null>(null);

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession outside the signed-in layout');
  return state;
}

/** Whether the signed-in role reaches `needed` (viewer < operator < admin). */
export function useCan(needed: Role): boolean {
  const { session } = useSession();
  return (RANK[session.role] ?? 0) >= RANK[needed];
}
