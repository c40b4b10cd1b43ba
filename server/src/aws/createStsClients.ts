import { STSClient } from "@aws-sdk/client-sts";

export type StsClientsConfig = {
  /** AWS_STS_ENDPOINT: a VPC endpoint, a FIPS endpoint or a local emulator; all regions use it. */
  endpoint?: string | undefined;
};

// Resolution waits on STS inside a platform's request: fail fast and let the SDK's
// standard retries (3 attempts) absorb a blip rather than hang on a dead connection.
const CONNECTION_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 5_000;
// Regions come from tenants' secrets; the cache must not grow with whatever they store.
// There are fewer than 40 real regions, so beyond this a client is built per call.
const MAX_CACHED_REGIONS = 64;

/**
 * The only place STS clients are constructed (called from main.ts). One client per region,
 * reused across resolutions; credentials come from the SDK's default provider chain
 * (environment, web identity, ECS/EC2 role), i.e. Coffer's own principal.
 */
export function createStsClients(config: StsClientsConfig): (region: string) => STSClient {
  const clients = new Map<string, STSClient>();
  const build = (region: string) =>
    new STSClient({
      region,
      ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
      requestHandler: {
        connectionTimeout: CONNECTION_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
      },
    });
  return (region) => {
    const cached = clients.get(region);
    if (cached) return cached;
    const client = build(region);
    if (clients.size < MAX_CACHED_REGIONS) clients.set(region, client);
    return client;
  };
}
