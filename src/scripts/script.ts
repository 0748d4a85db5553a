/** A Lua script with its SHA1 computed ahead of time, so the core needs no crypto module. */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}
