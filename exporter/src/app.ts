// The exporter service, composed: configuration state (reloadable, with watched target files in
// targets/), the /probe dispatcher (http/probe.ts) and the HTTP routes (http/server.ts).
// main.ts wires it to the environment.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { RouterPool, type RouterEndpoint } from '@ispmon/routeros';
import type { Logger } from 'pino';
import { CommandFailureLog } from './collectors/routeros/command-failures.js';
import { ConfigError, loadConfigFile, type LoadedConfig } from './config/load.js';
import type { TargetsConfig } from './config/schema.js';
import { ProbeDispatcher, type ProbeResult, type ScrapeContext } from './http/probe.js';
import { handleRequest, startServer, stopServer } from './http/server.js';
import { ProbeScheduler } from './probes/measure.js';
import { measuresTarget, type Shard } from './probes/shard.js';
import { SelfMetrics } from './self-metrics.js';
import { Slots } from './slots.js';
import { routerEndpoint } from './targets/endpoints.js';
import { TargetFiles } from './targets/files.js';

export type { ScrapeContext } from './http/probe.js';

export interface ExporterOptions {
  configFile: string;
  logger: Logger;
  /** How often target files are checked for changes (ms). */
  targetFilePollMs?: number;
  /** This replica's shard: it measures only the client links Prometheus's hashmod gives it. */
  shard?: Shard;
}

export class Exporter {
  readonly metrics = new SelfMetrics();
  private config!: LoadedConfig;
  private targets: TargetsConfig = { routers: [], snmp: [], probes: [] };
  private readonly files: TargetFiles;
  private readonly connections: RouterPool;
  private readonly endpoints = new Map<string, RouterEndpoint>();
  private readonly probes: ProbeScheduler;
  private readonly commandFailures: CommandFailureLog;
  private readonly dispatcher: ProbeDispatcher;
  private server: Server | undefined;
  private poller: NodeJS.Timeout | undefined;
  private ready = false;

  constructor(private readonly options: ExporterOptions) {
    this.files = new TargetFiles(options.logger);
    this.probes = new ProbeScheduler(options.logger);
    this.connections = new RouterPool({ onOpenChange: (open) => this.metrics.connections.set(open) });
    this.commandFailures = new CommandFailureLog(options.logger, this.metrics.commandErrors);
    this.dispatcher = new ProbeDispatcher({
      logger: options.logger,
      metrics: this.metrics,
      connections: this.connections,
      probes: this.probes,
      commandFailures: this.commandFailures,
      scrapeSlots: new Slots(Number(process.env.ISPMON_EXPORTER_MAX_CONCURRENT_SCRAPES ?? 64)),
      state: () => ({ config: this.config, targets: this.targets, endpoints: this.endpoints }),
      ...(options.shard ? { shard: options.shard } : {}),
    });
  }

  /** Loads the configuration; throws ConfigError at start. */
  load(): void {
    this.config = loadConfigFile(this.options.configFile);
    this.refreshTargetFiles(true);
    this.metrics.reloadSuccess.set(1);
    this.metrics.reloadTime.set(Date.now() / 1000);
  }

  /** Reloads on SIGHUP or POST /-/reload; keeps the running configuration if the new one is invalid. */
  reload(): { ok: true } | { ok: false; error: string } {
    try {
      const previous = this.config;
      this.config = loadConfigFile(this.options.configFile);
      this.files.clear();
      try {
        this.refreshTargetFiles(true);
      } catch (err) {
        this.config = previous;
        throw err;
      }
      this.metrics.reloadSuccess.set(1);
      this.metrics.reloadTime.set(Date.now() / 1000);
      this.options.logger.info(
        { event: 'config_reloaded', targets: this.targetCounts() },
        'configuration reloaded',
      );
      return { ok: true };
    } catch (err) {
      this.metrics.reloadSuccess.set(0);
      const error = err instanceof ConfigError ? err.message : `reload failed: ${(err as Error).message}`;
      this.options.logger.error(
        { event: 'config_reload_failed', error },
        'configuration reload failed; keeping the running configuration',
      );
      return { ok: false, error };
    }
  }

  private targetCounts(): Record<string, number> {
    return {
      routers: this.targets.routers.length,
      snmp: this.targets.snmp.length,
      probes: this.targets.probes.length,
    };
  }

  /** Re-reads target files that changed and applies the merged targets. A broken file keeps its last good content. */
  refreshTargetFiles(strict = false): void {
    const merged = this.files.refresh(this.config, strict);
    if (!merged) return;
    const endpoints = new Map<string, RouterEndpoint>();
    for (const [i, t] of merged.routers.entries())
      endpoints.set(t.name, routerEndpoint(t, this.config, `targets.routers.${i} (${t.name})`));
    this.targets = merged;
    this.endpoints.clear();
    for (const [k, v] of endpoints) this.endpoints.set(k, v);
    this.connections.retain(new Set(endpoints.keys()));
    this.commandFailures.retain(new Set(endpoints.keys()));
    this.probes.sync(
      merged.probes
        .filter((p) => measuresTarget(this.options.shard, p.name))
        .map((p) => ({
          name: p.name,
          host: p.host,
          protocol: p.protocol,
          ...(p.port !== undefined ? { port: p.port } : {}),
          intervalMs: p.interval,
          timeoutMs: p.timeout ?? Math.min(this.config.default_timeout, p.interval),
        })),
    );
    for (const [kind, n] of Object.entries(this.targetCounts())) this.metrics.targets.set({ kind }, n);
  }

  /** GET /probe?target=&module= */
  probe(
    targetName: string,
    moduleName: string | undefined,
    scrape: ScrapeContext = {},
  ): Promise<ProbeResult> {
    return this.dispatcher.probe(targetName, moduleName, scrape);
  }

  handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return handleRequest(
      {
        logger: this.options.logger,
        refreshTargets: () => this.refreshTargetFiles(),
        probe: (target, module, scrape) => this.probe(target, module, scrape),
        metrics: async () => ({
          body: await this.metrics.registry.metrics(),
          contentType: this.metrics.registry.contentType,
        }),
        ready: () => this.ready,
        reload: () => this.reload(),
      },
      req,
      res,
    );
  }

  async listen(address = this.config.listen): Promise<string> {
    const { server, bound } = await startServer(address, (req, res) => this.handle(req, res));
    this.server = server;
    this.poller = setInterval(() => {
      try {
        this.refreshTargetFiles();
      } catch (err) {
        this.options.logger.error(
          { event: 'target_refresh_failed', error: (err as Error).message },
          'target refresh failed',
        );
      }
    }, this.options.targetFilePollMs ?? 2_000);
    this.poller.unref();
    this.ready = true;
    return bound;
  }

  /** Graceful shutdown: stop accepting, let in-flight scrapes finish (bounded), close router connections. */
  async close(graceMs = 5_000): Promise<void> {
    this.ready = false;
    if (this.poller) clearInterval(this.poller);
    if (this.server) await stopServer(this.server, graceMs);
    await this.connections.closeAll();
    this.probes.stop();
  }
}
