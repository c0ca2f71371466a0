// The exporter service: configuration state (reloadable, with watched target files), the /probe
// dispatcher, /metrics, health and reload endpoints. main.ts wires it to the environment.
import { globSync, readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { RouterPool, type RouterEndpoint } from '@ispmon/routeros';
import type { Logger } from 'pino';
import {
  ROUTEROS_COLLECTORS,
  type RouterOsCollector,
  type RouterOsModuleOptions,
} from './collectors/routeros/index.js';
import { scrapeRouter } from './collectors/routeros/engine.js';
import { CommandFailureLog } from './collectors/routeros/command-failures.js';
import {
  ConfigError,
  loadConfigFile,
  parseTargetsFile,
  resolveSecret,
  targetFileStamp,
  validateTargets,
  type LoadedConfig,
} from './config/load.js';
import type { RouterOsModuleConfig, RouterTargetConfig, TargetsConfig } from './config/schema.js';
import { encodeText, TEXT_CONTENT_TYPE } from './exposition.js';
import { resolveSnmpModules, snmpTargetFromConfig } from './collectors/snmp/config.js';
import { scrapeDeadlineMs } from './collectors/snmp/engine.js';
import { SharedSnmpScrapes } from './collectors/snmp/shared.js';
import { ProbeScheduler } from './probes/measure.js';
import { SelfMetrics } from './self-metrics.js';

export interface ExporterOptions {
  configFile: string;
  logger: Logger;
  /** How often target files are checked for changes (ms). */
  targetFilePollMs?: number;
}

/** What a /probe request brings besides target and module. */
export interface ScrapeContext {
  /** Aborted when the HTTP client hangs up. */
  signal?: AbortSignal;
  /** Prometheus's `X-Prometheus-Scrape-Timeout-Seconds`. */
  timeoutHeader?: string;
}

interface TargetFileState {
  stamp: string;
  targets: TargetsConfig;
}

export class Exporter {
  readonly metrics = new SelfMetrics();
  private config!: LoadedConfig;
  private targets: TargetsConfig = { routers: [], snmp: [], probes: [] };
  private readonly files = new Map<string, TargetFileState>();
  private readonly connections: RouterPool;
  private readonly endpoints = new Map<string, RouterEndpoint>();
  private readonly probes: ProbeScheduler;
  private readonly commandFailures: CommandFailureLog;
  private readonly snmpScrapes = new SharedSnmpScrapes();
  private readonly scrapeSlots = new Slots(Number(process.env.ISPMON_EXPORTER_MAX_CONCURRENT_SCRAPES ?? 64));
  private server: Server | undefined;
  private poller: NodeJS.Timeout | undefined;
  private ready = false;

  constructor(private readonly options: ExporterOptions) {
    this.probes = new ProbeScheduler(options.logger);
    this.connections = new RouterPool({ onOpenChange: (open) => this.metrics.connections.set(open) });
    this.commandFailures = new CommandFailureLog(options.logger, this.metrics.commandErrors);
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

  /** Re-reads target files that changed. A broken file keeps its last good content (and is logged). */
  refreshTargetFiles(strict = false): void {
    let changed = strict;
    const files = new Set(
      this.config.target_files.flatMap((pattern) =>
        /[*?[]/.test(pattern) ? globSync(pattern).map((f) => resolvePath(f)) : [pattern],
      ),
    );
    for (const known of [...this.files.keys()]) {
      if (!files.has(known)) {
        this.files.delete(known);
        changed = true;
      }
    }
    for (const file of files) {
      const stamp = targetFileStamp(file);
      const known = this.files.get(file);
      if (known && known.stamp === stamp) continue;
      if (stamp === 'missing') {
        this.files.set(file, { stamp, targets: { routers: [], snmp: [], probes: [] } });
        changed = true;
        continue;
      }
      try {
        const targets = parseTargetsFile(readFileSync(file, 'utf8'), file);
        validateTargets(targets, this.config, file);
        this.files.set(file, { stamp, targets });
        changed = true;
        this.options.logger.info(
          {
            event: 'target_file_loaded',
            file,
            routers: targets.routers.length,
            snmp: targets.snmp.length,
            probes: targets.probes.length,
          },
          'target file loaded',
        );
      } catch (err) {
        if (strict && !known) throw err;
        this.options.logger.error(
          { event: 'target_file_invalid', file, error: (err as Error).message },
          'target file invalid; keeping its previous targets',
        );
        if (known) known.stamp = stamp;
      }
    }
    if (!changed) return;
    const merged: TargetsConfig = {
      routers: [...this.config.staticTargets.routers],
      snmp: [...this.config.staticTargets.snmp],
      probes: [...this.config.staticTargets.probes],
    };
    for (const state of this.files.values()) {
      merged.routers.push(...state.targets.routers);
      merged.snmp.push(...state.targets.snmp);
      merged.probes.push(...state.targets.probes);
    }
    validateTargets(merged, this.config, 'targets (config and target files)');
    const endpoints = new Map<string, RouterEndpoint>();
    for (const [i, t] of merged.routers.entries())
      endpoints.set(t.name, this.endpoint(t, `targets.routers.${i} (${t.name})`));
    this.targets = merged;
    this.endpoints.clear();
    for (const [k, v] of endpoints) this.endpoints.set(k, v);
    this.connections.retain(new Set(endpoints.keys()));
    this.commandFailures.retain(new Set(endpoints.keys()));
    this.probes.sync(
      merged.probes.map((p) => ({
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

  private endpoint(t: RouterTargetConfig, where: string): RouterEndpoint {
    const tls =
      t.tls === false
        ? false
        : t.tls === true
          ? { insecureSkipVerify: false }
          : {
              insecureSkipVerify: t.tls.insecure_skip_verify,
              ...(t.tls.ca_file ? { caFile: resolvePath(this.config.baseDir, t.tls.ca_file) } : {}),
              ...(t.tls.server_name ? { serverName: t.tls.server_name } : {}),
            };
    return {
      name: t.name,
      host: t.host,
      port: t.port ?? (tls ? 8729 : 8728),
      username: t.username,
      password: resolveSecret(t.password, `${where}.password`, this.config.baseDir),
      tls,
      timeoutMs: t.timeout ?? this.config.default_timeout,
      encoding: t.encoding,
    };
  }

  private routerOsModule(
    name: string,
  ): { collectors: RouterOsCollector[]; options: RouterOsModuleOptions } | undefined {
    const module = this.config.modules[name];
    if (!module || module.type !== 'routeros') return undefined;
    const m = module as RouterOsModuleConfig;
    const names =
      m.collectors ?? [...ROUTEROS_COLLECTORS.values()].filter((c) => c.defaultEnabled).map((c) => c.name);
    const collectors = names
      .filter((n) => !m.exclude.includes(n))
      .map((n) => ROUTEROS_COLLECTORS.get(n) as RouterOsCollector);
    return {
      collectors,
      options: {
        pppSessionDetail: m.ppp_session_detail,
        pppSessionLimit: m.ppp_session_limit,
        dynamicQueues: m.dynamic_queues,
      },
    };
  }

  /** GET /probe?target=&module= */
  async probe(
    targetName: string,
    moduleName: string | undefined,
    scrape: ScrapeContext = {},
  ): Promise<{ status: number; body: string; contentType: string }> {
    const router = this.targets.routers.find((t) => t.name === targetName);
    if (router) {
      const moduleKey = moduleName ?? router.module;
      const module = this.routerOsModule(moduleKey);
      const endpoint = this.endpoints.get(router.name);
      if (!module || !endpoint)
        return {
          status: 400,
          body: `unknown module '${moduleKey}' for RouterOS target '${targetName}'\n`,
          contentType: 'text/plain',
        };
      this.metrics.probes.inc({ module: moduleKey });
      // Bounded concurrency: a burst of scrapes (Prometheus restarting, all targets due at once) waits in
      // line instead of holding every router's rows in memory at the same time.
      const result = await this.scrapeSlots.run(() =>
        scrapeRouter(this.connections, endpoint, module.collectors, module.options),
      );
      this.metrics.requests.inc({ target: router.name }, result.requests);
      for (const run of result.runs) {
        this.metrics.scrapeDuration.set(
          { target: router.name, collector: run.collector },
          run.durationSeconds,
        );
        this.metrics.scrapeSuccess.set(
          { target: router.name, collector: run.collector },
          run.success ? 1 : 0,
        );
        if (run.error)
          this.metrics.errors.inc({ target: router.name, protocol: 'routeros', reason: run.error.reason });
      }
      if (result.failure) {
        this.options.logger.warn(
          { event: 'scrape_failed', target: router.name, reason: result.failure },
          'router scrape failed',
        );
      } else this.commandFailures.report(router.name, result.commands);
      return { status: 200, body: encodeText(result.families), contentType: TEXT_CONTENT_TYPE };
    }
    const probe = this.targets.probes.find((t) => t.name === targetName);
    if (probe) {
      if (moduleName !== undefined && moduleName !== 'icmp' && moduleName !== 'tcp') {
        return {
          status: 400,
          body: `module '${moduleName}' does not apply to probe target '${targetName}' (use icmp or tcp)\n`,
          contentType: 'text/plain',
        };
      }
      this.metrics.probes.inc({ module: probe.protocol });
      // Measured continuously in the background; a scrape only reads the counters.
      const families = this.probes.families(probe.name) ?? [];
      return { status: 200, body: encodeText(families), contentType: TEXT_CONTENT_TYPE };
    }
    const snmp = this.targets.snmp.find((t) => t.name === targetName);
    if (snmp) {
      const moduleKey = moduleName ?? snmp.module;
      const modules = resolveSnmpModules(moduleKey, this.config.modules as Record<string, unknown>);
      if (!modules)
        return {
          status: 400,
          body: `unknown SNMP module '${moduleKey}' for target '${targetName}'\n`,
          contentType: 'text/plain',
        };
      const where = `targets.snmp (${snmp.name})`;
      const target = snmpTargetFromConfig(
        snmp,
        {
          community:
            snmp.community === undefined
              ? undefined
              : resolveSecret(snmp.community, `${where}.community`, this.config.baseDir),
          authKey:
            snmp.auth_key === undefined
              ? undefined
              : resolveSecret(snmp.auth_key, `${where}.auth_key`, this.config.baseDir),
          privKey:
            snmp.priv_key === undefined
              ? undefined
              : resolveSecret(snmp.priv_key, `${where}.priv_key`, this.config.baseDir),
        },
        this.config.default_timeout,
      );
      this.metrics.probes.inc({ module: moduleKey });
      // an HA pair's overlapping scrapes of one device share one walk
      const result = await this.snmpScrapes.scrape(`${snmp.name}\0${moduleKey}`, target, modules, {
        signal: scrape.signal,
        deadlineMs: scrapeDeadlineMs(scrape.timeoutHeader),
      });
      for (const run of result.runs) {
        this.metrics.scrapeDuration.set({ target: snmp.name, collector: run.module }, run.durationSeconds);
        this.metrics.scrapeSuccess.set({ target: snmp.name, collector: run.module }, run.success ? 1 : 0);
      }
      if (result.failure) {
        this.metrics.errors.inc({ target: snmp.name, protocol: 'snmp', reason: result.failure });
        this.options.logger.warn(
          // net-snmp's messages may quote a community: the reason and counts only
          { event: 'scrape_failed', target: snmp.name, reason: result.failure, requests: result.requests },
          'SNMP scrape failed',
        );
      }
      return { status: 200, body: encodeText(result.families), contentType: TEXT_CONTENT_TYPE };
    }
    return {
      status: 400,
      body: `unknown target '${targetName}': not in the configuration or any target file\n`,
      contentType: 'text/plain',
    };
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://exporter');
    const send = (status: number, body: string, contentType = 'text/plain; charset=utf-8'): void => {
      res.writeHead(status, { 'content-type': contentType });
      res.end(body);
    };
    try {
      if (url.pathname === '/probe' && req.method === 'GET') {
        const target = url.searchParams.get('target');
        if (!target) return send(400, "missing 'target' parameter\n");
        this.refreshTargetFiles();
        // A client that hangs up stops the scrape; its own timeout sets the scrape's deadline.
        const hangUp = new AbortController();
        res.once('close', () => {
          if (!res.writableFinished) hangUp.abort();
        });
        const timeoutHeader = req.headers['x-prometheus-scrape-timeout-seconds'];
        const result = await this.probe(target, url.searchParams.get('module') ?? undefined, {
          signal: hangUp.signal,
          ...(typeof timeoutHeader === 'string' ? { timeoutHeader } : {}),
        });
        if (hangUp.signal.aborted) return;
        return send(result.status, result.body, result.contentType);
      }
      if (url.pathname === '/metrics' && req.method === 'GET') {
        return send(200, await this.metrics.registry.metrics(), this.metrics.registry.contentType);
      }
      if (url.pathname === '/-/healthy') return send(200, 'OK\n');
      if (url.pathname === '/-/ready') return this.ready ? send(200, 'OK\n') : send(503, 'starting\n');
      if (url.pathname === '/-/reload' && (req.method === 'POST' || req.method === 'PUT')) {
        const result = this.reload();
        return result.ok ? send(200, 'OK\n') : send(400, `${result.error}\n`);
      }
      if (url.pathname === '/') {
        return send(
          200,
          '<html><body><h1>ispmon exporter</h1><p><a href="/metrics">/metrics</a> · /probe?target=NAME&amp;module=MODULE</p></body></html>',
          'text/html',
        );
      }
      return send(404, 'not found\n');
    } catch (err) {
      this.options.logger.error(
        { event: 'request_failed', path: url.pathname, error: (err as Error).message },
        'request failed',
      );
      return send(500, 'internal error\n');
    }
  }

  async listen(address = this.config.listen): Promise<string> {
    const idx = address.lastIndexOf(':');
    const host = address.slice(0, idx) || '0.0.0.0';
    const port = Number(address.slice(idx + 1));
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, host, () => resolve());
    });
    const a = this.server.address();
    const bound = typeof a === 'object' && a ? `${host}:${a.port}` : address;
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
    const server = this.server;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.race([closed, new Promise((r) => setTimeout(r, graceMs).unref())]);
      server.closeAllConnections();
    }
    await this.connections.closeAll();
    this.probes.stop();
  }
}

/** A counting semaphore: at most `size` tasks run at once, the rest wait in arrival order. */
export class Slots {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      return await task();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }
}
