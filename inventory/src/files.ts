// Inventory files are read by the exporter and Prometheus while they are written: each file is
// replaced atomically (write beside it, then rename), and only when its content changes, so readers
// never see half a file and do not reload for nothing.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/** Writes `content` to `path` atomically unless it is already there; true when it wrote. */
export function writeIfChanged(path: string, content: string, mode = 0o644): boolean {
  try {
    if (readFileSync(path, 'utf8') === content) return false;
  } catch {
    // missing or unreadable: write it
  }
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, path);
  return true;
}
