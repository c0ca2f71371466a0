// Which errors mean "the database is unreachable or restarting" (answer 503, the caller retries)
// rather than a bug (500).
export function isDatabaseError(err: unknown): boolean {
  const e = err as { code?: string; message?: string; name?: string };
  return (
    ['ECONNREFUSED', 'ECONNRESET', '57P01', '57P03', '08006', '08001', '08003', 'ETIMEDOUT'].includes(
      e.code ?? '',
    ) ||
    /connect|terminat|timeout|Connection/i.test(e.message ?? '') ||
    e.name === 'ConnectionException'
  );
}
