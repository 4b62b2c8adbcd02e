# callwatch: the SIP/RTP media server, as a container image.
#
#   docker build -t callwatch .
#   docker compose up -d            (docker-compose.yml: callwatch, Prometheus, Grafana)
#
# Build stage: the full dependency set compiles the TypeScript to dist/, and npm ci's
# install script compiles the native packet io addon (native/) against this Node's headers.
FROM node:20-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends g++ make python3 \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json binding.gyp ./
COPY scripts/build-native.mjs ./scripts/
COPY native ./native
RUN npm ci --no-audit --no-fund && test -f build/Release/callwatch_native.node
COPY tsconfig.json tsconfig.build.json ./
COPY sip ./sip
COPY media ./media
COPY src ./src
COPY web ./web
COPY scripts/build-phone.mjs scripts/build-app.mjs ./scripts/
RUN npm run build

# Runtime stage: production dependencies and the compiled server only.
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/build-native.mjs ./scripts/
# npm ci's install script would build the addon again without a compiler: it is copied instead.
ENV CALLWATCH_SKIP_NATIVE_BUILD=1
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/build/Release/callwatch_native.node ./build/Release/
COPY --from=build /app/dist ./dist
# The embedded demo config, used unless CALLWATCH_CONFIG (or --config) names another file,
# e.g. one mounted at /etc/callwatch/callwatch.yaml.
COPY config ./config
# Recordings and the audit log are written relative to the working directory: owned by the
# unprivileged user the server runs as, and volumes so they outlive the container.
RUN mkdir -p /app/recordings /app/audit && chown node:node /app/recordings /app/audit
VOLUME ["/app/recordings", "/app/audit"]
USER node
# SIP (UDP and TCP), HTTP (/metrics, /healthz, REST API) and the default RTP range.
EXPOSE 5060/udp 5060/tcp 8080/tcp 20000-29999/udp
ENTRYPOINT ["node", "dist/src/cli.js"]
