# Coffer API + admin console, for docker-compose.yml (a development stack, not a hardened
# production image).
FROM node:20-bookworm-slim

WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1

# Dependencies first, so the layer is reused until the lockfile changes. npm ci runs the
# postinstall (prisma generate), which needs the schema, the Prisma config and scripts/.
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts ./scripts
RUN npm ci

COPY . .
# Build the console into the image: the server then finds web/.next/BUILD_ID and starts
# serving it at once instead of building at runtime.
RUN npm run web:build \
  && mkdir -p .coffer web/.next/cache \
  && chown -R node:node .coffer web/.next/cache

# Only after the build: NODE_ENV=production during `npm ci` would skip the dev dependencies
# (TypeScript, Prisma CLI) that the build steps above need.
ENV NODE_ENV=production
USER node
EXPOSE 4000
CMD ["npm", "start"]
