// Target files: which files the configuration's `target_files` patterns name now, which of them changed
// since the last look, and the merged target list (static targets first, then each file's).
import { globSync, readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { Logger } from 'pino';
import { parseTargetsFile, targetFileStamp, validateTargets, type LoadedConfig } from '../config/load.js';
import type { TargetsConfig } from '../config/schema.js';

interface TargetFileState {
  stamp: string;
  targets: TargetsConfig;
}

const empty = (): TargetsConfig => ({ routers: [], snmp: [], probes: [] });

export class TargetFiles {
  private readonly files = new Map<string, TargetFileState>();

  constructor(private readonly logger: Logger) {}

  /** Forgets every file, so the next refresh reads them all again (a reload). */
  clear(): void {
    this.files.clear();
  }

  /**
   * Re-reads target files that changed and returns the merged, validated targets, or undefined when
   * nothing changed. A broken file keeps its last good content (and is logged); with `strict`, a file
   * that was never read successfully throws instead, and the merge is returned even if nothing changed.
   */
  refresh(config: LoadedConfig, strict = false): TargetsConfig | undefined {
    let changed = strict;
    const files = new Set(
      config.target_files.flatMap((pattern) =>
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
        this.files.set(file, { stamp, targets: empty() });
        changed = true;
        continue;
      }
      try {
        const targets = parseTargetsFile(readFileSync(file, 'utf8'), file);
        validateTargets(targets, config, file);
        this.files.set(file, { stamp, targets });
        changed = true;
        this.logger.info(
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
        this.logger.error(
          { event: 'target_file_invalid', file, error: (err as Error).message },
          'target file invalid; keeping its previous targets',
        );
        if (known) known.stamp = stamp;
      }
    }
    if (!changed) return undefined;
    const merged: TargetsConfig = {
      routers: [...config.staticTargets.routers],
      snmp: [...config.staticTargets.snmp],
      probes: [...config.staticTargets.probes],
    };
    for (const state of this.files.values()) {
      merged.routers.push(...state.targets.routers);
      merged.snmp.push(...state.targets.snmp);
      merged.probes.push(...state.targets.probes);
    }
    validateTargets(merged, config, 'targets (config and target files)');
    return merged;
  }
}
