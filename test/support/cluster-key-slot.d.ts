declare module "cluster-key-slot" {
  /** The Redis Cluster slot of a key (ioredis's own dependency, used as a reference in tests). */
  export default function calculateSlot(key: string): number;
}
