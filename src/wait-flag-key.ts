/**
 * Where mutex() waiters flag a held lock so that its release publishes. The
 * lock key's hash tag keeps it in the lock's slot; a lock key always ends in
 * "}", so no lock name can produce this key.
 */
export const waitFlagKey = (lockKey: string): string => `${lockKey}:w`;
