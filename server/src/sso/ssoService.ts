import { randomBytes } from "node:crypto";
import * as oauth from "oauth4webapi";
import { z } from "zod";
import type { Caller, CoreDeps } from "../CoreDeps.ts";
import { requireOrgAccess, requirePermission } from "../authz/access.ts";
import { sha256Hex } from "../auth/secretTokens.ts";
import { openSession, type OpenedSession } from "../auth/sessions.ts";
import type { Tx } from "../db/database.ts";
import type { OrgRole } from "../domain/roles.ts";
import { ForbiddenError } from "../errors/ForbiddenError.ts";
import { NotFoundError } from "../errors/NotFoundError.ts";
import { UnauthenticatedError } from "../errors/UnauthenticatedError.ts";
import { ValidationError } from "../errors/ValidationError.ts";
import { appendToStream } from "../eventstore/append.ts";
import { inTransaction } from "../eventstore/executeCommand.ts";
import type { EventMetadata } from "../eventstore/types.ts";
import { checkDestination, isLoopbackHttp } from "../net/destinationPolicy.ts";
import type { Egress } from "../net/egress.ts";
import { seal, unseal } from "../oauth/sealedValues.ts";
import { parseInput } from "../tenancy/parseInput.ts";
import { registerUser } from "../tenancy/users.ts";
import { runInvitationCommand } from "../tenancy/invitations.ts";
import { runOrganizationCommand } from "../tenancy/organizations.ts";
import type { Transit } from "../transit/Transit.ts";
import { ssoStream, type SsoEvent } from "../domain/sso/events.ts";

export const SSO_CALLBACK_PATH = "/auth/sso/callback";
/** How long a started sign-in may take at the identity provider. */
const LOGIN_TTL_MS = 10 * 60_000;
/** `amr` values (RFC 8176) that say the identity provider checked a second factor. */
const MFA_METHODS = new Set(["mfa", "otp", "hwk"]);

const configureInput = z.object({
  issuer: z.string().trim().min(1, "must not be empty"),
  clientId: z.string().trim().min(1, "must not be empty").max(255),
  clientSecret: z.string().min(1, "must not be empty").max(4096).optional(),
  emailDomains: z
    .array(
      z
        .string()
        .trim()
        .toLowerCase()
        .regex(
          /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
          "not a domain name",
        ),
    )
    .min(1, "name at least one domain whose addresses may sign in")
    .max(20),
  defaultRole: z.enum(["ADMIN", "MEMBER"]),
  required: z.boolean(),
});

/** The refusal a user sees; the audit event says which rule refused it. */
class SsoRefused extends UnauthenticatedError {
  constructor(
    readonly reason: string,
    message: string,
    readonly email: string | null = null,
  ) {
    super(message);
  }
}

/**
 * Per-organization OpenID Connect single sign-on for the console: authorization code with
 * PKCE and a nonce (oauth4webapi), discovery from the issuer, every request through the
 * egress guard. A sign-in is accepted only for an `email_verified` address of one of the
 * organization's domains; its session acts in that organization only (another tenant's
 * identity provider vouches for nothing else). Someone new is made a member just in time,
 * with the pending invitation's role or the connection's default role.
 */
export function ssoService(
  deps: CoreDeps & {
    transit: Transit;
    egress: Egress;
    publicUrl: () => string;
    sessionTtlMs: number;
  },
) {
  const redirectUri = () => `${deps.publicUrl()}${SSO_CALLBACK_PATH}`;

  const options = (issuer: string) => ({
    [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<string, unknown>) =>
      deps.egress.fetch(url, init as Parameters<Egress["fetch"]>[1]),
    ...(deps.egress.policy.allowLoopback && isLoopbackHttp(issuer)
      ? { [oauth.allowInsecureRequests]: true }
      : {}),
  });

  async function discover(issuer: string): Promise<oauth.AuthorizationServer> {
    const url = new URL(issuer);
    try {
      const response = await oauth.discoveryRequest(url, options(issuer));
      return await oauth.processDiscoveryResponse(url, response);
    } catch (error) {
      throw ValidationError.fromIssues([
        {
          path: "issuer",
          message: `its OpenID configuration could not be read (${error instanceof Error ? error.message : String(error)})`,
        },
      ]);
    }
  }

  const audit = (tx: Tx, organizationId: string, event: SsoEvent, metadata: EventMetadata) =>
    appendToStream(tx, {
      streamId: ssoStream(organizationId),
      organizationId,
      expectedVersion: "any",
      events: [event],
      metadata,
      now: deps.clock(),
    });

  return {
    /**
     * Sets the organization's identity provider (ADMIN or OWNER, signed in). The issuer's
     * discovery document is read first, through the egress guard; the client secret is
     * sealed by transit (kept when omitted on a later change). `required` makes single
     * sign-on the only way members act in the organization (OWNERs keep their password, so
     * a broken identity provider cannot lock everyone out).
     */
    async configure(
      caller: Caller,
      organizationId: string,
      raw: {
        issuer: string;
        clientId: string;
        clientSecret?: string | null | undefined;
        emailDomains: string[];
        defaultRole: OrgRole;
        required: boolean;
      },
    ) {
      const access = await requireOrgAccess(deps.db, caller.actor, organizationId);
      requirePermission(access, "admin", "Setting up single sign-on");
      if (caller.actor.kind !== "user")
        throw new ForbiddenError("Only a signed-in administrator can set up single sign-on");
      const input = parseInput(configureInput, {
        ...raw,
        clientSecret: raw.clientSecret ?? undefined,
      });
      const issuer = checkDestination("issuer", input.issuer, deps.egress.policy).replace(
        /\/$/,
        "",
      );
      const existing = await deps.db.ssoConnection.findUnique({ where: { organizationId } });
      if (!existing && !input.clientSecret)
        throw ValidationError.fromIssues([{ path: "clientSecret", message: "must not be empty" }]);
      await discover(issuer);
      const [sealed] = input.clientSecret
        ? await seal(deps.transit, organizationId, [
            {
              ownerId: ssoStream(organizationId),
              field: "client_secret",
              value: input.clientSecret,
            },
          ])
        : [existing!.clientSecretCiphertext];
      const emailDomains = [...new Set(input.emailDomains)].sort();
      await inTransaction(deps.db, async (tx) => {
        const now = deps.clock();
        const data = {
          issuer,
          clientId: input.clientId,
          clientSecretCiphertext: sealed!,
          emailDomains,
          defaultRole: input.defaultRole,
          updatedAt: now,
        };
        await tx.ssoConnection.upsert({
          where: { organizationId },
          create: { organizationId, ...data, createdAt: now },
          update: data,
        });
        await tx.organization.update({
          where: { id: organizationId },
          data: { ssoRequired: input.required },
        });
        await audit(
          tx,
          organizationId,
          {
            type: "SsoConfigured",
            data: {
              issuer,
              clientId: input.clientId,
              emailDomains,
              defaultRole: input.defaultRole,
              required: input.required,
            },
          },
          caller.metadata,
        );
      });
    },

    /** Removes the identity provider; members sign in with passwords again. */
    async remove(caller: Caller, organizationId: string) {
      const access = await requireOrgAccess(deps.db, caller.actor, organizationId);
      requirePermission(access, "admin", "Removing single sign-on");
      await inTransaction(deps.db, async (tx) => {
        const { count } = await tx.ssoConnection.deleteMany({ where: { organizationId } });
        if (count === 0) throw new NotFoundError("Single sign-on");
        await tx.organization.update({
          where: { id: organizationId },
          data: { ssoRequired: false },
        });
        await audit(tx, organizationId, { type: "SsoRemoved", data: {} }, caller.metadata);
      });
    },

    /**
     * Starts a sign-in for the organization with this slug: the identity provider's
     * authorization URL, and the browser binding to keep in a cookie (only its hash is
     * stored). An organization without single sign-on is NotFound, like a missing one.
     */
    async start(organizationSlug: string) {
      const org = await deps.db.organization.findFirst({
        where: { slug: organizationSlug.trim().toLowerCase(), deletedAt: null },
        select: { id: true, sso: true },
      });
      if (!org?.sso) throw new NotFoundError("Single sign-on for this organization");
      const as = await discover(org.sso.issuer);
      if (!as.authorization_endpoint)
        throw new ValidationError("The identity provider has no authorization endpoint");
      const state = oauth.generateRandomState();
      const nonce = oauth.generateRandomNonce();
      const codeVerifier = oauth.generateRandomCodeVerifier();
      const browser = randomBytes(32).toString("base64url");
      const now = deps.clock();
      await deps.db.ssoLogin.create({
        data: {
          id: deps.newId(),
          stateHash: sha256Hex(state),
          browserHash: sha256Hex(browser),
          organizationId: org.id,
          codeVerifier,
          nonce,
          createdAt: now,
          expiresAt: new Date(now.getTime() + LOGIN_TTL_MS),
        },
      });
      const url = new URL(as.authorization_endpoint);
      url.searchParams.set("client_id", org.sso.clientId);
      url.searchParams.set("redirect_uri", redirectUri());
      url.searchParams.set("response_type", "code");
      url.searchParams.set("scope", "openid email profile");
      url.searchParams.set("state", state);
      url.searchParams.set("nonce", nonce);
      url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier));
      url.searchParams.set("code_challenge_method", "S256");
      return { authorizationUrl: url.href, browser, maxAgeSeconds: LOGIN_TTL_MS / 1000 };
    },

    /**
     * The identity provider's redirect, completed by the browser that started it: the state
     * is single-use, unexpired and bound to that browser; the code is exchanged with the
     * PKCE verifier and the ID token checked (issuer, audience, nonce, expiry). Refusals are
     * recorded in the organization's log as SsoSignInRefused.
     */
    async complete(
      callback: URLSearchParams,
      browser: string | undefined,
      metadata: Omit<EventMetadata, "actor">,
    ): Promise<OpenedSession & { organizationId: string }> {
      const state = callback.get("state") ?? "";
      const now = deps.clock();
      const login = state
        ? await deps.db.ssoLogin.findUnique({ where: { stateHash: sha256Hex(state) } })
        : null;
      // Consume the state first (single use), whatever happens next.
      const consumed =
        login && browser && sha256Hex(browser) === login.browserHash
          ? await deps.db.ssoLogin.updateMany({
              where: { id: login.id, usedAt: null, expiresAt: { gt: now } },
              data: { usedAt: now },
            })
          : { count: 0 };
      if (!login || consumed.count !== 1)
        throw new UnauthenticatedError(
          "This sign-in is unknown, expired, already used, or was started in another browser; start again",
        );
      const organizationId = login.organizationId;
      const asSystem: EventMetadata = { ...metadata, actor: { kind: "system", id: "sso" } };
      try {
        return await finishSignIn(organizationId, callback, state, login, metadata);
      } catch (error) {
        if (error instanceof SsoRefused)
          await inTransaction(deps.db, (tx) =>
            audit(
              tx,
              organizationId,
              { type: "SsoSignInRefused", data: { reason: error.reason, email: error.email } },
              asSystem,
            ),
          );
        throw error;
      }
    },
  };

  /** The checks and the session, once the state was consumed (complete's second half). */
  async function finishSignIn(
    organizationId: string,
    callback: URLSearchParams,
    state: string,
    login: { codeVerifier: string; nonce: string },
    metadata: Omit<EventMetadata, "actor">,
  ): Promise<OpenedSession & { organizationId: string }> {
    const connection = await deps.db.ssoConnection.findUnique({ where: { organizationId } });
    if (!connection)
      throw new SsoRefused("removed", "Single sign-on was turned off for this organization");
    const as = await discover(connection.issuer);
    const client: oauth.Client = { client_id: connection.clientId };
    const [secret] = await unseal(deps.transit, organizationId, [
      {
        ciphertext: connection.clientSecretCiphertext,
        ownerId: ssoStream(organizationId),
        field: "client_secret",
      },
    ]);
    let claims: Record<string, unknown> & { sub: string };
    try {
      const params = oauth.validateAuthResponse(as, client, callback, state);
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.ClientSecretBasic(secret!),
        params,
        redirectUri(),
        login.codeVerifier,
        options(connection.issuer),
      );
      const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
        expectedNonce: login.nonce,
        requireIdToken: true,
      });
      // Beyond what OpenID Connect requires for a token from the token endpoint: the ID
      // token's signature against the provider's JWKS (fetched through the egress guard),
      // so an issuer reached over a network Coffer does not trust cannot forge one.
      await oauth.validateApplicationLevelSignature(as, response, options(connection.issuer));
      const idToken = oauth.getValidatedIdTokenClaims(result)!;
      claims = { ...idToken };
      // Many providers put the email claims in UserInfo only: ask it, for the same subject.
      if (typeof idToken.email !== "string" && as.userinfo_endpoint) {
        const info = await oauth.processUserInfoResponse(
          as,
          client,
          idToken.sub,
          await oauth.userInfoRequest(as, client, result.access_token, options(connection.issuer)),
        );
        claims = { ...info, ...idToken, email: info.email, email_verified: info.email_verified };
      }
    } catch (error) {
      const code =
        error instanceof oauth.AuthorizationResponseError ||
        error instanceof oauth.ResponseBodyError
          ? error.error
          : "invalid_response";
      throw new SsoRefused(
        "identity_provider",
        `The identity provider did not sign you in (${code}); try again or ask your administrator`,
      );
    }
    const email = typeof claims.email === "string" ? claims.email.trim().toLowerCase() : null;
    if (!email)
      throw new SsoRefused("no_email", "The identity provider did not give your email address");
    if (claims.email_verified !== true)
      throw new SsoRefused(
        "email_unverified",
        "The identity provider has not verified your email address",
        email,
      );
    const domain = email.slice(email.lastIndexOf("@") + 1);
    if (!connection.emailDomains.includes(domain))
      throw new SsoRefused(
        "domain",
        `${email} is not an address of this organization's domains`,
        email,
      );
    const amr = Array.isArray(claims.amr) ? (claims.amr as unknown[]) : [];
    const mfa = amr.some((m) => typeof m === "string" && MFA_METHODS.has(m));
    const name = typeof claims.name === "string" && claims.name.trim() ? claims.name.trim() : null;
    return inTransaction(deps.db, async (tx) => {
      const userId = await userFor(tx, {
        organizationId,
        issuer: connection.issuer,
        subject: claims.sub,
        email,
        name: name ?? email.split("@")[0]!,
        metadata,
      });
      const asUser: EventMetadata = { ...metadata, actor: { kind: "user", id: userId } };
      await joinIfNew(tx, organizationId, userId, email, connection.defaultRole as OrgRole, asUser);
      const session = await openSession(tx, deps, {
        userId,
        ttlMs: deps.sessionTtlMs,
        mfaVerified: mfa,
        method: "sso",
        metadata: asUser,
        ssoOrganizationId: organizationId,
      });
      return { ...session, organizationId };
    });
  }

  /** The identity's user; else the account with that address (linked); else a new account. */
  async function userFor(
    tx: Tx,
    input: {
      organizationId: string;
      issuer: string;
      subject: string;
      email: string;
      name: string;
      metadata: Omit<EventMetadata, "actor">;
    },
  ): Promise<string> {
    const key = {
      organizationId: input.organizationId,
      issuer: input.issuer,
      subject: input.subject,
    };
    const identity = await tx.ssoIdentity.findUnique({
      where: { organizationId_issuer_subject: key },
    });
    if (identity) return identity.userId;
    const now = deps.clock();
    let user = await tx.user.findUnique({ where: { email: input.email }, select: { id: true } });
    if (!user) {
      const id = deps.newId();
      await registerUser(tx, {
        userId: id,
        email: input.email,
        name: input.name,
        password: null,
        metadata: { ...input.metadata, actor: { kind: "system", id: "sso" } },
        now,
      });
      user = { id };
    }
    await tx.ssoIdentity.create({ data: { ...key, userId: user.id, createdAt: now } });
    return user.id;
  }

  /** Just-in-time membership: the pending invitation's role, else the default role. */
  async function joinIfNew(
    tx: Tx,
    organizationId: string,
    userId: string,
    email: string,
    defaultRole: OrgRole,
    metadata: EventMetadata,
  ) {
    const member = await tx.orgMember.findUnique({
      where: { organizationId_userId: { organizationId, userId } },
      select: { role: true },
    });
    if (member) return;
    const now = deps.clock();
    const invitation = await tx.invitation.findFirst({
      where: { organizationId, email, status: "PENDING", expiresAt: { gt: now } },
    });
    if (invitation)
      await runInvitationCommand(tx, {
        organizationId,
        invitationId: invitation.id,
        command: {
          type: "AcceptInvitation",
          invitationId: invitation.id,
          userId,
          email,
          via: "sso",
          now,
        },
        metadata,
        now,
      });
    const role = (invitation?.role as OrgRole | undefined) ?? defaultRole;
    await runOrganizationCommand(
      tx,
      organizationId,
      { type: "AddOrgMember", userId, role },
      metadata,
      now,
    );
  }
}

export type SsoService = ReturnType<typeof ssoService>;
