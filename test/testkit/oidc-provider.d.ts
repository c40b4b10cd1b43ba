// oidc-provider 9.x ships no type declarations. This is the small subset the test harness
// (test/testkit/oauthServer.ts) uses; extend it when a test needs more.
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  /** What an adapter stores for one model instance (JSON-serialisable). */
  export interface AdapterPayload {
    [key: string]: unknown;
    grantId?: string;
    uid?: string;
    userCode?: string;
    consumed?: unknown;
  }

  /** https://github.com/panva/node-oidc-provider/blob/main/example/my_adapter.js */
  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  /** The part of the Koa context a middleware in front of the provider reads. */
  export interface ProviderContext {
    method: string;
    path: string;
    status: number;
    oidc?: { route?: string; params?: Record<string, unknown> };
  }

  export type ProviderMiddleware = (
    ctx: ProviderContext,
    next: () => Promise<void>,
  ) => Promise<void> | void;

  export interface ClientLike {
    clientId: string;
    grantTypeAllowed(grantType: string): boolean;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  export interface Configuration {
    [key: string]: unknown;
    adapter?: (model: string) => Adapter;
    clients?: Record<string, unknown>[];
    cookies?: { keys?: string[] };
    jwks?: { keys: Record<string, unknown>[] };
    features?: Record<string, { enabled: boolean; [option: string]: unknown }>;
    scopes?: string[];
    ttl?: Record<string, number | ((...args: unknown[]) => number)>;
    findAccount?: (ctx: unknown, sub: string, token?: unknown) => Promise<Account | undefined>;
    issueRefreshToken?: (ctx: unknown, client: ClientLike, code: unknown) => Promise<boolean>;
    rotateRefreshToken?: boolean | ((ctx: unknown) => boolean | Promise<boolean>);
    pkce?: { required?: (ctx: unknown, client: ClientLike) => boolean };
  }

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    /** A Node request listener (the provider is a Koa application). */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    /** Adds a Koa middleware that runs in front of the provider's own routes. */
    use(middleware: ProviderMiddleware): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  export default Provider;
}
