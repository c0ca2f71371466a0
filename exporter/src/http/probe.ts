// GET /probe?target=&module=: finds the target (RouterOS router, ICMP/TCP probe, SNMP device) in the
// current targets and answers with that target's metrics in the text exposition format.
import type { RouterEndpoint, RouterPool } from '@ispmon/routeros';
import type { Logger } from 'pino';
import {
  ROUTEROS_COLLECTORS,
  type RouterOsCollector,
  type RouterOsModuleOptions,
} from '../collectors/routeros/index.js';
import { scrapeRouter } from '../collectors/routeros/engine.js';
import type { CommandFailureLog } from '../collectors/routeros/command-failures.js';
import { resolveSecret, type LoadedConfig } from '../config/load.js';
import type { RouterOsModuleConfig, TargetsConfig } from '../config/schema.js';
import { encodeText, TEXT_CONTENT_TYPE } from '../exposition.js';
import { resolveSnmpModules, snmpTargetFromConfig } from '../collectors/snmp/config.js';
import { scrapeDeadlineMs } from '../collectors/snmp/engine.js';
import { SharedSnmpScrapes } from '../collectors/snmp/shared.js';
import type { ProbeScheduler } from '../probes/measure.js';
import { hashmod, measuresTarget, type Shard } from '../probes/shard.js';
import type { SelfMetrics } from '../self-metrics.js';
import type { Slots } from '../slots.js';

/** What a /probe request brings besides target and module. */
export interface ScrapeContext {
  /** Aborted when the HTTP client hangs up. */
  signal?: AbortSignal;
  /** Prometheus's `X-Prometheus-Scrape-Timeout-Seconds`. */
  timeoutHeader?: string;
}

export interface ProbeResult {
  status: number;
  body: string;
  contentType: string;
}

/** The running configuration the dispatcher reads on every request (it changes on reload). */
export interface ProbeState {
  config: LoadedConfig;
  targets: TargetsConfig;
  endpoints: ReadonlyMap<string, RouterEndpoint>;
}

export interface ProbeDeps {
  logger: Logger;
  metrics: SelfMetrics;
  connections: RouterPool;
  probes: ProbeScheduler;
  /** This replica's shard of the client links (none: all). */
  shard?: Shard;
  commandFailures: CommandFailureLog;
  scrapeSlots: Slots;
  state: () => ProbeState;
}

export class ProbeDispatcher {
  private readonly snmpScrapes = new SharedSnmpScrapes();

  constructor(private readonly deps: ProbeDeps) {}

  async probe(
    targetName: string,
    moduleName: string | undefined,
    scrape: ScrapeContext = {},
  ): Promise<ProbeResult> {
    const { targets } = this.deps.state();
    const router = targets.routers.find((t) => t.name === targetName);
    if (router) return this.router(router.name, moduleName ?? router.module);
    const probe = targets.probes.find((t) => t.name === targetName);
    if (probe) {
      const { shard } = this.deps;
      if (shard && !measuresTarget(shard, probe.name))
        return {
          status: 421,
          body: `probe target '${probe.name}' is measured by the replica of shard ${hashmod(probe.name, shard.count)}/${shard.count}; this one is ${shard.index}/${shard.count} (ISPMON_EXPORTER_SHARD)\n`,
          contentType: 'text/plain',
        };
      return this.measured(probe.name, probe.protocol, moduleName);
    }
    const snmp = targets.snmp.find((t) => t.name === targetName);
    if (snmp) return this.snmp(snmp, moduleName ?? snmp.module, scrape);
    return {
      status: 400,
      body: `unknown target '${targetName}': not in the configuration or any target file\n`,
      contentType: 'text/plain',
    };
  }

  private routerOsModule(
    config: LoadedConfig,
    name: string,
  ): { collectors: RouterOsCollector[]; options: RouterOsModuleOptions } | undefined {
    const module = config.modules[name];
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

  private async router(name: string, moduleKey: string): Promise<ProbeResult> {
    const { metrics, logger } = this.deps;
    const state = this.deps.state();
    const module = this.routerOsModule(state.config, moduleKey);
    const endpoint = state.endpoints.get(name);
    if (!module || !endpoint)
      return {
        status: 400,
        body: `unknown module '${moduleKey}' for RouterOS target '${name}'\n`,
        contentType: 'text/plain',
      };
    metrics.probes.inc({ module: moduleKey });
    // Bounded concurrency: a burst of scrapes (Prometheus restarting, all targets due at once) waits in
    // line instead of holding every router's rows in memory at the same time.
    const result = await this.deps.scrapeSlots.run(() =>
      scrapeRouter(this.deps.connections, endpoint, module.collectors, module.options),
    );
    metrics.requests.inc({ target: name }, result.requests);
    for (const run of result.runs) {
      metrics.scrapeDuration.set({ target: name, collector: run.collector }, run.durationSeconds);
      metrics.scrapeSuccess.set({ target: name, collector: run.collector }, run.success ? 1 : 0);
      if (run.error) metrics.errors.inc({ target: name, protocol: 'routeros', reason: run.error.reason });
    }
    if (result.failure) {
      logger.warn({ event: 'scrape_failed', target: name, reason: result.failure }, 'router scrape failed');
    } else this.deps.commandFailures.report(name, result.commands);
    return { status: 200, body: encodeText(result.families), contentType: TEXT_CONTENT_TYPE };
  }

  private measured(name: string, protocol: string, moduleName: string | undefined): ProbeResult {
    if (moduleName !== undefined && moduleName !== 'icmp' && moduleName !== 'tcp') {
      return {
        status: 400,
        body: `module '${moduleName}' does not apply to probe target '${name}' (use icmp or tcp)\n`,
        contentType: 'text/plain',
      };
    }
    this.deps.metrics.probes.inc({ module: protocol });
    // Measured continuously in the background; a scrape only reads the counters.
    const families = this.deps.probes.families(name) ?? [];
    return { status: 200, body: encodeText(families), contentType: TEXT_CONTENT_TYPE };
  }

  private async snmp(
    snmp: TargetsConfig['snmp'][number],
    moduleKey: string,
    scrape: ScrapeContext,
  ): Promise<ProbeResult> {
    const { metrics, logger } = this.deps;
    const { config } = this.deps.state();
    const modules = resolveSnmpModules(moduleKey, config.modules as Record<string, unknown>);
    if (!modules)
      return {
        status: 400,
        body: `unknown SNMP module '${moduleKey}' for target '${snmp.name}'\n`,
        contentType: 'text/plain',
      };
    const where = `targets.snmp (${snmp.name})`;
    const secret = (
      value: Parameters<typeof resolveSecret>[0] | undefined,
      field: string,
    ): string | undefined =>
      value === undefined ? undefined : resolveSecret(value, `${where}.${field}`, config.baseDir);
    const target = snmpTargetFromConfig(
      snmp,
      {
        community: secret(snmp.community, 'community'),
        authKey: secret(snmp.auth_key, 'auth_key'),
        privKey: secret(snmp.priv_key, 'priv_key'),
      },
      config.default_timeout,
    );
    metrics.probes.inc({ module: moduleKey });
    // an HA pair's overlapping scrapes of one device share one walk
    const result = await this.snmpScrapes.scrape(`${snmp.name}\0${moduleKey}`, target, modules, {
      signal: scrape.signal,
      deadlineMs: scrapeDeadlineMs(scrape.timeoutHeader),
    });
    for (const run of result.runs) {
      metrics.scrapeDuration.set({ target: snmp.name, collector: run.module }, run.durationSeconds);
      metrics.scrapeSuccess.set({ target: snmp.name, collector: run.module }, run.success ? 1 : 0);
    }
    if (result.failure) {
      metrics.errors.inc({ target: snmp.name, protocol: 'snmp', reason: result.failure });
      logger.warn(
        // net-snmp's messages may quote a community: the reason and counts only
        { event: 'scrape_failed', target: snmp.name, reason: result.failure, requests: result.requests },
        'SNMP scrape failed',
      );
    }
    return { status: 200, body: encodeText(result.families), contentType: TEXT_CONTENT_TYPE };
  }
}
