"use client";

import { useParams } from "next/navigation";
import { useShell } from "../shell/ShellContext.ts";
import CredentialDetail from "./CredentialDetail.tsx";

export default function WorkspaceCredential() {
  const { workspaceId } = useShell();
  const { secretId } = useParams<{ secretId: string }>();
  return <CredentialDetail secretId={secretId} listHref={`/w/${workspaceId}/credentials`} />;
}
