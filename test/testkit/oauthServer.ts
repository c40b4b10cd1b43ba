import { generateKeyPair, randomBytes, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Adapter, AdapterPayload, ClientLike, Configuration, Provider } from "oidc-provider";
import type * as OidcProviderModule from "oidc-provider";

/**
 * A real OAuth 2.0 / OpenID Connect authorization server for tests: oidc-provider 9 over
 * plain http on 127.0.0.1 (a free port picked by the OS), with an in-memory store.
 *
 * One confidential client is registered:
 * - authentication `client_secret_basic` (oidc-provider also accepts `client_secret_post`
 *   for a client registered with either method),
 * - grant types `authorization_code`, `refresh_token`, `client_credentials`,
 *   response type `code`, PKCE (S256) required,
 * - scopes `openid offline_access read write`.
 *
 * Behaviour worth knowing:
 * - A refresh token is issued on every authorization-code exchange for this client
 *   (`issueRefreshToken`), even without `offline_access` + `prompt=consent`.
 * - Refresh tokens rotate on every use (`rotateRefreshToken: true`; oidc-provider's default
 *   would NOT rotate for a confidential client). Presenting an already-rotated refresh token
 *   answers `invalid_grant` and revokes the whole grant (the provider's reuse detection).
 * - Access tokens are opaque and live `accessTokenTtlSeconds` (default 60), for both the
 *   authorization-code/refresh and the client-credentials grant.
 * - The redirect URI can be given at start or changed later with `setRedirectUri` (the client
 *   lives in the provider's adapter, which the provider reads on every request), because the
 *   app's callback URL is often only known after the app has started.
 */
export interface OAuthServer {
  /** `http://127.0.0.1:<port>`; discovery is at `${issuer}/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly revocationEndpoint: string;
  readonly jwksUri: string;
  readonly accessTokenTtlSeconds: number;
  /** The registered confidential client; `redirectUri` follows `setRedirectUri`. */
  readonly client: {
    readonly clientId: string;
    readonly clientSecret: string;
    readonly redirectUri: string;
  };
  /** Replaces the client's only redirect URI (effective for the next request). */
  setRedirectUri(uri: string): void;
  /**
   * Plays the browser: follows the authorization URL through the login and consent pages
   * (a fresh cookie jar each call, so each call is a new browser session) and returns the
   * final redirect to the client's redirect URI (`?code=…&state=…&iss=…`, or `?error=…`)
   * without requesting it. Throws when the provider shows an error page instead.
   */
  approve(authorizationUrl: string, user?: { login: string }): Promise<string>;
  /**
   * Revokes every refresh token issued so far through the revocation endpoint (with the
   * client's credentials). oidc-provider then revokes the whole grant, so the access tokens
   * of those grants die too. Resolves with the number of refresh tokens revoked.
   */
  revokeRefreshTokens(): Promise<number>;
  /**
   * Holds every token endpoint request unanswered (whatever its grant) until `release()`,
   * as a slow authorization server would: callers that race a refresh then overlap for as
   * long as the test needs. `held()` counts the requests that arrived while holding.
   */
  holdTokenRequests(): { held(): number; release(): void };
  /** Token endpoint requests so far (successful or not), by `grant_type`. */
  tokenRequests(): {
    authorization_code: number;
    refresh_token: number;
    client_credentials: number;
  };
  close(): Promise<void>;
}

export interface OAuthServerOptions {
  /** Lifetime of access tokens (default 60 s). */
  accessTokenTtlSeconds?: number;
  /**
   * The claims of the account a login names (scopes `email`, `profile`). By default a login
   * that looks like an address is that address, verified; anything else has no email.
   */
  claims?: (login: string) => Record<string, unknown>;
  /** The client's redirect URI (default `http://127.0.0.1/oauth/callback`, a placeholder). */
  redirectUri?: string;
}

const DEFAULT_REDIRECT_URI = "http://127.0.0.1/oauth/callback";
const SCOPES = ["openid", "offline_access", "email", "profile", "read", "write"];
const defaultClaims = (login: string): Record<string, unknown> =>
  login.includes("@") ? { email: login, email_verified: true, name: login.split("@")[0] } : {};
const COUNTED_GRANTS = ["authorization_code", "refresh_token", "client_credentials"] as const;
type CountedGrant = (typeof COUNTED_GRANTS)[number];

export async function startOAuthServer(options: OAuthServerOptions = {}): Promise<OAuthServer> {
  const accessTokenTtlSeconds = options.accessTokenTtlSeconds ?? 60;
  if (!Number.isInteger(accessTokenTtlSeconds) || accessTokenTtlSeconds < 1) {
    throw new Error(
      `accessTokenTtlSeconds must be a positive integer, got ${accessTokenTtlSeconds}`,
    );
  }
  const client = {
    clientId: "coffer-test-client",
    clientSecret: randomBytes(24).toString("base64url"),
    redirectUri: checkRedirectUri(options.redirectUri ?? DEFAULT_REDIRECT_URI),
  };
  const store = new MemoryStore();
  const putClient = () =>
    store.set(`Client:${client.clientId}`, {
      client_id: client.clientId,
      client_secret: client.clientSecret,
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: ["authorization_code", "refresh_token", "client_credentials"],
      response_types: ["code"],
      redirect_uris: [client.redirectUri],
      scope: SCOPES.join(" "),
    });
  putClient();

  const counts: Record<CountedGrant, number> = {
    authorization_code: 0,
    refresh_token: 0,
    client_credentials: 0,
  };

  let hold: { count: number; released: Promise<void>; release: () => void } | undefined;
  // oidc-provider's default route for the token endpoint (discovery below confirms it).
  const tokenPath = "/token";

  // Listen first: the issuer must contain the port the OS picked.
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let discovery: Record<string, unknown>;
  try {
    const Provider = await loadProvider();
    const configuration: Configuration = {
      adapter: (model: string) => new MemoryAdapter(model, store),
      cookies: { keys: [randomBytes(32).toString("base64url")] },
      jwks: { keys: [await signingKey()] },
      scopes: SCOPES,
      features: {
        devInteractions: { enabled: true },
        clientCredentials: { enabled: true },
        revocation: {
          enabled: true,
          // The default policy (same rule) logs a "you SHOULD change it" notice.
          allowedPolicy: async (_ctx: unknown, c: ClientLike, token: { clientId?: string }) =>
            token.clientId === c.clientId,
        },
      },
      pkce: { required: () => true },
      // Every lifetime explicit: each default ttl function logs a notice when first used.
      ttl: {
        AccessToken: accessTokenTtlSeconds,
        ClientCredentials: accessTokenTtlSeconds,
        AuthorizationCode: 60,
        IdToken: 3600,
        Interaction: 3600,
        Session: 14 * 24 * 3600,
        Grant: 14 * 24 * 3600,
        RefreshToken: 14 * 24 * 3600,
      },
      issueRefreshToken: async (_ctx, c) => c.grantTypeAllowed("refresh_token"),
      rotateRefreshToken: true,
      claims: { email: ["email", "email_verified"], profile: ["name"] },
      findAccount: async (_ctx, sub) => ({
        accountId: sub,
        claims: () => ({ ...(options.claims ?? defaultClaims)(sub), sub }),
      }),
      // A plain error page (approve() quotes its text when the provider refuses a request).
      renderError: async (ctx: { type: string; body: unknown }, out: Record<string, unknown>) => {
        ctx.type = "html";
        ctx.body = `<!DOCTYPE html><html><body>${Object.entries(out)
          .map(([key, value]) => `<p>${key}: ${escapeHtml(String(value))}</p>`)
          .join("")}</body></html>`;
      },
    };
    const provider: Provider = withoutProviderWarnings(() => new Provider(issuer, configuration));
    provider.use(async (ctx, next) => {
      if (hold && ctx.method === "POST" && ctx.path === tokenPath) {
        hold.count++;
        await hold.released;
      }
      await next();
      // After the route ran, ctx.oidc.params holds the parsed token request (even on errors).
      const grantType = ctx.oidc?.route === "token" ? ctx.oidc.params?.grant_type : undefined;
      if (
        typeof grantType === "string" &&
        (COUNTED_GRANTS as readonly string[]).includes(grantType)
      ) {
        counts[grantType as CountedGrant]++;
      }
    });
    handler = provider.callback();
    discovery = (await (
      await fetch(`${issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  const endpoint = (name: string): string => {
    const value = discovery[name];
    if (typeof value !== "string") throw new Error(`discovery has no ${name}`);
    return value;
  };
  const revocationEndpoint = endpoint("revocation_endpoint");
  if (new URL(endpoint("token_endpoint")).pathname !== tokenPath) {
    await closeServer(server);
    throw new Error(`the token endpoint is not at ${tokenPath}`);
  }
  const issuerOrigin = new URL(issuer).origin;

  return {
    issuer,
    authorizationEndpoint: endpoint("authorization_endpoint"),
    tokenEndpoint: endpoint("token_endpoint"),
    revocationEndpoint,
    jwksUri: endpoint("jwks_uri"),
    accessTokenTtlSeconds,
    client,

    setRedirectUri(uri) {
      client.redirectUri = checkRedirectUri(uri);
      putClient();
    },

    async approve(authorizationUrl, user = { login: "test-user" }) {
      let url = new URL(authorizationUrl);
      if (url.origin !== issuerOrigin) {
        throw new Error(`approve: ${authorizationUrl} is not on the test issuer ${issuer}`);
      }
      const redirectTarget = withoutQuery(new URL(client.redirectUri));
      const jar = new CookieJar();
      let init: RequestInit = { method: "GET" };
      for (let step = 0; step < 20; step++) {
        const response = await fetch(url, {
          ...init,
          redirect: "manual",
          headers: { ...(init.headers as Record<string, string>), cookie: jar.header(url) },
        });
        jar.store(url, response.headers.getSetCookie());
        const location = response.headers.get("location");
        if (response.status >= 300 && response.status < 400 && location) {
          await response.body?.cancel();
          const next = new URL(location, url);
          if (next.origin !== issuerOrigin || withoutQuery(next) === redirectTarget) {
            return next.href;
          }
          url = next;
          init = { method: "GET" };
          continue;
        }
        const html = await response.text();
        const prompt = /name="prompt" value="(login|consent)"/.exec(html)?.[1];
        const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
        if (response.status !== 200 || !prompt || !action) {
          throw new Error(
            `approve: the provider answered HTTP ${response.status} at ${url.pathname}: ${pageText(html)}`,
          );
        }
        url = new URL(decodeEntities(action), url);
        const form =
          prompt === "login" ? { prompt, login: user.login, password: "any-password" } : { prompt };
        init = {
          method: "POST",
          body: new URLSearchParams(form).toString(),
          headers: { "content-type": "application/x-www-form-urlencoded" },
        };
      }
      throw new Error(`approve: too many redirects from ${authorizationUrl}`);
    },

    async revokeRefreshTokens() {
      const ids = store.ids("RefreshToken");
      const basic = Buffer.from(
        `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`,
      ).toString("base64");
      for (const token of ids) {
        const response = await fetch(revocationEndpoint, {
          method: "POST",
          headers: {
            authorization: `Basic ${basic}`,
            "content-type": "application/x-www-form-urlencoded",
          },
          body: new URLSearchParams({ token, token_type_hint: "refresh_token" }).toString(),
        });
        if (response.status !== 200) {
          throw new Error(`revocation answered HTTP ${response.status}: ${await response.text()}`);
        }
        await response.body?.cancel();
      }
      const left = store.ids("RefreshToken");
      if (left.length > 0) throw new Error(`${left.length} refresh token(s) survived revocation`);
      return ids.length;
    },

    holdTokenRequests() {
      if (hold) throw new Error("holdTokenRequests: already holding");
      let open!: () => void;
      const released = new Promise<void>((resolve) => (open = resolve));
      const current = {
        count: 0,
        released,
        release: () => {
          if (hold === current) hold = undefined;
          open();
        },
      };
      hold = current;
      return { held: () => current.count, release: current.release };
    },

    tokenRequests: () => ({ ...counts }),

    close: () => {
      hold?.release();
      return closeServer(server);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// oidc-provider loading, quietly

let providerModule: Promise<typeof OidcProviderModule> | undefined;

/** Imports oidc-provider once, without its "Unsupported runtime" warning on Node 20. */
async function loadProvider(): Promise<typeof Provider> {
  providerModule ??= (async () => {
    const restore = muteProviderWarnings();
    try {
      return await import("oidc-provider");
    } finally {
      restore();
    }
  })();
  return (await providerModule).default;
}

function withoutProviderWarnings<T>(fn: () => T): T {
  const restore = muteProviderWarnings();
  try {
    return fn();
  } finally {
    restore();
  }
}

/**
 * oidc-provider warns (console.warn, "oidc-provider WARNING: …") about the runtime (Node 20)
 * on import and about devInteractions on construction; both are expected here. Its
 * "default … function called" notices are avoided by configuring those functions.
 */
function muteProviderWarnings(): () => void {
  const { warn } = console;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].startsWith("oidc-provider WARNING:")) return;
    warn.apply(console, args);
  };
  return () => {
    console.warn = warn;
  };
}

async function signingKey(): Promise<Record<string, unknown>> {
  const { privateKey } = await new Promise<{ privateKey: KeyObject }>((resolve, reject) =>
    generateKeyPair("rsa", { modulusLength: 2048 }, (err, _publicKey, privateKey) =>
      err ? reject(err) : resolve({ privateKey }),
    ),
  );
  return { ...privateKey.export({ format: "jwk" }), kid: "test-rs256", alg: "RS256", use: "sig" };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}

function checkRedirectUri(uri: string): string {
  const url = new URL(uri);
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hash) {
    throw new Error(`redirect URI must be an absolute http(s) URL without fragment: ${uri}`);
  }
  return url.href;
}

function withoutQuery(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

function decodeEntities(text: string): string {
  return text
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&#x2F;", "/")
    .replaceAll("&#x3D;", "=")
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&amp;", "&");
}

/** The visible text of an error page, for the error message. */
function pageText(html: string): string {
  const body = /<body[^>]*>([\s\S]*?)<\/body>/i.exec(html)?.[1] ?? html;
  return decodeEntities(
    body
      .replace(/<(script|style|details)[\s\S]*?<\/\1>/gi, " ")
      .replace(/<[^>]+>/g, " ")
      .replace(/\s+/g, " ")
      .trim(),
  ).slice(0, 500);
}

// ---------------------------------------------------------------------------------------------
// A minimal cookie jar: one host, honours Path, Max-Age and Expires (deletion).

class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  store(requestUrl: URL, setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = "", ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = requestUrl.pathname.slice(0, requestUrl.pathname.lastIndexOf("/")) || "/";
      let expired = false;
      for (const attribute of attributes) {
        const [key = "", val = ""] = attribute.split("=", 2).map((s) => s.trim());
        const k = key.toLowerCase();
        if (k === "path" && val.startsWith("/")) path = val;
        if (k === "max-age" && Number(val) <= 0) expired = true;
        if (k === "expires" && Date.parse(val) <= Date.now()) expired = true;
      }
      const key = `${name};${path}`;
      if (expired || value === "") this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  header(url: URL): string {
    return [...this.cookies.values()]
      .filter(
        (c) =>
          url.pathname === c.path ||
          url.pathname.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`),
      )
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");
  }
}

// ---------------------------------------------------------------------------------------------
// In-memory adapter (oidc-provider's adapter contract), one store per server.

class MemoryStore {
  private readonly entries = new Map<string, { payload: AdapterPayload; expiresAt: number }>();

  set(key: string, payload: AdapterPayload, expiresInSeconds?: number): void {
    const expiresAt =
      expiresInSeconds === undefined ? Infinity : Date.now() + expiresInSeconds * 1000;
    this.entries.set(key, { payload: structuredClone(payload), expiresAt });
  }

  /** The stored payload itself (not a copy), if present and not expired. */
  get(key: string): AdapterPayload | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Live keys (`Model:id`) matching a predicate. */
  keys(predicate: (key: string, payload: AdapterPayload) => boolean): string[] {
    return [...this.entries.keys()].filter((key) => {
      const payload = this.get(key);
      return payload !== undefined && predicate(key, payload);
    });
  }

  /** Ids of the live instances of one model. */
  ids(model: string): string[] {
    const prefix = `${model}:`;
    return this.keys((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
  }
}

class MemoryAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly store: MemoryStore,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  private findWhere(predicate: (payload: AdapterPayload) => boolean): AdapterPayload | undefined {
    const [key] = this.store.keys(
      (k, payload) => k.startsWith(`${this.model}:`) && predicate(payload),
    );
    const payload = key === undefined ? undefined : this.store.get(key);
    return payload === undefined ? undefined : structuredClone(payload);
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
    this.store.set(this.key(id), payload, expiresIn);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const payload = this.store.get(this.key(id));
    return payload === undefined ? undefined : structuredClone(payload);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.findWhere((payload) => payload.uid === uid);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.findWhere((payload) => payload.userCode === userCode);
  }

  async consume(id: string): Promise<void> {
    const payload = this.store.get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.store.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const prefix = `${this.model}:`;
    for (const key of this.store.keys((k, p) => k.startsWith(prefix) && p.grantId === grantId)) {
      this.store.delete(key);
    }
  }
}
