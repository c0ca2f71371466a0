// The demo stack: starts every part of ispmon that exists, on loopback, and prints where it lives.
// Grows with each component; Ctrl-C (SIGINT) or SIGTERM stops everything.
import { startAlertmanager, startPostgres, startPrometheus } from '@ispmon/testkit';

async function main(): Promise<void> {
  const stops: Array<() => Promise<void>> = [];
  const shutdown = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());

  const pg = await startPostgres();
  stops.push(() => pg.stop());
  const prom = await startPrometheus();
  stops.push(() => prom.stop());
  const am = await startAlertmanager();
  stops.push(() => am.stop());

  console.log(
    [
      'ispmon demo stack is up:',
      `  PostgreSQL    ${pg.url()}  (user postgres, no password, trust on loopback)`,
      `  Prometheus    ${prom.url}`,
      `  Alertmanager  ${am.url}`,
      'Press Ctrl-C to stop.',
    ].join('\n'),
  );
  if (process.argv.includes('--once')) await shutdown();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
