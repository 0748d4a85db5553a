/*
 * The Redis Cluster slot of a key (CRC16/XMODEM of its hash tag, mod 16384),
 * so that a transport can find the master that owns a key without a client
 * library's help.
 */
const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[i] = crc & 0xffff;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) ^ TABLE[((crc >> 8) ^ b) & 0xff]!) & 0xffff;
  return crc;
}

/** The part of a key that Redis Cluster hashes: the first non-empty `{…}`, else the whole key. */
export function hashTag(key: string): string {
  const open = key.indexOf("{");
  if (open === -1) return key;
  const close = key.indexOf("}", open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

export function clusterSlot(key: string): number {
  return crc16(new TextEncoder().encode(hashTag(key))) % 16384;
}
