// A router target as configured → the connection settings the RouterOS client needs (TLS, port, secret).
import { resolve as resolvePath } from 'node:path';
import type { RouterEndpoint } from '@ispmon/routeros';
import { resolveSecret, type LoadedConfig } from '../config/load.js';
import type { RouterTargetConfig } from '../config/schema.js';

export function routerEndpoint(t: RouterTargetConfig, config: LoadedConfig, where: string): RouterEndpoint {
  const tls =
    t.tls === false
      ? false
      : t.tls === true
        ? { insecureSkipVerify: false }
        : {
            insecureSkipVerify: t.tls.insecure_skip_verify,
            ...(t.tls.ca_file ? { caFile: resolvePath(config.baseDir, t.tls.ca_file) } : {}),
            ...(t.tls.server_name ? { serverName: t.tls.server_name } : {}),
          };
  return {
    name: t.name,
    host: t.host,
    port: t.port ?? (tls ? 8729 : 8728),
    username: t.username,
    password: resolveSecret(t.password, `${where}.password`, config.baseDir),
    tls,
    timeoutMs: t.timeout ?? config.default_timeout,
    encoding: t.encoding,
  };
}
