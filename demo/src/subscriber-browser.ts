// A subscriber's browser behind a simulated router: the lab's subscriber proxy (lab/src/routeros/
// subscriber-proxy.ts), so every request sent through it is routed by the router's firewall (dst-nat,
// forward filter) as coming from the subscriber's PPP address, for real: the address is in 127.0.0.0/8
// and the connection is sent from it. One web site stands for the internet (news.example, resolved by the
// router's DNS to a documentation address that the lab maps to a loopback server), so a newcomer sees
// where a request goes: to the site, or, while isolated, to billing's page.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSubscriberProxy, type RouterModel, type SubscriberProxy } from '@ispmon/lab';

/** The site on the lab's internet: its name, and the address the router's DNS gives it (RFC 5737). */
export const SITE = { host: 'news.example', address: '198.51.100.20' } as const;
/** The resolver the subscriber asks (udp/53 goes through the router's forward chain, as the garden allows). */
const DNS_SERVER = '8.8.8.8';

export interface SubscriberBrowser {
  /** An HTTP proxy: `curl -x <proxy> http://news.example/` is a request from the subscriber. */
  proxy: string;
  /** The site's URL as the subscriber types it. */
  site: string;
  log: SubscriberProxy['log'];
  close(): Promise<void>;
}

export async function startSubscriberBrowser(
  model: RouterModel,
  o: { address: string; provider: string },
): Promise<SubscriberBrowser> {
  const site: Server = createServer((req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(
        `<!doctype html><title>${SITE.host}</title><h1>${SITE.host}: today's news</h1><p>Served to ${req.socket.remoteAddress ?? '?'} via ${o.provider}.</p>`,
      );
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  model.firewall.dns.set(SITE.host, [SITE.address]);
  const internet = new Map([[`${SITE.address}:80`, `127.0.0.1:${(site.address() as AddressInfo).port}`]]);
  const proxy = await startSubscriberProxy(model, { src: o.address, internet, dnsServer: DNS_SERVER });
  return {
    proxy: proxy.url,
    site: `http://${SITE.host}/`,
    log: proxy.log,
    close: async () => {
      await proxy.close();
      site.closeAllConnections();
      await new Promise<void>((r) => site.close(() => r()));
    },
  };
}
