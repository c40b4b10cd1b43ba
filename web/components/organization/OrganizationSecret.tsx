"use client";

import { useParams } from "next/navigation";
import CredentialDetail from "../credentials/CredentialDetail.tsx";
import { useShell } from "../shell/ShellContext.ts";

export default function OrganizationSecret() {
  const { organizationId } = useShell();
  const { secretId } = useParams<{ secretId: string }>();
  return <CredentialDetail secretId={secretId} listHref={`/o/${organizationId}/secrets`} />;
}
