// Readiness as a load balancer reads it: 503 while the replica is shutting down (so it is dropped before
// its listener closes) or cannot reach its database; 200 otherwise. Liveness (/healthz) stays 200 for both.
export interface ReadinessAnswer {
  status: 200 | 503;
  body: { status: 'ready' | 'shutting down' | 'database unavailable' };
}

export async function readiness(o: {
  stopping: () => boolean;
  /** A round trip to the database (select 1); a rejection means unavailable. */
  database: () => Promise<unknown>;
}): Promise<ReadinessAnswer> {
  if (o.stopping()) return { status: 503, body: { status: 'shutting down' } };
  try {
    await o.database();
  } catch {
    return { status: 503, body: { status: 'database unavailable' } };
  }
  // A stop that began during the round trip wins.
  if (o.stopping()) return { status: 503, body: { status: 'shutting down' } };
  return { status: 200, body: { status: 'ready' } };
}
