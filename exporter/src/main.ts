// Composition root: configuration from the environment (12-factor), signals, graceful shutdown.
//   ISPMON_EXPORTER_CONFIG  path of the YAML configuration (default ./exporter.yml)
//   ISPMON_EXPORTER_LISTEN  listen address, overrides `listen:` (e.g. 0.0.0.0:9436)
//   ISPMON_EXPORTER_SHARD   i/N: measure only the client links of Prometheus shard i of N (default: all)
//   LOG_LEVEL               pino level (default info)
import { pino } from 'pino';
import { stopOnSignals } from '@ispmon/service-kit/shutdown';
import { Exporter } from './app.js';
import { parseShard, type Shard } from './probes/shard.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info', base: { service: 'ispmon-exporter' } });
let shard: Shard | undefined;
try {
  const text = process.env.ISPMON_EXPORTER_SHARD;
  if (text) shard = parseShard(text);
} catch (err) {
  logger.fatal({ event: 'config_invalid', error: (err as Error).message }, 'invalid shard');
  process.exit(2);
}
const exporter = new Exporter({
  configFile: process.env.ISPMON_EXPORTER_CONFIG ?? 'exporter.yml',
  logger,
  ...(shard ? { shard } : {}),
});

try {
  exporter.load();
} catch (err) {
  logger.fatal({ event: 'config_invalid', error: (err as Error).message }, 'invalid configuration');
  process.exit(2);
}

const address = await exporter.listen(process.env.ISPMON_EXPORTER_LISTEN);
logger.info({ event: 'listening', address }, `exporter listening on ${address}`);

process.on('SIGHUP', () => exporter.reload());
// The first SIGTERM/SIGINT closes the exporter; a second one waits for that.
stopOnSignals(logger, () => exporter.close());
