export const ORG_ROLES = ["OWNER", "ADMIN", "MEMBER"] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

export const WORKSPACE_ROLES = ["ADMIN", "EDITOR", "VIEWER"] as const;
export type WorkspaceRole = (typeof WORKSPACE_ROLES)[number];

export const PERMISSIONS = [
  "secrets:read",
  "secrets:write",
  "secrets:resolve",
  "oauth:manage",
  "audit:read",
  "admin",
] as const;
export type Permission = (typeof PERMISSIONS)[number];
