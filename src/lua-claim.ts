import { compactLua } from "./scripts/script";

/**
 * Lua spliced into the scripts that take locks (scripts/acquire.ts, scripts/acquire-all.ts), after their TIME and
 * LUA_RECORD_LAYOUT: it needs `nowUs`, `nowMs`, `processHash`, `lockTtlMs` and recordHead(). ownRecord(token, tail)
 * is our record with a token past a previous one; `freshHead` is the head of a record written fresh under the call's
 * TIME. claim(lockKey, tail) looks at a key and, where it is free,
 * writes our fresh record in the same command (SET NX GET, Redis 7.0+: one nested command instead of a GET and a
 * SET); it answers what the key held (nil: free), or Redis's error as a table, and whether a free key is written
 * already. A server that refuses that form's syntax gets GET from then on, and the caller writes a free key itself.
 */
export const LUA_CLAIM = compactLua(`-- Our record with this token (a number), written under the call's TIME; "<seq>|<traceField>" is its tail.
local function ownRecord(token, tail)
  return recordHead(string.format('%.0f', token), nowMs, nowMs, processHash) .. tail
end
-- A fresh record's head, made once: its token is the call's TIME in microseconds.
local freshHead = recordHead(string.format('%.0f', nowUs), nowMs, nowMs, processHash)
local setNxGet = true
local function claim(lockKey, tail)
  if setNxGet then
    local current = redis.pcall('SET', lockKey, freshHead .. tail, 'PX', lockTtlMs, 'NX', 'GET')
    if type(current) ~= 'table' or not string.find(current.err, 'syntax') then return current, true end
    setNxGet = false
  end
  return redis.pcall('GET', lockKey), false
end
`);
