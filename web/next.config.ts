import path from "node:path";
import { fileURLToPath } from "node:url";
import type { NextConfig } from "next";

// The console has no package.json or lockfile of its own: it uses the repository's
// node_modules, so both Turbopack and output tracing must treat the repository root as the
// project root (otherwise Next guesses, and warns about, the workspace root).
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const nextConfig: NextConfig = {
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
  // The console is served by the API process (same origin); it never needs to advertise Next.
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
