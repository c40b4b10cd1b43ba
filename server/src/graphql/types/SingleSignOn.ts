import type { SsoConnection } from "../../generated/prisma/client.ts";
import type { ORG_ROLES } from "../../domain/roles.ts";
import { builder } from "../builder.ts";
import { OrgRoleEnum } from "./Organization.ts";

export const SingleSignOnRef = builder
  .objectRef<SsoConnection & { required: boolean; slug: string }>("SingleSignOn")
  .implement({
    description:
      "The organization's OpenID Connect identity provider for console sign-in. Its client secret is never returned.",
    fields: (t) => ({
      issuer: t.exposeString("issuer"),
      clientId: t.exposeString("clientId"),
      emailDomains: t.exposeStringList("emailDomains", {
        description: "Only verified addresses of these domains may sign in through it",
      }),
      defaultRole: t.field({
        type: OrgRoleEnum,
        description: "The role of someone who signs in for the first time without an invitation",
        resolve: (c) => c.defaultRole as (typeof ORG_ROLES)[number],
      }),
      required: t.exposeBoolean("required", {
        description:
          "Members act in the organization only from single sign-on sessions (OWNERs excepted)",
      }),
      organizationSlug: t.exposeString("slug", {
        description: "What members type on the sign-in page's single sign-on step",
      }),
      updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    }),
  });
