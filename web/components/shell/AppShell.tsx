"use client";

import Link from "next/link";
import { useParams, usePathname, useRouter } from "next/navigation";
import { useEffect, useMemo, useState, type ReactNode } from "react";
import { request } from "../../lib/graphql.ts";
import { toLocalId } from "../../lib/ids.ts";
import { SIGN_OUT, VIEWER, type ViewerOrganization } from "../../lib/operations.ts";
import { useQuery } from "../../lib/useQuery.ts";
import { EmptyState } from "../ui/EmptyState.tsx";
import { Loading } from "../ui/Loading.tsx";
import { QueryError } from "../ui/QueryError.tsx";
import styles from "./AppShell.module.css";
import { ShellContext, type Shell } from "./ShellContext.ts";

/**
 * The signed-in frame of every page: organization and workspace switchers, navigation, the
 * user and sign-out. It loads the viewer once; a missing session sends the person to sign in.
 */
export function AppShell({ children }: { children: ReactNode }) {
  const params = useParams<{ workspaceId?: string; organizationId?: string }>();
  const pathname = usePathname();
  const router = useRouter();
  const viewer = useQuery(VIEWER, {});
  const [signingOut, setSigningOut] = useState(false);

  useEffect(() => {
    if (viewer.error?.code === "UNAUTHENTICATED")
      router.replace(`/?next=${encodeURIComponent(pathname)}`);
  }, [viewer.error, pathname, router]);

  const current = useMemo(() => {
    const organizations = viewer.data?.viewer.organizations ?? [];
    if (params.workspaceId) {
      const organization = organizations.find((o) =>
        o.workspaces.edges.some((e) => toLocalId(e.node.id) === params.workspaceId),
      );
      return organization ? { organization, workspaceId: params.workspaceId } : undefined;
    }
    const organization = organizations.find((o) => toLocalId(o.id) === params.organizationId);
    return organization ? { organization, workspaceId: undefined } : undefined;
  }, [viewer.data, params.workspaceId, params.organizationId]);

  if (viewer.error && !viewer.data)
    return (
      <div className={styles.centered}>
        <div style={{ maxWidth: "32rem" }}>
          <QueryError error={viewer.error} retry={viewer.reload} />
        </div>
      </div>
    );
  if (!viewer.data)
    return (
      <div className={styles.centered}>
        <Loading label="Loading the console…" />
      </div>
    );

  async function signOut() {
    setSigningOut(true);
    try {
      await request(SIGN_OUT);
    } finally {
      // The cookie is gone (or was already); either way the sign-in page is next.
      window.location.assign("/");
    }
  }

  const { user, organizations } = viewer.data.viewer;
  const shell: Shell | null = current
    ? {
        viewer: viewer.data.viewer,
        organization: current.organization,
        organizationId: toLocalId(current.organization.id),
        workspaceId: current.workspaceId,
        reload: viewer.reload,
      }
    : null;

  return (
    <div className={styles.shell}>
      <a href="#main" className={styles.skip}>
        Skip to content
      </a>
      <aside className={styles.sidebar} aria-label="Console navigation">
        <Link href="/" className={styles.brand}>
          <span className={styles.logo} aria-hidden="true">
            C
          </span>
          Coffer
        </Link>
        <Switchers
          organizations={organizations}
          organization={current?.organization}
          workspaceId={current?.workspaceId}
          onNavigate={(href) => router.push(href)}
        />
        {shell ? <Navigation shell={shell} pathname={pathname} /> : null}
        <div className={styles.footer}>
          <span className={styles.user} title={user?.email}>
            {user?.name || user?.email}
          </span>
          {current?.organization.viewerRole ? (
            <span className={styles.role}>
              {roleLabel(current.organization.viewerRole)} of {current.organization.name}
            </span>
          ) : null}
          <button type="button" className={styles.signOut} onClick={signOut} disabled={signingOut}>
            {signingOut ? "Signing out…" : "Sign out"}
          </button>
        </div>
      </aside>
      <main id="main" className={styles.main} tabIndex={-1}>
        <div className={styles.content}>
          {shell ? (
            <ShellContext.Provider value={shell}>{children}</ShellContext.Provider>
          ) : (
            <EmptyState title="Not found">
              This workspace or organization does not exist, or you are not a member of it. Pick one
              from the switcher on the left.
            </EmptyState>
          )}
        </div>
      </main>
    </div>
  );
}

function roleLabel(role: string): string {
  return role.charAt(0) + role.slice(1).toLowerCase();
}

function Switchers({
  organizations,
  organization,
  workspaceId,
  onNavigate,
}: {
  organizations: ViewerOrganization[];
  organization: ViewerOrganization | undefined;
  workspaceId: string | undefined;
  onNavigate: (href: string) => void;
}) {
  const workspaces = organization?.workspaces.edges.map((e) => e.node) ?? [];
  return (
    <>
      <div className={styles.switcher}>
        <label htmlFor="organization-switcher">Organization</label>
        <select
          id="organization-switcher"
          value={organization ? toLocalId(organization.id) : ""}
          onChange={(event) => {
            const next = organizations.find((o) => toLocalId(o.id) === event.target.value);
            if (next) onNavigate(homeOf(next));
          }}
        >
          {organization ? null : <option value="">Choose…</option>}
          {organizations.map((o) => (
            <option key={o.id} value={toLocalId(o.id)}>
              {o.name}
            </option>
          ))}
        </select>
      </div>
      <div className={styles.switcher}>
        <label htmlFor="workspace-switcher">Workspace</label>
        <select
          id="workspace-switcher"
          value={workspaceId ?? ""}
          disabled={workspaces.length === 0}
          onChange={(event) => {
            if (event.target.value) onNavigate(`/w/${event.target.value}/credentials`);
          }}
        >
          {workspaceId ? null : (
            <option value="">{workspaces.length ? "Choose a workspace…" : "No workspaces"}</option>
          )}
          {workspaces.map((w) => (
            <option key={w.id} value={toLocalId(w.id)}>
              {w.name}
            </option>
          ))}
        </select>
      </div>
    </>
  );
}

/** Where an organization opens: its first workspace's credentials, else its overview. */
export function homeOf(organization: ViewerOrganization): string {
  const first = organization.workspaces.edges[0]?.node;
  return first ? `/w/${toLocalId(first.id)}/credentials` : `/o/${toLocalId(organization.id)}`;
}

function Navigation({ shell, pathname }: { shell: Shell; pathname: string }) {
  const org = `/o/${shell.organizationId}`;
  const lastWorkspace = shell.workspaceId ?? firstWorkspaceId(shell.organization);
  const ws = lastWorkspace ? `/w/${lastWorkspace}` : undefined;
  const link = (href: string, label: string, exact = false) => {
    const active = exact ? pathname === href : pathname === href || pathname.startsWith(`${href}/`);
    return (
      <Link
        key={href}
        href={href}
        className={styles.navLink}
        aria-current={active ? "page" : undefined}
      >
        {label}
      </Link>
    );
  };
  return (
    <nav className={styles.nav} aria-label="Sections">
      {ws ? (
        <>
          <p className={styles.navHeading}>Workspace</p>
          {link(`${ws}/credentials`, "Credentials")}
          {link(`${ws}/environments`, "Environments")}
          {link(`${ws}/oauth`, "OAuth connections")}
          {link(`${ws}/members`, "Workspace members")}
        </>
      ) : null}
      <p className={styles.navHeading}>Organization</p>
      {link(org, "Overview", true)}
      {link(`${org}/secrets`, "Organization secrets")}
      {link(`${org}/members`, "Members")}
      {link(`${org}/sso`, "Single sign-on")}
      {link(`${org}/tokens`, "API tokens")}
      {link(`${org}/webhooks`, "Webhooks")}
      {link(`${org}/audit`, "Audit log")}
      <p className={styles.navHeading}>You</p>
      {link(`${org}/account`, "Your account")}
    </nav>
  );
}

function firstWorkspaceId(organization: ViewerOrganization): string | undefined {
  const first = organization.workspaces.edges[0]?.node;
  return first ? toLocalId(first.id) : undefined;
}
