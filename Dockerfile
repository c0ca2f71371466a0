# One build for every ispmon service; each service is a target:
#   docker build --target exporter -t ispmon/exporter .
# Node.js 24.21.0 (the version the tests run, from the npm `node` package) on Debian 12, as the tests.
# Images run as the unprivileged `node` user.

FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY local-servers/package.json local-servers/
COPY testkit/package.json testkit/
COPY service-kit/package.json service-kit/
COPY inventory/package.json inventory/
COPY lab/package.json lab/
COPY routeros/package.json routeros/
COPY exporter/package.json exporter/
COPY alert-router/package.json alert-router/
COPY billing/package.json billing/
COPY demo/package.json demo/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY local-servers/ local-servers/
COPY inventory/ inventory/
COPY lab/ lab/
COPY routeros/ routeros/
COPY exporter/ exporter/
COPY alert-router/ alert-router/
COPY billing/ billing/
COPY service-kit/ service-kit/
COPY demo/ demo/
RUN npx tsc -b local-servers service-kit inventory lab routeros exporter alert-router billing demo && npm prune --omit=dev

FROM node:24.21.0-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules/ node_modules/

FROM runtime AS exporter
# ICMP probes use fping (CAP_NET_RAW is granted to the binary by the package).
RUN apt-get update && apt-get install -y --no-install-recommends fping && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/service-kit/ service-kit/
COPY --from=build /app/routeros/ routeros/
COPY --from=build /app/exporter/ exporter/
USER node
EXPOSE 9436
HEALTHCHECK CMD node -e "fetch('http://127.0.0.1:9436/-/healthy').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "exporter/dist/main.js"]

FROM runtime AS alert-router
COPY --from=build /app/service-kit/ service-kit/
COPY --from=build /app/alert-router/ alert-router/
USER node
EXPOSE 8080
HEALTHCHECK CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "alert-router/dist/main.js"]

FROM runtime AS lab
# The device lab (RouterOS API simulator) for demos; never point it at production.
COPY --from=build /app/local-servers/ local-servers/
COPY --from=build /app/inventory/ inventory/
COPY --from=build /app/lab/ lab/
# The inventory volume mounts here; created owned by `node` so a new volume starts writable.
RUN mkdir -p /var/lib/ispmon/inventory && chown node:node /var/lib/ispmon/inventory
USER node
# Five simulated routers on 8728-8732 and the control API on 9900; the SNMP lab and probe targets need
# snmpsim and network namespaces, so they stay out of this image.
EXPOSE 8728-8732 9900
CMD ["node", "lab/dist/cli.js", "--routers", "5", "--base-port", "8728", "--control-port", "9900", "--host", "0.0.0.0", "--no-snmp", "--probes", "0", "--inventory", "/var/lib/ispmon/inventory", "--inventory-host", "lab"]

FROM runtime AS billing
# SLA PDFs are printed by Debian's Chromium through puppeteer-core (no browser download).
RUN apt-get update && apt-get install -y --no-install-recommends chromium fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
ENV CHROMIUM_PATH=/usr/bin/chromium
COPY --from=build /app/service-kit/ service-kit/
COPY --from=build /app/inventory/ inventory/
COPY --from=build /app/routeros/ routeros/
COPY --from=build /app/billing/ billing/
# The inventory volume mounts here; created owned by `node` so a new volume starts writable for billing.
RUN mkdir -p /var/lib/ispmon/inventory && chown node:node /var/lib/ispmon/inventory
USER node
EXPOSE 8090
HEALTHCHECK CMD node -e "fetch('http://127.0.0.1:8090/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "billing/dist/main.js"]

FROM node:24.21.0-bookworm-slim AS notify-console
# The console channel of deploy/alert-router/alert-router.yml: Node.js built-ins only.
WORKDIR /app
COPY --from=build /app/demo/package.json demo/
COPY --from=build /app/demo/dist/console-channel.js demo/dist/
USER node
EXPOSE 9000
CMD ["node", "demo/dist/console-channel.js"]
