import { describe, it } from "vitest";
import { apiTokenDecider } from "../server/src/domain/apiToken/decide.ts";
import { organizationDecider } from "../server/src/domain/organization/decide.ts";
import type { OrganizationEvent } from "../server/src/domain/organization/events.ts";
import { workspaceDecider } from "../server/src/domain/workspace/decide.ts";
import type { WorkspaceEvent } from "../server/src/domain/workspace/events.ts";
import { ConflictError } from "../server/src/errors/ConflictError.ts";
import { NotFoundError } from "../server/src/errors/NotFoundError.ts";
import { ValidationError } from "../server/src/errors/ValidationError.ts";
import { given } from "./testkit/given.ts";

const created: OrganizationEvent = {
  type: "OrganizationCreated",
  data: { organizationId: "o", name: "Acme", slug: "acme", ownerUserId: "u1" },
};

describe("organization", () => {
  it("keeps at least one OWNER", () => {
    given(organizationDecider, [created])
      .when({ type: "RemoveOrgMember", userId: "u1" })
      .thenThrows(ValidationError, /last OWNER/);
    given(organizationDecider, [created])
      .when({ type: "ChangeOrgMemberRole", userId: "u1", role: "ADMIN" })
      .thenThrows(ValidationError, /last OWNER/);
    given(organizationDecider, [
      created,
      { type: "OrgMemberAdded", data: { userId: "u2", role: "OWNER" } },
    ])
      .when({ type: "RemoveOrgMember", userId: "u1" })
      .then([{ type: "OrgMemberRemoved", data: { userId: "u1" } }]);
  });

  it("records role changes with their previous role, and nothing for a no-op", () => {
    const withMember: OrganizationEvent[] = [
      created,
      { type: "OrgMemberAdded", data: { userId: "u2", role: "MEMBER" } },
    ];
    given(organizationDecider, withMember)
      .when({ type: "ChangeOrgMemberRole", userId: "u2", role: "ADMIN" })
      .then([
        { type: "OrgMemberRoleChanged", data: { userId: "u2", from: "MEMBER", to: "ADMIN" } },
      ]);
    given(organizationDecider, withMember)
      .when({ type: "ChangeOrgMemberRole", userId: "u2", role: "MEMBER" })
      .then([]);
    given(organizationDecider, withMember)
      .when({ type: "AddOrgMember", userId: "u2", role: "ADMIN" })
      .thenThrows(ConflictError);
    given(organizationDecider, withMember)
      .when({ type: "RemoveOrgMember", userId: "u3" })
      .thenThrows(NotFoundError);
  });

  it("signs a member out everywhere, and only a member", () => {
    const withMember: OrganizationEvent[] = [
      created,
      { type: "OrgMemberAdded", data: { userId: "u2", role: "MEMBER" } },
    ];
    given(organizationDecider, withMember)
      .when({ type: "EndOrgMemberSessions", userId: "u2" })
      .then([{ type: "OrgMemberSessionsEnded", data: { userId: "u2" } }]);
    given(organizationDecider, withMember)
      .when({ type: "EndOrgMemberSessions", userId: "u3" })
      .thenThrows(NotFoundError);
  });

  it("records a change of the two-factor requirement, and nothing when it is already so", () => {
    const withMember: OrganizationEvent[] = [created];
    const required: OrganizationEvent[] = [
      created,
      { type: "OrganizationMfaRequirementChanged", data: { required: true } },
    ];
    given(organizationDecider, withMember)
      .when({ type: "SetMfaRequirement", required: false })
      .then([]);
    given(organizationDecider, withMember)
      .when({ type: "SetMfaRequirement", required: true })
      .then([{ type: "OrganizationMfaRequirementChanged", data: { required: true } }]);
    given(organizationDecider, required)
      .when({ type: "SetMfaRequirement", required: true })
      .then([]);
    given(organizationDecider, required)
      .when({ type: "SetMfaRequirement", required: false })
      .then([{ type: "OrganizationMfaRequirementChanged", data: { required: false } }]);
  });
});

const wsCreated: WorkspaceEvent[] = [
  {
    type: "WorkspaceCreated",
    data: {
      workspaceId: "w",
      organizationId: "o",
      name: "Main",
      slug: "main",
      awsExternalId: "ext",
    },
  },
  { type: "EnvironmentDeclared", data: { environmentId: "e0", name: "default" } },
];

describe("workspace", () => {
  it("is created with its default environment", () => {
    given(workspaceDecider)
      .when({
        type: "CreateWorkspace",
        workspaceId: "w",
        organizationId: "o",
        name: "Main",
        slug: "main",
        awsExternalId: "ext",
        defaultEnvironmentId: "e0",
      })
      .then(wsCreated);
  });

  it("accepts environment names like AWS account ids and refuses malformed or duplicate ones", () => {
    given(workspaceDecider, wsCreated)
      .when({ type: "DeclareEnvironment", environmentId: "e1", name: "123456789012" })
      .then([{ type: "EnvironmentDeclared", data: { environmentId: "e1", name: "123456789012" } }]);
    given(workspaceDecider, wsCreated)
      .when({ type: "DeclareEnvironment", environmentId: "e1", name: "default" })
      .thenThrows(ConflictError);
    for (const name of ["", "-x", "has space", "x".repeat(65), "ünicode"]) {
      given(workspaceDecider, wsCreated)
        .when({ type: "DeclareEnvironment", environmentId: "e1", name })
        .thenThrows(ValidationError);
    }
  });

  it("never deletes `default`", () => {
    given(workspaceDecider, wsCreated)
      .when({ type: "DeleteEnvironment", name: "default" })
      .thenThrows(ValidationError, /cannot be deleted/);
    given(workspaceDecider, wsCreated)
      .when({ type: "DeleteEnvironment", name: "staging" })
      .thenThrows(NotFoundError);
  });
});

describe("API token", () => {
  const issue = {
    type: "IssueApiToken" as const,
    tokenId: "t",
    organizationId: "o",
    workspaceId: null,
    name: "ci",
    prefix: "coffer_pat_abc",
    expiresAt: null,
    now: new Date("2026-01-01T00:00:00Z"),
  };
  it("deduplicates and sorts permissions, and revokes once", () => {
    given(apiTokenDecider)
      .when({ ...issue, permissions: ["secrets:read", "audit:read", "secrets:read"] })
      .then([
        {
          type: "ApiTokenIssued",
          data: {
            tokenId: "t",
            organizationId: "o",
            workspaceId: null,
            name: "ci",
            permissions: ["audit:read", "secrets:read"],
            prefix: "coffer_pat_abc",
            expiresAt: null,
          },
        },
      ]);
    const issued = [
      {
        type: "ApiTokenIssued" as const,
        data: {
          tokenId: "t",
          organizationId: "o",
          workspaceId: null,
          name: "ci",
          permissions: ["admin" as const],
          prefix: "p",
          expiresAt: null,
        },
      },
    ];
    given(apiTokenDecider, issued)
      .when({ type: "RevokeApiToken", tokenId: "t" })
      .then([{ type: "ApiTokenRevoked", data: { tokenId: "t" } }]);
    given(apiTokenDecider, [...issued, { type: "ApiTokenRevoked", data: { tokenId: "t" } }])
      .when({ type: "RevokeApiToken", tokenId: "t" })
      .then([]);
  });
});
