import { randomUUID } from "node:crypto";
import { hostname } from "node:os";

/** Names one process among the replicas (host, pid, a random suffix): who holds a lease. */
export const instanceName = () => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
